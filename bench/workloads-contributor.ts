// One headless contributor for the workloads bench (scripts/bench.mjs --only workloads), in a
// process of its own so that its CPU engine's one thread is its own (the engine computes on the
// calling thread): `node dist-bench-node/workloads/workloads-contributor.js --relay ADDR
// --data DIR --budget 0.4 --preload minilm,smollm2:30`. It loads the bench's checkpoints itself
// (the same seeded bytes the owner holds, so the same digests) and starts switched off; stdin
// lines `on` / `off` switch contributing. One JSON line per event on stdout.
import '../src/relay/polyfills';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { contribute } from '../src/headless/contribute';
import type { ShardOutcome } from '../src/mesh/shard-contributor';
import { createComputeApi } from '../src/worker/api';
import { type BenchModelName, benchCheckpointFiles } from './models-checkpoints';
import { benchWeightsAs } from './workloads-models';

const { values } = parseArgs({
  options: {
    relay: { type: 'string' },
    data: { type: 'string' },
    budget: { type: 'string', default: '0.4' },
    preload: { type: 'string', default: '' },
  },
});
const emit = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
// One CPU-engine thread: the caller's own, no helpers.
const engine = createComputeApi({ engine: 'cpu', cpu: { threads: 1 } });
for (const item of values.preload!.split(',').filter(Boolean)) {
  const [name, layers] = item.split(':');
  const { files } = benchCheckpointFiles(name as BenchModelName, 1, Number(layers) || undefined);
  const info = await engine.loadModel(Object.fromEntries(benchWeightsAs(files, name!)));
  emit({ type: 'loaded', model: name, digest: info.digest });
}
const c = await contribute({
  relays: [values.relay!],
  budget: Number(values.budget),
  engine,
  use: 'cpu',
  dataDir: values.data!,
  market: false,
  log: () => {},
});
c.mesh.setContributing(false);
let computeMs = 0;
c.mesh.addEventListener('outcome', (e) => {
  const o = (e as CustomEvent<ShardOutcome>).detail;
  computeMs += o.computeMs;
  emit({ type: 'outcome', accepted: o.accepted, computeMs: o.computeMs, total: computeMs });
});
const stop = async () => {
  await c.stop().catch(() => {});
  await engine.dispose();
  process.exit(0);
};
createInterface({ input: process.stdin })
  .on('line', (line) => {
    if (line === 'on' || line === 'off') {
      c.mesh.setContributing(line === 'on');
      emit({ type: line, peer: c.peerId });
    }
  })
  // The bench that started it is gone.
  .on('close', () => void stop());
emit({ type: 'ready', peer: c.peerId, gflops: c.gflops, adapter: c.adapter });
process.on('SIGTERM', () => void stop());
