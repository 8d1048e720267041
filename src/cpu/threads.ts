/**
 * How many threads a CPU kernel call runs on. Waking a helper costs the owner a notify and,
 * when the helper takes a chunk, a wait for it; on a busy machine the helper may also be
 * descheduled inside its chunk. Both are fixed costs a call must outweigh: a call gets one
 * thread per MIN_WORK_PER_THREAD of its work, up to the engine's threads.
 */

/**
 * Multiply-adds (or the equivalent: an element of a normalisation, an exp, a copied float) a
 * call must give every thread before a helper is woken for it. Measured on the 2-core bench
 * machine (2 cores of an AMD EPYC KVM guest, otherwise quiet; Node 20, 128-bit SIMD; 2 threads
 * ÷ 1, median of 7):
 * GEMM 16×256×256 (1.05 M multiply-adds) 0.95×, 32×256×256 (2.1 M) 1.11×, 64×256×256
 * (4.2 M) 1.65×, 256³ 1.83×; linear16 at batch 1, 576→576 (0.33 M) 0.76×, 576→1536 (0.88 M)
 * 1.17×, 896→4864 (4.4 M) 2.4×. With 2 busy processes beside it, before the pool's back-off,
 * every 2-thread call under ~8 M lost (0.3–0.9×). A batch-1 decode step of the shipped model stays under this in every
 * call, so it never wakes a helper; larger calls that lose anyway back off (ThreadPool.run).
 */
export const MIN_WORK_PER_THREAD = 1_000_000; // multiply-adds

/** Threads for a call of `work` (see MIN_WORK_PER_THREAD): 1 up to `threads`. */
export function threadsFor(work: number, threads: number, minWork = MIN_WORK_PER_THREAD): number {
  if (!(work > 0) || threads <= 1) return 1;
  if (minWork <= 0) return threads;
  return Math.max(1, Math.min(threads, Math.floor(work / minWork)));
}
