import { test } from 'vitest';
import { GpuContext } from '../../src/gpu/context';
import { Matmul, type TileConfig } from '../../src/gpu/matmul';
import { matmulF64, checkElementwise } from '../../src/gpu/reference';

test('perf', async () => {
  const ctx = await GpuContext.create();
  console.log(ctx.summary);
  const n = Number(process.env.N ?? 256);
  const a = Float32Array.from({ length: n * n }, () => Math.random() * 2 - 1);
  const b = Float32Array.from({ length: n * n }, () => Math.random() * 2 - 1);
  const tiles: TileConfig[] = JSON.parse(process.env.TILES ?? '[{"wgX":16,"wgY":16,"tm":4,"tn4":1,"tk":16}]');
  const ex = n <= 256 ? matmulF64(a, b, { m: n, k: n, n }) : undefined;
  const abs = n <= 256 ? matmulF64(a, b, { m: n, k: n, n }, true) : undefined;
  for (const t of tiles) {
    const mm = new Matmul(ctx, t);
    const p = await mm.prepare(a, b, { m: n, k: n, n });
    const c0 = await p.run();
    if (ex) console.log('check', checkElementwise(c0, ex, abs!, n));
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      await p.run();
      times.push(performance.now() - t0);
    }
    times.sort((x, y) => x - y);
    console.log(JSON.stringify(t), 'ms', times[1]!.toFixed(1), 'GFLOP/s', ((2 * n ** 3) / times[1]! / 1e6).toFixed(2));
    p.dispose();
  }
  ctx.destroy();
});
