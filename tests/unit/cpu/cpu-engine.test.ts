// The CPU engine (assembly/kernels.ts through src/cpu) on this machine's WebAssembly: the same
// float32 error bounds and the same verifier as the GPU kernels, one thread and several. Models
// on the CPU engine: tests/unit/model/hf-run-cpu.test.ts.
import { afterAll, describe, expect, test } from 'vitest';
import { CpuKernels } from '../../../src/cpu/kernels';
import { spawnNodeHelper } from '../../../src/cpu/node-threads';
import { freivalds } from '../../../src/jobs/freivalds';
import { checkElementwise, matmulF64 } from '../../../src/reference/matmul';
import { randomMatrix } from '../../support/gpu-fixture';

const engines = new Map<number, Promise<CpuKernels>>();
const engine = (threads: number) => {
  let e = engines.get(threads);
  if (!e) {
    // minWorkPerThread 0: helpers take part at these small shapes, so the tests exercise them.
    e = CpuKernels.create({ threads, spawn: spawnNodeHelper, minWorkPerThread: 0 });
    engines.set(threads, e);
  }
  return e;
};
afterAll(async () => {
  for (const e of engines.values()) (await e).dispose();
});

/** Worst |C − exact| ÷ γ_K·(|A||B|) over every element: ≤ 1 is inside float32's bound. */
function worstRatio(
  c: Float32Array,
  a: Float32Array,
  b: Float32Array,
  m: number,
  k: number,
  n: number,
) {
  const shape = { m, k, n };
  return checkElementwise(c, matmulF64(a, b, shape), matmulF64(a, b, shape, true), k).worstRatio;
}

describe.each([1, 2, 3])('CPU matmul, %i thread(s)', (threads) => {
  test.each([
    [1, 1, 1],
    [5, 3, 7],
    [4, 8, 8],
    [33, 300, 17],
    [130, 257, 129], // past one packed block of A (128 rows) and of K (256)
    [257, 600, 96],
  ])('C = A·B within float32 bounds and accepted by Freivalds (%i×%i×%i)', async (m, k, n) => {
    const cpu = await engine(threads);
    expect(cpu.summary.threads).toBe(threads);
    const a = randomMatrix(m * k, m + k);
    const b = randomMatrix(k * n, k + n);
    const c = await cpu.matmul(a, b, { m, k, n });
    expect(c.length).toBe(m * n);
    expect(worstRatio(c, a, b, m, k, n)).toBeLessThanOrEqual(1);
    const block = { row0: 0, rows: m, col0: 0, cols: n };
    expect(freivalds({ a, b, m, k, n }, block, c).accepted).toBe(true);
  });
});

test('threads split rows only: 1, 2 and 3 threads give bit-identical products', async () => {
  const [m, k, n] = [97, 513, 70];
  const a = randomMatrix(m * k, 1);
  const b = randomMatrix(k * n, 2);
  const one = await (await engine(1)).matmul(a, b, { m, k, n });
  expect(await (await engine(2)).matmul(a, b, { m, k, n })).toEqual(one);
  expect(await (await engine(3)).matmul(a, b, { m, k, n })).toEqual(one);
});

test('a wrong CPU product is rejected by the same verifier', async () => {
  const [m, k, n] = [64, 256, 64];
  const a = randomMatrix(m * k, 3);
  const b = randomMatrix(k * n, 4);
  const c = await (await engine(2)).matmul(a, b, { m, k, n });
  c[17 * n + 5]! += 0.01;
  expect(freivalds({ a, b, m, k, n }, { row0: 0, rows: m, col0: 0, cols: n }, c).accepted).toBe(
    false,
  );
});

test('bad shapes are typed errors, and calls queued together do not share memory', async () => {
  const cpu = await engine(2);
  await expect(
    cpu.matmul(new Float32Array(6), new Float32Array(6), { m: 2, k: 2, n: 3 }),
  ).rejects.toMatchObject({ name: 'CpuError', code: 'invalid-argument' });
  await expect(
    cpu.matmul(new Float32Array(1), new Float32Array(1), { m: 1, k: 0.5, n: 1 }),
  ).rejects.toMatchObject({ code: 'invalid-argument' });
  const big = 1 << 15;
  await expect(
    cpu.matmul(new Float32Array(big * 4), new Float32Array(4 * big), { m: big, k: 4, n: big }),
  ).rejects.toMatchObject({ code: 'too-large' });
  // Many calls at once: each gets its own stack frame, every answer right.
  const problems = Array.from({ length: 6 }, (_, i) => ({
    a: randomMatrix(20 * 30, 10 + i),
    b: randomMatrix(30 * (10 + i), 20 + i),
    n: 10 + i,
  }));
  const cs = await Promise.all(problems.map((p) => cpu.matmul(p.a, p.b, { m: 20, k: 30, n: p.n })));
  for (const [i, p] of problems.entries())
    expect(worstRatio(cs[i]!, p.a, p.b, 20, 30, p.n)).toBeLessThanOrEqual(1);
});

test('helper threads that cannot start (a CSP forbidding blob: Workers) leave one thread computing', async () => {
  const cpu = await CpuKernels.create({
    threads: 2,
    spawn: () => {
      throw new Error('blocked by the page');
    },
  });
  try {
    expect(cpu.summary.threads).toBe(1);
    const [m, k, n] = [9, 300, 13];
    const a = randomMatrix(m * k, 5);
    const b = randomMatrix(k * n, 6);
    expect(worstRatio(await cpu.matmul(a, b, { m, k, n }), a, b, m, k, n)).toBeLessThanOrEqual(1);
  } finally {
    cpu.dispose();
  }
});

test('a helper the OS never runs holds nothing up: the other threads claim its share, products exact to the bound', async () => {
  // The first helper starts, says it is ready, then never wakes for work again (as a thread
  // descheduled by a busy machine would look, for ever). Before, every call waited for it.
  let spawned = 0;
  const cpu = await CpuKernels.create({
    threads: 3,
    minWorkPerThread: 0, // every call wakes the helpers, the stuck one included
    spawn: (source) =>
      spawnNodeHelper(
        spawned++ === 0
          ? source.replace(
              'Atomics.wait(i32, base, seen);',
              'Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);',
            )
          : source,
      ),
  });
  try {
    expect(cpu.summary.threads).toBe(3);
    for (const [m, k, n, seed] of [
      [97, 64, 40, 1],
      [256, 128, 96, 2],
      [33, 300, 130, 3],
    ]) {
      const a = randomMatrix(m! * k!, seed!);
      const b = randomMatrix(k! * n!, seed! + 10);
      const c = await cpu.matmul(a, b, { m: m!, k: k!, n: n! });
      expect(worstRatio(c, a, b, m!, k!, n!)).toBeLessThanOrEqual(1);
      // Bit-identical to one thread: chunks split rows, never a sum.
      const one = await engine(1);
      expect(c).toEqual(await one.matmul(a, b, { m: m!, k: k!, n: n! }));
    }
  } finally {
    cpu.dispose();
  }
});
