// A swarm of headless contributors in one Node process, for the scale bench (scripts/bench.mjs
// --only scale): `node dist-bench-node/scale-swarm.js --relays a,b,c --count 10 --data DIR`.
// They share one Dawn device (one process, one GPU) but each is its own peer: its own key,
// libp2p node, WebRTC connections, relay reservations, ledger. One JSON line per event.
import '../src/relay/polyfills';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_TILE } from '../src/gpu/matmul';
import { contribute, type HeadlessContributor } from '../src/headless/contribute';
import type { AnnouncementMsg } from '../src/mesh/codec';
import type { ShardOutcome } from '../src/mesh/shard-contributor';
import { createComputeApi } from '../src/worker/api';

const { values } = parseArgs({
  options: {
    relays: { type: 'string' },
    count: { type: 'string', default: '10' },
    budget: { type: 'string', default: '0.5' },
    gflops: { type: 'string', default: '10' },
    data: { type: 'string' },
    market: { type: 'string', default: '1' },
  },
});
const emit = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
const engine = createComputeApi({ tile: DEFAULT_TILE });
// Shard bytes as the contributors see them: inputs received, results sent.
let shardBytes = 0;
const counted = {
  ...engine,
  matmul: async (
    a: Float32Array,
    b: Float32Array,
    shape: Parameters<typeof engine.matmul>[2],
  ): Promise<Float32Array> => {
    const c = await engine.matmul(a, b, shape);
    shardBytes += a.byteLength + b.byteLength + c.byteLength;
    return c;
  },
};
const swarm: HeadlessContributor[] = [];
for (let i = 0; i < Number(values.count); i++) {
  const c = await contribute({
    relays: values.relays!.split(','),
    budget: Number(values.budget),
    gflops: Number(values.gflops),
    engine: counted,
    dataDir: join(values.data!, String(i)),
    market: values.market !== '0',
    log: () => {},
  });
  const heard = new Set<string>();
  c.mesh.addEventListener('announced', (e) => {
    for (const a of (e as CustomEvent<AnnouncementMsg[]>).detail) {
      if (heard.has(a.jobId)) continue;
      heard.add(a.jobId);
      emit({ type: 'heard', peer: c.peerId, jobId: a.jobId, at: Date.now() });
    }
  });
  c.mesh.addEventListener('outcome', (e) => {
    const o = (e as CustomEvent<ShardOutcome>).detail;
    emit({ type: 'outcome', peer: c.peerId, accepted: o.accepted, computeMs: o.computeMs });
  });
  swarm.push(c);
  emit({ type: 'ready', peer: c.peerId, relays: c.mesh.snapshot().relays });
}
setInterval(() => emit({ type: 'bytes', shardBytes }), 500);
emit({ type: 'all-ready', count: swarm.length });
process.on('SIGTERM', async () => {
  await Promise.allSettled(swarm.map((c) => c.stop()));
  emit({ type: 'stopped', shardBytes });
  process.exit(0);
});
