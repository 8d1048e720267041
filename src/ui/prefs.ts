import { clampBudget, DEFAULT_BUDGET } from '../jobs/budget';
import type { EngineKind } from '../worker/api';

export { clampBudget } from '../jobs/budget';

/**
 * What a volunteer chose, remembered for this origin (localStorage): whether to contribute,
 * the GPU budget, whether to pause while the tab is hidden, and the speed last measured on this
 * adapter (so the page can say what is lent before anything runs). A stored value that does not
 * validate is replaced by the default, never trusted.
 */
export interface ContributorPrefs {
  contribute: boolean;
  budget: number; // share of wall time the GPU may be busy, BUDGET_MIN..BUDGET_MAX
  pauseWhenHidden: boolean;
  /** GFLOP/s measured per engine identity ("webgpu:…" adapters, "cpu:wasm-…"). */
  speeds: Record<string, number>;
  /** The engine chosen by measurement per device (src/worker/engine-choice.ts deviceKey). */
  engines: Record<string, EngineKind>;
}

const KEY = 'tessel:contributor';
export const DEFAULT_PREFS: ContributorPrefs = {
  contribute: false,
  budget: DEFAULT_BUDGET,
  pauseWhenHidden: true,
  speeds: {},
  engines: {},
};

export function loadPrefs(
  storage: Storage | undefined = globalThis.localStorage,
): ContributorPrefs {
  let raw: unknown;
  try {
    raw = JSON.parse(storage?.getItem(KEY) ?? 'null');
  } catch {
    raw = null;
  }
  const r = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const speeds: Record<string, number> = {};
  if (typeof r.speeds === 'object' && r.speeds !== null) {
    for (const [k, v] of Object.entries(r.speeds).slice(0, 16)) {
      if (typeof v === 'number' && v > 0 && v < 1e6) speeds[k] = v;
    }
  }
  const engines: Record<string, EngineKind> = {};
  if (typeof r.engines === 'object' && r.engines !== null) {
    for (const [k, v] of Object.entries(r.engines).slice(0, 16)) {
      if (v === 'webgpu' || v === 'cpu') engines[k] = v;
    }
  }
  return {
    contribute: r.contribute === true,
    budget: typeof r.budget === 'number' ? clampBudget(r.budget) : DEFAULT_PREFS.budget,
    pauseWhenHidden:
      typeof r.pauseWhenHidden === 'boolean' ? r.pauseWhenHidden : DEFAULT_PREFS.pauseWhenHidden,
    speeds,
    engines,
  };
}

export function savePrefs(
  prefs: ContributorPrefs,
  storage: Storage | undefined = globalThis.localStorage,
): void {
  try {
    storage?.setItem(KEY, JSON.stringify(prefs));
  } catch {
    // Storage full or disabled (some embeds): the choice lasts for this page load only.
  }
}

/**
 * What the "Try a model" panel remembers for this origin (localStorage, its own key): the size
 * the model cache may grow to, and the URL last loaded. A stored value that does not validate
 * is dropped, never trusted.
 */
export interface TryModelPrefs {
  /** Bytes the model cache may hold; undefined: the cache's own default. */
  cacheLimitBytes?: number;
  /** The last model URL typed (shown again in the URL field). */
  lastUrl?: string;
}

const TRY_KEY = 'tessel:try-model';
/** The largest cache limit a stored preference may hold: 64 GB. */
const MAX_CACHE_LIMIT_BYTES = 64e9; // bytes

export function loadTryModelPrefs(
  storage: Storage | undefined = globalThis.localStorage,
): TryModelPrefs {
  let raw: unknown;
  try {
    raw = JSON.parse(storage?.getItem(TRY_KEY) ?? 'null');
  } catch {
    raw = null;
  }
  const r = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const out: TryModelPrefs = {};
  const limit = r.cacheLimitBytes;
  if (typeof limit === 'number' && Number.isInteger(limit) && limit > 0) {
    if (limit <= MAX_CACHE_LIMIT_BYTES) out.cacheLimitBytes = limit;
  }
  if (typeof r.lastUrl === 'string' && r.lastUrl.length <= 2048 && /^https?:\/\//.test(r.lastUrl)) {
    out.lastUrl = r.lastUrl;
  }
  return out;
}

export function saveTryModelPrefs(
  prefs: TryModelPrefs,
  storage: Storage | undefined = globalThis.localStorage,
): void {
  try {
    storage?.setItem(TRY_KEY, JSON.stringify(prefs));
  } catch {
    // Storage full or disabled: the choice lasts for this page load only.
  }
}
