import { loadCheckpoint } from '../model/hf/checkpoint';
import { filesFromMap, isSafeName, KNOWN_FILES } from '../model/hf/files';
import { WireError } from '../wire/wire-error';
import type { CheckpointFileMap } from '../worker/api';
import { MAX_MODEL_BYTES } from './codec';

// A checkpoint folder as one byte string, for /tessel/model (src/mesh/model-transfer.ts): the
// owner frames the file map, the transfer moves and chunk-checks the bytes, and the contributor
// unframes them here before anything else reads a file. The layout is canonical (names in
// order, no gaps), so one folder frames to one byte string:
//
//   "tessel-files/1\n"  magic, 15 bytes
//   u32 count           files, 1..MAX_FILES
//   count × { u16 nameBytes, name (UTF-8), u64 size }   names strictly ascending (byte order)
//   the files' bytes, in the same order, back to back, nothing after
//
// Integers are little-endian. Every name must pass src/model/hf/files.ts isSafeName, so no
// name can point outside the model's folder in a cache or on disk.

const MAGIC = new TextEncoder().encode('tessel-files/1\n');

/** Most files in one framed folder (a sharded checkpoint of 100 shards fits with room). */
export const MAX_FILES = 256;

/** Longest file name, UTF-8 bytes (files.ts isSafeName's limit). */
const MAX_NAME_BYTES = 512;

const ascending = (a: Uint8Array, b: Uint8Array) => {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
};

/** Frames a file map; throws WireError on a name or size the decoder would refuse. */
export function encodeFileMap(files: CheckpointFileMap): Uint8Array {
  const entries = Object.entries(files).map(([name, data]) => {
    checkName(name);
    return { name: new TextEncoder().encode(name), data };
  });
  entries.sort((a, b) => ascending(a.name, b.name));
  if (entries.length < 1 || entries.length > MAX_FILES) {
    throw new WireError('invalid-field', `${entries.length} files (1 to ${MAX_FILES})`, 'files');
  }
  const header = MAGIC.length + 4 + entries.reduce((s, e) => s + 2 + e.name.length + 8, 0);
  const total = header + entries.reduce((s, e) => s + e.data.byteLength, 0);
  if (total > MAX_MODEL_BYTES) {
    throw new WireError('too-large', `${total} bytes is over ${MAX_MODEL_BYTES}`, 'files');
  }
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  out.set(MAGIC);
  let at = MAGIC.length;
  dv.setUint32(at, entries.length, true);
  at += 4;
  for (const e of entries) {
    dv.setUint16(at, e.name.length, true);
    out.set(e.name, at + 2);
    at += 2 + e.name.length;
    dv.setBigUint64(at, BigInt(e.data.byteLength), true);
    at += 8;
  }
  for (const e of entries) {
    out.set(e.data, at);
    at += e.data.byteLength;
  }
  return out;
}

/**
 * Unframes a file map, checking everything: the magic, the count, each name (UTF-8, isSafeName,
 * strictly ascending so none repeats), each size against what is left, and that the sizes
 * account for every byte. The files are views of `bytes`. Throws WireError naming the field.
 */
export function decodeFileMap(bytes: Uint8Array): CheckpointFileMap {
  if (bytes.byteLength > MAX_MODEL_BYTES) {
    throw new WireError('too-large', `${bytes.byteLength} bytes is over ${MAX_MODEL_BYTES}`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (at: number, n: number, field: string) => {
    if (at + n > bytes.byteLength) throw new WireError('malformed', 'ends early', field);
  };
  need(0, MAGIC.length + 4, 'magic');
  if (MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new WireError('bad-version', 'not a tessel-files/1 folder', 'magic');
  }
  let at = MAGIC.length;
  const count = dv.getUint32(at, true);
  at += 4;
  if (count < 1 || count > MAX_FILES) {
    throw new WireError('invalid-field', `${count} files (1 to ${MAX_FILES})`, 'count');
  }
  const entries: { name: string; size: number }[] = [];
  let previous: Uint8Array | undefined;
  let sum = 0;
  for (let i = 0; i < count; i++) {
    const field = `files[${i}]`;
    need(at, 2, field);
    const length = dv.getUint16(at, true);
    need(at + 2, length + 8, field);
    const raw = bytes.subarray(at + 2, at + 2 + length);
    at += 2 + length;
    let name: string;
    try {
      name = new TextDecoder('utf-8', { fatal: true }).decode(raw);
    } catch {
      throw new WireError('invalid-field', 'a name that is not UTF-8', `${field}.name`);
    }
    checkName(name, `${field}.name`);
    if (previous && ascending(previous, raw) >= 0) {
      throw new WireError('invalid-field', 'names out of order or repeated', `${field}.name`);
    }
    previous = raw;
    const size = dv.getBigUint64(at, true);
    at += 8;
    if (size > BigInt(MAX_MODEL_BYTES)) {
      throw new WireError('too-large', `${size} bytes`, `${field}.size`);
    }
    sum += Number(size);
    entries.push({ name, size: Number(size) });
  }
  if (at + sum !== bytes.byteLength) {
    throw new WireError(
      'invalid-field',
      `the sizes add up to ${sum} bytes, but ${bytes.byteLength - at} follow the names`,
      'files',
    );
  }
  const files: CheckpointFileMap = {};
  for (const e of entries) {
    files[e.name] = bytes.subarray(at, at + e.size);
    at += e.size;
  }
  return files;
}

/**
 * A name a file of a model folder may have here: src/model/hf/files.ts isSafeName, at most
 * MAX_NAME_BYTES of UTF-8, and no part `__proto__` (a file map is a plain object, where that key
 * would set the prototype instead of holding a file).
 */
export function isFolderFileName(name: string): boolean {
  return (
    isSafeName(name) &&
    new TextEncoder().encode(name).length <= MAX_NAME_BYTES &&
    !name.split('/').includes('__proto__')
  );
}

function checkName(name: string, field = 'name'): void {
  if (!isFolderFileName(name)) {
    throw new WireError(
      'invalid-field',
      `${JSON.stringify(name.slice(0, 80))} is not a file name in a folder`,
      field,
    );
  }
}

/**
 * The checkpoint digest of a file map (src/model/hf/checkpoint.ts digestFiles over the files
 * the loader reads), after checking it is a checkpoint tessel runs: what a fetched or cached
 * folder must hash to. Throws CheckpointError for a folder that is not one.
 */
export async function checkpointDigest(files: CheckpointFileMap): Promise<string> {
  return (await loadCheckpoint(filesFromMap(new Map(Object.entries(files))))).digest;
}

/**
 * The files of a picked folder that make up its checkpoint, as far as names tell: the known
 * files (config, tokenizer, index, ...), the safetensors shards and a sentence-transformers
 * module's `<dir>/config.json`. A model repository's folder often holds copies in other formats
 * (pytorch_model.bin, onnx/, tf_model.h5) as large as the weights: those are neither cached nor
 * sent to contributors. Names a folder file may not have are dropped too.
 */
export function checkpointFiles(files: CheckpointFileMap): CheckpointFileMap {
  const known: readonly string[] = KNOWN_FILES;
  const out: CheckpointFileMap = {};
  for (const [name, data] of Object.entries(files)) {
    const keep =
      known.includes(name) ||
      /^[^/]+\.safetensors$/.test(name) ||
      /^[^/]+\/config\.json$/.test(name);
    if (keep && isFolderFileName(name)) out[name] = data;
  }
  return out;
}
