import { median } from '../src/gpu/autotune';

/** Median milliseconds of `runs` calls of `fn`, after one warm-up call (compilation stays out). */
export async function time(runs: number, fn: () => Promise<unknown>): Promise<number> {
  await fn();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  return median(ms);
}
