// The CPU engine's thread rule and its helpers on a busy machine, with real Node helper threads:
// calls too small to pay for a helper run on the owner alone; a helper that never wakes (busy
// with other work, or gone) costs a call nothing, the owner running every chunk itself; a
// helper that stalls inside its chunks makes the owner run the next calls alone (back-off).
import { afterEach, describe, expect, test } from 'vitest';
import { CpuKernels, MIN_WORK_PER_THREAD, threadsFor } from '../../../src/cpu/kernels';
import { spawnNodeHelper } from '../../../src/cpu/node-threads';
import { MAX_BACKOFF, type SpawnHelper } from '../../../src/cpu/pool';
import { matmulF64 } from '../../../src/reference/matmul';
import { randomMatrix } from '../../support/gpu-fixture';

const started: CpuKernels[] = [];
const engine = async (threads: number, spawn: SpawnHelper = spawnNodeHelper, minWork?: number) => {
  const cpu = await CpuKernels.create({
    threads,
    spawn,
    ...(minWork === undefined ? {} : { minWorkPerThread: minWork }),
  });
  started.push(cpu);
  return cpu;
};
afterEach(() => {
  for (const cpu of started.splice(0)) cpu.dispose();
});

/** A helper running HELPER_SOURCE with `edit` applied; fails the test if the edit misses. */
const edited =
  (from: string, to: string): SpawnHelper =>
  (source) => {
    expect(source).toContain(from);
    return spawnNodeHelper(source.replace(from, to));
  };

/** Max |C − A·B (float64)| ÷ (k · max|A||B|): a loose check that every chunk was computed. */
async function product(cpu: CpuKernels, m: number, k: number, n: number, seed: number) {
  const a = randomMatrix(m * k, seed);
  const b = randomMatrix(k * n, seed + 1);
  const c = await cpu.matmul(a, b, { m, k, n });
  const exact = matmulF64(a, b, { m, k, n });
  let worst = 0;
  for (let i = 0; i < c.length; i++) worst = Math.max(worst, Math.abs(c[i]! - exact[i]!));
  return worst / k;
}

describe('threadsFor: one thread per MIN_WORK_PER_THREAD of work', () => {
  test.each([
    [0, 4, 1],
    [MIN_WORK_PER_THREAD - 1, 2, 1],
    [2 * MIN_WORK_PER_THREAD - 1, 2, 1],
    [2 * MIN_WORK_PER_THREAD, 2, 2],
    [2 * MIN_WORK_PER_THREAD, 8, 2],
    [100 * MIN_WORK_PER_THREAD, 8, 8],
    [100 * MIN_WORK_PER_THREAD, 1, 1],
    [Number.NaN, 8, 1],
  ])('%d multiply-adds on %i threads → %i', (work, threads, want) => {
    expect(threadsFor(work, threads)).toBe(want);
  });
  test('a threshold of 0 always splits', () => {
    expect(threadsFor(1, 4, 0)).toBe(4);
  });
  test('a bad threshold is a typed error', async () => {
    await expect(
      CpuKernels.create({ threads: 2, spawn: spawnNodeHelper, minWorkPerThread: -1 }),
    ).rejects.toMatchObject({ name: 'CpuError', code: 'invalid-argument' });
  });
});

test('a call under the threshold wakes no helper; one over it does', async () => {
  const cpu = await engine(2);
  // 32×32×32: 32 k multiply-adds, far under the threshold (as every batch-1 decode step).
  expect(await product(cpu, 32, 32, 32, 1)).toBeLessThan(1e-6);
  expect(cpu.poolStats).toMatchObject({ calls: 0, woken: 0 });
  // 256×256×256: 16.8 M multiply-adds, 2 threads' worth.
  expect(await product(cpu, 256, 256, 256, 2)).toBeLessThan(1e-6);
  expect(cpu.poolStats!.woken).toBeGreaterThan(0);
});

describe('a helper that never wakes costs a call nothing', () => {
  const cases: [string, SpawnHelper][] = [
    // Busy with other work forever, from the moment it said it was ready.
    [
      'busy',
      edited('port.postMessage({ ok: true });', 'port.postMessage({ ok: true }); for (;;);'),
    ],
    // Gone: terminated right after starting.
    [
      'terminated',
      (source) => {
        const h = spawnNodeHelper(source);
        return {
          post: h.post,
          terminate: h.terminate,
          onMessage: (f) =>
            h.onMessage((d) => {
              f(d);
              h.terminate();
            }),
        };
      },
    ],
  ];
  test.each(cases)('%s: the owner runs every chunk, each product right', async (_, spawn) => {
    const cpu = await engine(2, spawn, 0);
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) expect(await product(cpu, 96, 64, 48, 10 + i)).toBeLessThan(1e-6);
    const s = cpu.poolStats!;
    expect(s.calls).toBeGreaterThan(5);
    expect(s.ownChunks).toBe(s.chunks);
    // Woken once; its slot never read, it is not woken again.
    expect(s.woken).toBe(1);
    // No wait on it (the pool gives up on helpers only after a minute).
    expect(performance.now() - t0).toBeLessThan(5_000);
  });
});

test('a helper that stalls inside its chunks makes the owner run the next calls alone', async () => {
  // Each chunk it claims, it first sleeps 30 ms: a helper descheduled mid-chunk.
  const stall = edited(
    'kernel(...args, at, Math.min(count, at + chunk));',
    'Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30); kernel(...args, at, Math.min(count, at + chunk));',
  );
  const cpu = await engine(2, stall, 0);
  // Products big enough that the helper, woken, claims a chunk before the owner has them all.
  for (let i = 0; i < 12; i++) expect(await product(cpu, 160, 160, 160, 20 + i)).toBeLessThan(1e-6);
  const s = cpu.poolStats!;
  // Each chunk the helper ran was a 30 ms stall of its call. Without back-off it would run one
  // in nearly every call; with it, stretches alone grow 1, 2, 4, …, so it runs a handful.
  const stalls = s.chunks - s.ownChunks;
  expect(stalls).toBeGreaterThan(0);
  expect(stalls).toBeLessThanOrEqual(Math.log2(s.calls) + 2);
  // It backed off. (How many calls ran alone depends on how often a busy machine lets the
  // helper claim a chunk at all, so no share is asserted.)
  expect(s.alone).toBeGreaterThan(0);
  expect(s.woken + s.alone).toBeLessThanOrEqual(s.calls);
  expect(MAX_BACKOFF).toBeGreaterThan(1);
});

test('helpers that keep up are kept: no back-off on an engine whose helpers do their share', async () => {
  const cpu = await engine(2, spawnNodeHelper, 0);
  for (let i = 0; i < 4; i++) expect(await product(cpu, 192, 192, 192, 40 + i)).toBeLessThan(1e-6);
  const s = cpu.poolStats!;
  expect(s.woken).toBeGreaterThan(0);
  expect(s.ownChunks).toBeLessThanOrEqual(s.chunks);
  // On a machine busy enough to deschedule the helper every call this could back off; it
  // still must compute right (checked above), and the stats stay consistent.
  expect(s.woken + s.alone).toBeLessThanOrEqual(s.calls);
});

// GPT-2's activation as a kernel (the shipped model's MLP), on the owner alone and split across
// a helper: the tanh form to float32's rounding of the exp and divide it is built from.
test.each([
  [1, undefined],
  [2, 0],
])(
  'gelu_tanh on %i thread(s) matches 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³)))',
  async (threads, minWork) => {
    const cpu = await engine(threads, spawnNodeHelper, minWork);
    const [rows, n] = [37, 131]; // a width off the 4-float step: the scalar tail runs too
    const x = randomMatrix(rows * n, 7).map((v, i) => v * (i % 3 === 0 ? 12 : 3));
    const mark = cpu.mark();
    const at = cpu.put(x);
    await cpu.geluTanh(at, at, rows, n);
    const y = cpu.view(at, rows * n).slice();
    cpu.release(mark);
    let worst = 0;
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      const exact = 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
      worst = Math.max(worst, Math.abs(y[i]! - exact) / Math.max(1, Math.abs(v)));
    }
    expect(worst).toBeLessThan(2 ** -20);
    if (threads > 1) expect(cpu.poolStats!.woken).toBeGreaterThan(0);
    await expect(cpu.geluTanh(at, at, 0, n)).rejects.toMatchObject({ code: 'invalid-argument' });
  },
);
