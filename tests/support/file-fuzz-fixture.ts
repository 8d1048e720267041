// Files for tests/unit/model/file-fuzz.test.ts: seeded generators of valid safetensors and .npy files
// in many legal spellings, the mutations that break them, reference decoders written straight
// from the two specs (slow, simple, independent of src/model) to judge what a parser accepted,
// and a meter of the typed-array bytes a parse creates.

import { type Rng, seededRng } from '../../src/model/rng';

export class Dice {
  readonly #rng: Rng;
  constructor(seed: number) {
    this.#rng = seededRng(seed);
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return this.#rng.nextUint32() % n;
  }
  chance(p: number): boolean {
    return this.#rng.nextUint32() / 2 ** 32 < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  shuffle<T>(xs: readonly T[]): T[] {
    const out = [...xs];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }
  /** A finite float32 value, sometimes ±0, tiny or near float32's largest. */
  float(): number {
    const kind = this.int(8);
    if (kind === 0) return this.pick([0, -0, 1, -1]);
    if (kind === 1)
      return Math.fround((this.chance(0.5) ? 1 : -1) * 3.4e38 * (0.5 + this.int(100) / 200));
    if (kind === 2) return Math.fround(1e-40 * (1 + this.int(1000)));
    return Math.fround((this.int(2 ** 24) - 2 ** 23) / 2 ** this.int(20));
  }
}

// ---- metering: bytes of the typed arrays and ArrayBuffers a parse creates -----------------------

const Real = {
  ArrayBuffer,
  Uint8Array,
  Int8Array,
  Uint16Array,
  Int16Array,
  Uint32Array,
  Int32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
};
let created = 0;

// biome-ignore lint/suspicious/noExplicitAny: a mixin over every typed-array constructor
function counting(Base: new (...args: any[]) => ArrayBufferView) {
  return class extends Base {
    // biome-ignore lint/suspicious/noExplicitAny: the base constructor's own overloads
    constructor(...args: any[]) {
      super(...args);
      // A view of an existing buffer allocates nothing; a length or a source array does.
      if (!(args[0] instanceof Real.ArrayBuffer)) created += this.byteLength;
    }
  };
}
const Counting: Record<string, unknown> = {
  ArrayBuffer: class extends Real.ArrayBuffer {
    constructor(n: number) {
      super(n);
      created += n;
    }
  },
};
for (const [name, ctor] of Object.entries(Real)) {
  if (name !== 'ArrayBuffer') Counting[name] = counting(ctor as typeof Uint8Array);
}

export interface Measured<T> {
  value?: T;
  error?: unknown;
  threw: boolean;
  ms: number;
  /** Bytes of typed arrays and ArrayBuffers created while parsing (views of existing ones: 0). */
  bytes: number;
}

/** Runs `parse` with the global typed-array constructors metered, timing it. */
export function measured<T>(parse: () => T): Measured<T> {
  const g = globalThis as Record<string, unknown>;
  for (const [name, ctor] of Object.entries(Counting)) g[name] = ctor;
  created = 0;
  const t0 = performance.now();
  let value: T | undefined;
  let error: unknown;
  let threw = false;
  try {
    value = parse();
  } catch (e) {
    error = e;
    threw = true;
  }
  const ms = performance.now() - t0;
  const bytes = created;
  for (const [name, ctor] of Object.entries(Real)) g[name] = ctor;
  return { value, error, threw, ms, bytes };
}

// ---- safetensors --------------------------------------------------------------------------------

export interface STensor {
  name: string;
  dtype: 'F32' | 'F64';
  shape: number[];
  values: number[]; // float32-representable
}
export interface SDoc {
  tensors: STensor[];
  metadata?: Record<string, string>;
}
/** An entry as it goes into the header: offsets may be forged by a mutation. */
interface SEntry {
  name: string;
  fields: [string, string][]; // key, JSON text of the value
}

const NAME_CHARS = ['a', 'b', 'w', '.', '_', '0', '"', '\\', 'é', '\u2028', '😀', '/', ' '];

export function randomName(d: Dice): string {
  return Array.from({ length: 1 + d.int(6) }, () => d.pick(NAME_CHARS)).join('');
}

export function randomSDoc(d: Dice, matrix: boolean): SDoc {
  const tensor = (name: string, shape: number[]): STensor => {
    const n = shape.reduce((a, b) => a * b, 1);
    return {
      name,
      dtype: d.chance(0.7) ? 'F32' : 'F64',
      shape,
      values: Array.from({ length: n }, () => d.float()),
    };
  };
  if (matrix) {
    const big = d.chance(0.1);
    return { tensors: [tensor(randomName(d), [1 + d.int(big ? 48 : 6), 1 + d.int(big ? 48 : 6)])] };
  }
  const names = new Set<string>();
  while (names.size < 1 + d.int(5)) {
    const name = randomName(d);
    if (name !== '__metadata__') names.add(name);
  }
  const tensors = [...names].map((name) =>
    tensor(
      name,
      Array.from({ length: d.int(4) }, () => d.int(d.chance(0.1) ? 1 : 6)),
    ),
  );
  const metadata = d.chance(0.5) ? { format: 'pt', [randomName(d)]: randomName(d) } : undefined;
  return { tensors, metadata };
}

const bytesOf = (t: STensor) => t.values.length * (t.dtype === 'F32' ? 4 : 8);

/** JSON text with random legal whitespace and \u escapes when `d` is given; compact otherwise. */
function jsonWriter(d: Dice | undefined) {
  const ws = () => (d?.chance(0.3) ? d.pick([' ', '\t', '\n', '\r', '  ']) : '');
  const str = (s: string) =>
    d?.chance(0.2)
      ? `"${[...s].map((c) => (c.length === 1 ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : JSON.stringify(c).slice(1, -1))).join('')}"`
      : JSON.stringify(s);
  const obj = (fields: [string, string][]) =>
    `{${ws()}${fields.map(([k, v]) => `${str(k)}${ws()}:${ws()}${v}`).join(`${ws()},${ws()}`)}${ws()}}`;
  const arr = (items: number[]) => `[${ws()}${items.join(`${ws()},${ws()}`)}${ws()}]`;
  return { obj, arr, str };
}

/**
 * A safetensors file of `doc`. With `d`, a random legal spelling: tensors laid out in any order,
 * header keys in any order, whitespace, escapes, padding. `edit` may forge the entries.
 */
export function renderS(
  doc: SDoc,
  d?: Dice,
  edit?: (entries: SEntry[], layout: STensor[]) => { entries: SEntry[]; dataLen?: number },
): Uint8Array {
  const w = jsonWriter(d);
  const layout = d ? d.shuffle(doc.tensors) : doc.tensors;
  let at = 0;
  const offsets = new Map<STensor, [number, number]>();
  for (const t of layout) {
    offsets.set(t, [at, at + bytesOf(t)]);
    at += bytesOf(t);
  }
  let entries: SEntry[] = doc.tensors.map((t) => ({
    name: t.name,
    fields: [
      ['dtype', JSON.stringify(t.dtype)],
      ['shape', w.arr(t.shape)],
      ['data_offsets', w.arr(offsets.get(t)!)],
    ],
  }));
  let dataLen = at;
  if (edit) ({ entries, dataLen = at } = edit(entries, layout));
  if (doc.metadata) {
    const meta = Object.entries(doc.metadata).map(([k, v]) => [k, w.str(v)] as [string, string]);
    entries.splice(d ? d.int(entries.length + 1) : 0, 0, { name: '__metadata__', fields: meta });
  }
  const header = w.obj(
    entries.map((e) => [e.name, w.obj(d ? d.shuffle(e.fields) : e.fields)] as [string, string]),
  );
  let json = new TextEncoder().encode(header);
  const pad = d ? d.int(16) : (8 - ((8 + json.length) % 8)) % 8;
  json = new TextEncoder().encode(header + ' '.repeat(pad));
  const out = new Uint8Array(8 + json.length + dataLen);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  for (const t of layout) {
    let p = 8 + json.length + offsets.get(t)![0];
    if (p + bytesOf(t) > out.length) continue; // a forged layout may leave no room
    for (const v of t.values) {
      if (t.dtype === 'F32') view.setFloat32(p, v, true);
      else view.setFloat64(p, v, true);
      p += t.dtype === 'F32' ? 4 : 8;
    }
  }
  return out;
}

const isObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * What a file holds by the safetensors spec, or undefined if it breaks a rule: every data byte
 * owned by exactly one tensor (tracked byte by byte), sizes in BigInt. F32 only unless acceptF64.
 */
export function referenceS(
  file: Uint8Array,
  acceptF64: boolean,
): Map<string, { shape: number[]; values: number[] }> | undefined {
  if (file.length < 8) return undefined;
  const view = new DataView(file.buffer, file.byteOffset, file.length);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(file.length - 8)) return undefined;
  let header: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(file.subarray(8, 8 + Number(n)));
    header = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(header)) return undefined;
  const start = 8 + Number(n);
  const owned = new Uint8Array(file.length - start);
  const out = new Map<string, { shape: number[]; values: number[] }>();
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!isObject(e) || !Object.values(e).every((v) => typeof v === 'string')) return undefined;
      continue;
    }
    if (!isObject(e)) return undefined;
    const size = e.dtype === 'F32' ? 4 : e.dtype === 'F64' && acceptF64 ? 8 : 0;
    const { shape, data_offsets: off } = e;
    const sizes = (x: unknown, len?: number): x is number[] =>
      Array.isArray(x) &&
      (len === undefined || x.length === len) &&
      x.every((v) => Number.isSafeInteger(v) && v >= 0);
    if (!size || !sizes(shape) || shape.length > 8 || !sizes(off, 2)) return undefined;
    const [begin, end] = off as [number, number];
    if (begin > end || end > owned.length) return undefined;
    if (shape.reduce((a, v) => a * BigInt(v), BigInt(size)) !== BigInt(end - begin))
      return undefined;
    const values: number[] = [];
    for (let i = begin; i < end; i++) {
      if (owned[i]) return undefined;
      owned[i] = 1;
    }
    for (let p = start + begin; p < start + end; p += size) {
      const v = size === 4 ? view.getFloat32(p, true) : view.getFloat64(p, true);
      if (Math.abs(v) > 3.4028234663852886e38) return undefined;
      values.push(Math.fround(v));
    }
    out.set(name, { shape, values });
  }
  return owned.includes(0) ? undefined : out;
}

// ---- .npy ---------------------------------------------------------------------------------------

export interface NDoc {
  order: '<' | '>' | '|' | '=';
  size: 4 | 8;
  fortran: boolean;
  rows: number;
  cols: number;
  values: number[]; // row-major, float32-representable
}

export function randomNDoc(d: Dice): NDoc {
  const rows = 1 + d.int(d.chance(0.1) ? 40 : 6);
  const cols = 1 + d.int(d.chance(0.1) ? 40 : 6);
  return {
    order: d.pick(['<', '<', '>', '|', '=']),
    size: d.pick([4, 8]),
    fortran: d.chance(0.3),
    rows,
    cols,
    values: Array.from({ length: rows * cols }, () => d.float()),
  };
}

/** The header's entries, as text: numpy's own spelling unless `d` picks another legal one. */
export function nEntries(doc: NDoc, d?: Dice): [string, string][] {
  const q = d?.chance(0.3) ? '"' : "'";
  const sp = () => (d?.chance(0.3) ? d.pick(['', '  ', '\t', '\n', '\f', '\r\n']) : ' ');
  const shape = `(${doc.rows},${sp()}${doc.cols}${d?.chance(0.3) ? `,${sp()}` : ''})`;
  return [
    [`${q}descr${q}`, `${q}${doc.order}f${doc.size}${q}`],
    [`${q}fortran_order${q}`, doc.fortran ? 'True' : 'False'],
    [`${q}shape${q}`, shape],
  ];
}

/** An .npy file of `doc` with the header made of `entries` (numpy's layout unless `d`). */
export function renderN(doc: NDoc, entries = nEntries(doc), d?: Dice): Uint8Array {
  const sp = () => (d?.chance(0.3) ? d.pick(['', '  ', '\t', '\n']) : ' ');
  const body = entries.map(([k, v]) => `${k}:${sp()}${v}`).join(`,${sp()}`);
  const dict = d ? `{${body}${d.chance(0.5) ? ',' : ''}}` : `{${body}, }`;
  const version = d ? d.pick([1, 1, 2, 3]) : 1;
  const lenBytes = version === 1 ? 2 : 4;
  const fill = d ? d.int(70) : (64 - ((8 + lenBytes + dict.length + 1) % 64)) % 64;
  const header = new TextEncoder().encode(`${dict}${' '.repeat(fill)}\n`);
  const out = new Uint8Array(8 + lenBytes + header.length + doc.values.length * doc.size);
  const view = new DataView(out.buffer);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  if (version === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  out.set(header, 8 + lenBytes);
  let p = 8 + lenBytes + header.length;
  const little = doc.order !== '>';
  for (let k = 0; k < doc.values.length; k++) {
    // Fortran order walks down the columns first.
    const i = doc.fortran ? k % doc.rows : Math.floor(k / doc.cols);
    const j = doc.fortran ? Math.floor(k / doc.rows) : k % doc.cols;
    const v = doc.values[i * doc.cols + j]!;
    if (doc.size === 4) view.setFloat32(p, v, little);
    else view.setFloat64(p, v, little);
    p += doc.size;
  }
  return out;
}

const S = '[ \\t\\f\\r\\n]'; // Python's whitespace
const Q = (n: number, word: string) => `(['"])${word}\\${n}`; // a str literal in either quote
/** numpy's header spelling, with any whitespace and quotes that random damage could leave legal. */
const CANONICAL = new RegExp(
  `^\\{${S}*${Q(1, 'descr')}${S}*:${S}*(['"])([<>|=])f([48])\\2${S}*,${S}*` +
    `${Q(5, 'fortran_order')}${S}*:${S}*(True|False)${S}*,${S}*` +
    `${Q(7, 'shape')}${S}*:${S}*\\(${S}*(\\d+)${S}*,${S}*(\\d+)${S}*(?:,${S}*)?\\)${S}*(?:,${S}*)?\\}${S}*$`,
);

/**
 * The matrix a version 1.0 .npy file with numpy's own header spelling holds, by the format's
 * spec; 'invalid' where it breaks a rule; 'unknown' for any other header spelling.
 */
export function referenceN(
  file: Uint8Array,
): { rows: number; cols: number; values: number[] } | 'invalid' | 'unknown' {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0];
  if (file.length < 10 || magic.some((b, i) => file[i] !== b)) return 'unknown';
  const len = file[8]! | (file[9]! << 8);
  if (10 + len > file.length) return 'invalid';
  const m = CANONICAL.exec(String.fromCharCode(...file.subarray(10, 10 + len)));
  if (!m) return 'unknown';
  const [order, size, fortran] = [m[3], Number(m[4]), m[6] === 'True'];
  const [rows, cols] = [Number(m[8]), Number(m[9])];
  if (rows === 0 || cols === 0 || file.length - 10 - len !== rows * cols * size) return 'invalid';
  const view = new DataView(file.buffer, file.byteOffset + 10 + len);
  const values = new Array<number>(rows * cols);
  for (let k = 0; k < rows * cols; k++) {
    const v =
      size === 4 ? view.getFloat32(k * 4, order !== '>') : view.getFloat64(k * 8, order !== '>');
    if (!Number.isFinite(v) || Math.abs(v) > 3.4028234663852886e38) return 'invalid';
    const [i, j] = fortran ? [k % rows, Math.floor(k / rows)] : [Math.floor(k / cols), k % cols];
    values[i * cols + j] = Math.fround(v);
  }
  return { rows, cols, values };
}

// ---- byte-level damage --------------------------------------------------------------------------

/** 1–4 random bit flips or byte rewrites, mostly in the first `hot` bytes (the header). */
export function damage(d: Dice, file: Uint8Array, hot: number): Uint8Array {
  const out = file.slice();
  for (let k = 1 + d.int(4); k > 0; k--) {
    const at = d.chance(0.7) ? d.int(Math.min(hot, out.length)) : d.int(out.length);
    out[at] = d.chance(0.7) ? out[at]! ^ (1 << d.int(8)) : d.int(256);
  }
  return out;
}
