/**
 * The pure parts of the page's "Try a model" panel (try-model-view.ts): which of a picked
 * folder's files a checkpoint needs and reading them into one map, the cosine-similarity matrix
 * of embeddings and its cell colours, and the numbers people read (parameters, cache limits).
 * No DOM, no Worker: unit-tested in tests/unit/ui/try-model.test.ts.
 */

import type { CheckpointFiles, PickedFile } from '../model/hf/files';
import { isSafeName, KNOWN_FILES } from '../model/hf/files';
import type { CheckpointFileMap } from '../worker/api';
import { InputError } from './form-input';
import { describeError } from './format';

/** Lines embedded at once: a similarity table of more rows is no longer readable. */
export const MAX_EMBED_LINES = 16;

/** The cache size limit a person may set, MB (10^6 bytes): from one tiny model to 64 GB. */
export const CACHE_LIMIT_MB = { min: 1, max: 64_000 } as const;

const SHARD = /^model-\d{5}-of-\d{5}\.safetensors$/;

/**
 * The names of `listed` a checkpoint loader reads: the known top-level files, the shards
 * model.safetensors.index.json names (else any `model-0000i-of-0000n.safetensors`), and the
 * sentence-transformers module folders' config.json that modules.json names. A picked folder's
 * README, .bin, .onnx or .gguf copies are never read (they can be gigabytes).
 */
export async function neededNames(
  listed: readonly string[],
  read: (name: string) => Promise<Uint8Array>,
): Promise<string[]> {
  const present = new Set(listed.filter(isSafeName));
  const keep = new Set<string>(KNOWN_FILES.filter((n) => present.has(n)));
  const index = present.has('model.safetensors.index.json')
    ? jsonOf(await read('model.safetensors.index.json'))
    : undefined;
  const weightMap = (index as { weight_map?: unknown } | undefined)?.weight_map;
  if (weightMap && typeof weightMap === 'object') {
    for (const shard of Object.values(weightMap)) {
      if (typeof shard === 'string' && present.has(shard)) keep.add(shard);
    }
  } else {
    // No readable index: keep what looks like a shard, and let the loader say what is wrong.
    for (const n of present) if (SHARD.test(n)) keep.add(n);
  }
  if (present.has('modules.json')) {
    const modules = jsonOf(await read('modules.json'));
    for (const m of Array.isArray(modules) ? modules : []) {
      const path = (m as { path?: unknown } | null)?.path;
      const file = `${String(path)}/config.json`;
      if (typeof path === 'string' && path !== '' && present.has(file)) keep.add(file);
    }
  }
  return [...keep].sort();
}

/** Progress of reading a checkpoint: files done of `total`, bytes read so far. */
export interface ReadProgress {
  done: number;
  total: number;
  bytes: number;
  /** The file just read. */
  name: string;
}

/**
 * Reads the files a checkpoint needs (`neededNames`) from `source` into a map, one at a time
 * (a URL source downloads each), calling `onProgress` after each. Stops between files when
 * `signal` aborts.
 */
export async function readCheckpoint(
  source: CheckpointFiles,
  onProgress?: (p: ReadProgress) => void,
  signal?: AbortSignal,
): Promise<{ files: CheckpointFileMap; bytes: number }> {
  const names = await neededNames(source.list(), (n) => source.read(n));
  const files: CheckpointFileMap = {};
  let bytes = 0;
  for (const [i, name] of names.entries()) {
    signal?.throwIfAborted();
    const data = await source.read(name);
    files[name] = data;
    bytes += data.byteLength;
    onProgress?.({ done: i + 1, total: names.length, bytes, name });
  }
  return { files, bytes };
}

/** Total bytes of a file map. */
export function mapBytes(files: CheckpointFileMap): number {
  return Object.values(files).reduce((s, f) => s + f.byteLength, 0);
}

/** A deep copy of a file map (the Worker takes the buffers it is sent; the cache keeps these). */
export function copyFiles(files: CheckpointFileMap): CheckpointFileMap {
  return Object.fromEntries(Object.entries(files).map(([n, f]) => [n, f.slice()]));
}

/**
 * Cosine similarity of every pair of vectors: a symmetric n × n matrix with 1 on the diagonal
 * (of every non-zero vector). A zero vector's similarities are NaN: it has no direction.
 * Vectors of different lengths are an InputError.
 */
export function cosineMatrix(vectors: readonly Float32Array[]): number[][] {
  const dim = vectors[0]?.length ?? 0;
  const norms = vectors.map((v, i) => {
    if (v.length !== dim) {
      throw new InputError(`vector ${i + 1} has ${v.length} values, vector 1 has ${dim}`);
    }
    let s = 0;
    for (let k = 0; k < dim; k++) s += v[k]! * v[k]!;
    return Math.sqrt(s);
  });
  return vectors.map((a, i) =>
    vectors.map((b, j) => {
      if (norms[i] === 0 || norms[j] === 0) return Number.NaN;
      if (i === j) return 1;
      let dot = 0;
      for (let k = 0; k < dim; k++) dot += a[k]! * b[k]!;
      // Rounding can step just past ±1; a cosine cannot.
      return Math.max(-1, Math.min(1, dot / (norms[i]! * norms[j]!)));
    }),
  );
}

/**
 * A similarity cell's background: white at 0, deepening blue towards 1, orange towards −1,
 * grey for NaN. Light enough everywhere for dark text to keep a 4.5:1 contrast (WCAG AA).
 */
export function similarityColour(c: number): string {
  if (Number.isNaN(c)) return 'hsl(0 0% 92%)';
  const t = Math.min(1, Math.abs(c));
  const lightness = Math.round(98 - 26 * t); // 98 % … 72 %
  return c >= 0 ? `hsl(215 85% ${lightness}%)` : `hsl(30 90% ${lightness}%)`;
}

/** A similarity as shown in its cell: two decimals, "—" for none. */
export function formatSimilarity(c: number): string {
  return Number.isNaN(c) ? '—' : c.toFixed(2).replace(/^-0\.00$/, '0.00');
}

/** The lines to embed: one input per non-blank line, at most MAX_EMBED_LINES. */
export function embedLines(text: string): string[] {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  if (lines.length === 0) throw new InputError('Type at least one line to embed.');
  if (lines.length > MAX_EMBED_LINES) {
    throw new InputError(`At most ${MAX_EMBED_LINES} lines at once (${lines.length} given).`);
  }
  return lines;
}

/** A parameter count as people say it: "824", "12.3 k", "135 M", "1.54 B". */
export function formatParams(n: number): string {
  const units: [number, string][] = [
    [1e9, 'B'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [scale, unit] of units) {
    if (n >= scale) {
      const v = n / scale;
      return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${unit}`;
    }
  }
  return String(n);
}

/** Megabytes (10^6 bytes, as the limit field reads) for a byte count, rounded to a whole MB. */
export function bytesToMb(bytes: number): number {
  return Math.round(bytes / 1e6);
}

/** Bytes in the limit field's unit, decimal megabytes: "0.03 MB", "1.6 MB", "2147 MB". */
export function formatMb(bytes: number): string {
  const mb = bytes / 1e6;
  return `${mb >= 100 ? mb.toFixed(0) : mb >= 1 ? mb.toFixed(1) : mb.toFixed(2)} MB`;
}

/** The cache limit field's value in bytes; an InputError outside CACHE_LIMIT_MB. */
export function parseCacheLimitMb(raw: string): number {
  const mb = Number(raw.trim());
  if (
    raw.trim() === '' ||
    !Number.isFinite(mb) ||
    mb < CACHE_LIMIT_MB.min ||
    mb > CACHE_LIMIT_MB.max
  ) {
    throw new InputError(
      `The cache limit must be a number of MB from ${CACHE_LIMIT_MB.min} to ${CACHE_LIMIT_MB.max}.`,
    );
  }
  return Math.round(mb * 1e6);
}

/** A model's name for the cache list: a URL's path without the hub's `resolve/<rev>` tail, or a
 * picked folder's name. */
export function modelName(source: { url: string } | { folder: string }): string {
  if ('folder' in source) return source.folder || 'picked files';
  try {
    const u = new URL(source.url);
    const path = u.pathname.replace(/\/resolve\/[^/]+\/?$/, '').replace(/\/+$/, '');
    return `${u.host}${path}`;
  } catch {
    return source.url;
  }
}

/** The folder a set of picked files came from (the first part of a relative path), or ''. */
export function pickedFolder(picked: readonly PickedFile[]): string {
  const rel = picked.find((f) => f.webkitRelativePath)?.webkitRelativePath ?? '';
  return rel.includes('/') ? rel.slice(0, rel.indexOf('/')) : '';
}

/**
 * An error as the person reads it: a typed one by its class and code, then its message, which
 * for checkpoint and tokenizer errors starts with the file and the field
 * ("CheckpointError (missing-file): config.json: the folder has no config.json").
 */
export function describeModelError(e: unknown): string {
  if (e instanceof InputError) return e.message;
  const name = (e as { name?: unknown } | null)?.name;
  const text = describeError(e);
  if (typeof name !== 'string' || name === 'Error' || name === '') return text;
  const code = (e as { code?: unknown }).code;
  const message = (e as { message?: unknown }).message;
  return typeof code === 'string' ? `${name} (${code}): ${String(message)}` : `${name}: ${text}`;
}

function jsonOf(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined; // the loader reads it again and names what is wrong
  }
}
