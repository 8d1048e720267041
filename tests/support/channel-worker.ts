import * as Comlink from 'comlink';
import '../../src/worker/comlink-errors';
import type { LocalCompute } from '../../src/worker/local-api';
import { serveCompute } from '../../src/worker/serve';
import type { ComputeSpawnOptions } from '../../src/worker/spawn';

/**
 * A compute "Worker" in this thread: what the Worker entry serves for `api`, behind a real
 * MessageChannel (comlink, structured clone and transfer as between threads; a transferred
 * buffer is detached). `terminate()` closes the channel; `api` stays the caller's to dispose.
 */
export function channelWorker(api: LocalCompute, options: ComputeSpawnOptions = {}): Worker {
  const { port1, port2 } = new MessageChannel();
  Comlink.expose(serveCompute(api, options), port2);
  return Object.assign(port1, {
    terminate() {
      port1.close();
    },
  }) as unknown as Worker;
}
