import type { GpuContext } from './context';
import type { AdapterSummary } from './device';
import { checkTile, DEFAULT_TILE, Matmul, type TileConfig } from './matmul';

/** Where a tuned tile is remembered between page loads (IndexedDB in a browser). */
export interface TuneStore {
  get(key: string): Promise<TileConfig | undefined>;
  set(key: string, tile: TileConfig): Promise<void>;
}

/** A TuneStore for Node and tests: forgets everything when the process ends. */
export class MemoryTuneStore implements TuneStore {
  readonly #map = new Map<string, TileConfig>();
  async get(key: string) {
    return this.#map.get(key);
  }
  async set(key: string, tile: TileConfig) {
    this.#map.set(key, tile);
  }
}

/**
 * Tile shapes worth trying. Small workgroups win on CPU-backed adapters (SwiftShader runs
 * each workgroup on one thread and pays per barrier per invocation group); large ones on GPUs.
 */
export const TILE_CANDIDATES: readonly TileConfig[] = [
  { wgX: 8, wgY: 4, tk: 16 },
  { wgX: 8, wgY: 2, tk: 32 },
  { wgX: 4, wgY: 4, tk: 16 },
  { wgX: 8, wgY: 8, tk: 16 },
  { wgX: 16, wgY: 8, tk: 8 },
  { wgX: 16, wgY: 16, tk: 8 },
];

/** Bump when shaders/matmul.wgsl changes in a way that makes old tuning results stale. */
export const MATMUL_KERNEL_VERSION = 2;

/** The cache key for an adapter: same hardware and driver string, same kernel version. */
export function tuneKey(s: AdapterSummary): string {
  return `matmul-v${MATMUL_KERNEL_VERSION}|${s.vendor}|${s.architecture}|${s.device}|${s.description}`;
}

export interface TuneResult {
  tile: TileConfig;
  fromCache: boolean;
  /** Median milliseconds per candidate that was timed (empty when cached). */
  timings: { tile: TileConfig; ms: number }[];
}

export interface TuneOptions {
  store: TuneStore;
  /** Square size timed per candidate; big enough to fill the adapter, small enough to be quick. */
  size?: number;
  /** Timed runs per candidate after one warm-up; the median counts. */
  runs?: number;
  /** Re-measure even when the store has an answer. */
  force?: boolean;
}

/** The tile remembered for this adapter, if one was measured before and still fits its limits. */
export async function rememberedTile(
  ctx: GpuContext,
  store: TuneStore,
): Promise<TileConfig | undefined> {
  const cached = await store.get(tuneKey(ctx.summary));
  return cached && isUsable(cached, ctx.device.limits) ? cached : undefined;
}

/**
 * Picks the fastest tile shape for this adapter and remembers it. On SwiftShader with the
 * default size (256) it takes about 2 s once; later calls answer from the store.
 */
export async function autotune(ctx: GpuContext, options: TuneOptions): Promise<TuneResult> {
  const key = tuneKey(ctx.summary);
  if (!options.force) {
    const cached = await rememberedTile(ctx, options.store);
    if (cached) return { tile: cached, fromCache: true, timings: [] };
  }
  const n = options.size ?? 256;
  const runs = options.runs ?? 3;
  const a = new Float32Array(n * n).map((_, i) => ((i * 7) % 13) / 13 - 0.5);
  const b = new Float32Array(n * n).map((_, i) => ((i * 5) % 11) / 11 - 0.5);
  const timings: { tile: TileConfig; ms: number }[] = [];
  for (const tile of TILE_CANDIDATES) {
    if (!isUsable(tile, ctx.device.limits)) continue;
    const p = await new Matmul(ctx, tile).prepare(a, b, { m: n, k: n, n });
    try {
      await p.run(); // warm-up: pipeline creation and first-dispatch costs stay out
      const ms: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        await p.run();
        ms.push(performance.now() - t0);
      }
      timings.push({ tile, ms: median(ms) });
    } finally {
      p.dispose();
    }
  }
  const best = timings.reduce((x, y) => (y.ms < x.ms ? y : x), {
    tile: DEFAULT_TILE,
    ms: Number.POSITIVE_INFINITY,
  });
  await options.store.set(key, best.tile);
  return { tile: best.tile, fromCache: false, timings };
}

/** Whether `tile` can run within the adapter's limits (the autotuner skips those that cannot). */
export function isUsable(tile: TileConfig, limits: GPUSupportedLimits): boolean {
  try {
    checkTile(tile, limits);
    return true;
  } catch {
    return false;
  }
}

/** Median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
