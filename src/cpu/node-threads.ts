import { Worker } from 'node:worker_threads';
import type { SpawnHelper } from './pool';

/** Helper threads for the CPU engine in Node (the headless contributor, tests). */
export const spawnNodeHelper: SpawnHelper = (source) => {
  const w = new Worker(source, { eval: true });
  w.unref(); // an idle helper never keeps the process alive
  return {
    post: (m) => w.postMessage(m),
    onMessage: (f) => w.on('message', f),
    terminate: () => void w.terminate(),
  };
};
