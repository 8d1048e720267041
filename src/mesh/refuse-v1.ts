import type { Connection, Stream } from '@libp2p/interface';
import { lpStream } from '@libp2p/utils';
import { log, notice } from '../log/log';
import { asStreamError, describeStreamError } from '../wire/stream-errors';
import { v1Finished, v1WorkRequestJob } from './codec';
import { SHARD_PROTOCOL, SHARD_PROTOCOL_V1 } from './topics';

const trace = log('mesh:owner');

/** How long a version-1 contributor's stream waits for its first frame (ms). */
const V1_READ_TIMEOUT_MS = 10_000;

/**
 * A version-1 contributor (matmul-only frames) is answered in its own format that the job is
 * finished, so it stops asking instead of retrying, and the refusal is noticed with its id;
 * `refused` is told once it has been answered.
 */
export async function refuseV1(
  stream: Stream,
  conn: Connection,
  refused: (peer: string) => void,
): Promise<void> {
  const peer = conn.remotePeer.toString();
  const lp = lpStream(stream, { maxDataLength: 64 * 1024 });
  try {
    const first = await lp.read({ signal: AbortSignal.timeout(V1_READ_TIMEOUT_MS) });
    const jobId = v1WorkRequestJob(first);
    if (jobId) await lp.write(v1Finished(jobId));
    notice(
      `${peer} speaks ${SHARD_PROTOCOL_V1}; refused (this tab speaks ${SHARD_PROTOCOL}: the other tab should reload)`,
    );
    refused(peer);
    await stream.close();
  } catch (e) {
    trace('v1 stream from %s ended: %s', peer, describeStreamError(e));
    stream.abort(asStreamError(e));
  }
}
