import { describe, expect, test } from 'vitest';
import { type Matrix, readMatrix } from '../../../src/model/matrix-file';
import { TensorFileError } from '../../../src/model/npy';
import { readSafetensors, SafetensorsError } from '../../../src/model/safetensors';
import {
  Dice,
  damage,
  type Measured,
  measured,
  type NDoc,
  nEntries,
  randomNDoc,
  randomSDoc,
  referenceN,
  referenceS,
  renderN,
  renderS,
  type SDoc,
} from '../../support/file-fuzz-fixture';
import { breakN, breakS } from '../../support/file-mutations';

// Both parsers read files that strangers send (a researcher's upload, a model an owner names),
// so each is fed FILES mutated files from a fixed seed. Every parse must end in the parser's
// typed error or exactly the right values: exact for a re-spelling that keeps the file valid,
// a typed error for a file broken on purpose, and for random damage either, with what was
// accepted matching a reference decoder written from the spec. Every parse must also take at
// most MAX_PARSE_MS and create typed arrays of at most MAX_MEMORY_RATIO × the file's size.

const FILES = 10_000; // mutated files per parser
const MAX_PARSE_MS = 2_000;
const MAX_MEMORY_RATIO = 4;

type Verdict = 'exact' | 'refused' | 'either';
interface Case {
  kind: string;
  file: Uint8Array;
  verdict: Verdict;
}

/** The checks every parse answers to, whatever the file. */
function bounded<T>(
  label: string,
  file: Uint8Array,
  m: Measured<T>,
  typed: abstract new (...args: never[]) => Error,
): void {
  if (m.ms > MAX_PARSE_MS) expect.fail(`${label}: took ${m.ms} ms`);
  if (m.bytes > MAX_MEMORY_RATIO * file.length) {
    expect.fail(`${label}: created ${m.bytes} bytes of arrays for a ${file.length}-byte file`);
  }
  if (m.threw && !(m.error instanceof typed)) expect.fail(`${label}: threw ${m.error}`);
}

const same = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  a.length === b.length && Array.from(a).every((v, i) => Object.is(v, b[i]));

// ---- safetensors --------------------------------------------------------------------------------

function sCase(d: Dice, matrix: boolean): { doc: SDoc; c: Case } {
  const doc = randomSDoc(d, matrix);
  const roll = d.int(100);
  if (roll < 25) return { doc, c: { kind: 'respelled', file: renderS(doc, d), verdict: 'exact' } };
  if (roll < 60) {
    const file = renderS(doc, d.chance(0.5) ? d : undefined);
    const hot = 8 + Number(new DataView(file.buffer).getBigUint64(0, true));
    return { doc, c: { kind: 'damaged', file: damage(d, file, hot), verdict: 'either' } };
  }
  const kind = d.pick(Object.keys(breakS));
  return { doc, c: { kind, file: breakS[kind]!(d, doc), verdict: 'refused' } };
}

function checkMatrix(label: string, got: Matrix, want: { shape: number[]; values: number[] }) {
  if (got.rows !== want.shape[0] || got.cols !== want.shape[1] || !same(got.data, want.values)) {
    expect.fail(`${label}: read a ${got.rows}×${got.cols} matrix that is not the file's`);
  }
}

function checkTensors(
  label: string,
  got: ReturnType<typeof readSafetensors>,
  want: Map<string, { shape: number[]; values: number[] }>,
) {
  expect(got.tensors.size, label).toBe(want.size);
  for (const [name, w] of want) {
    const t = got.tensors.get(name);
    if (!t || !same(t.shape, w.shape) || !same(t.data, w.values)) {
      expect.fail(`${label}: tensor ${JSON.stringify(name)} is not the file's`);
    }
  }
}

// ---- .npy ---------------------------------------------------------------------------------------

function nCase(d: Dice): { doc: NDoc; c: Case } {
  const doc = randomNDoc(d);
  const roll = d.int(100);
  if (roll < 25) {
    const file = renderN(doc, d.shuffle(nEntries(doc, d)), d);
    return { doc, c: { kind: 'respelled', file, verdict: 'exact' } };
  }
  if (roll < 60) {
    const file = renderN(doc);
    const hot = 10 + (file[8]! | (file[9]! << 8));
    return { doc, c: { kind: 'damaged', file: damage(d, file, hot), verdict: 'either' } };
  }
  const kind = d.pick(Object.keys(breakN));
  return { doc, c: { kind, file: breakN[kind]!(d, doc), verdict: 'refused' } };
}

// ---- the runs -----------------------------------------------------------------------------------

interface Tally {
  exact: number;
  refused: number;
  accepted: number; // damaged files that were still valid, read as the reference reads them
  maxMs: number;
  maxRatio: number;
}

function tally(t: Tally, file: Uint8Array, m: Measured<unknown>) {
  t.maxMs = Math.max(t.maxMs, m.ms);
  t.maxRatio = Math.max(t.maxRatio, m.bytes / Math.max(1, file.length));
}

describe('fuzzing the file parsers', () => {
  test('the meter sees the arrays a parse creates, and not views', () => {
    expect(measured(() => new Float32Array(1000)).bytes).toBe(4000);
    expect(measured(() => new Float32Array(new ArrayBuffer(64), 8, 4)).bytes).toBe(64);
    expect(measured(() => Float32Array.from([1, 2]).slice()).bytes).toBe(16);
    const source = new Uint8Array(10);
    expect(measured(() => new Uint8Array(source)).bytes).toBe(10);
  });

  test(`safetensors: ${FILES} mutated files, a typed error or exactly the tensors`, () => {
    const d = new Dice(0x5afe7e45);
    const t: Tally = { exact: 0, refused: 0, accepted: 0, maxMs: 0, maxRatio: 0 };
    for (let i = 0; i < FILES; i++) {
      const matrix = i % 2 === 0; // readMatrix (an upload) or readSafetensors (a model)
      const { doc, c } = sCase(d, matrix);
      const label = `safetensors case ${i} (${c.kind}, ${c.verdict})`;
      const m = measured<Matrix | ReturnType<typeof readSafetensors>>(() =>
        matrix ? readMatrix(c.file) : readSafetensors(c.file, { acceptF64: true }),
      );
      bounded(label, c.file, m, matrix ? TensorFileError : SafetensorsError);
      tally(t, c.file, m);
      if (m.threw) {
        if (c.verdict === 'exact') expect.fail(`${label}: refused a valid file: ${m.error}`);
        t.refused++;
        continue;
      }
      if (c.verdict === 'refused') expect.fail(`${label}: accepted a broken file`);
      const want =
        c.verdict === 'exact'
          ? new Map(doc.tensors.map((x) => [x.name, { shape: x.shape, values: x.values }]))
          : referenceS(c.file, true);
      if (!want) expect.fail(`${label}: accepted a file the spec refuses`);
      if (matrix) {
        if (want.size !== 1) expect.fail(`${label}: read one matrix from ${want.size} tensors`);
        checkMatrix(label, m.value as Matrix, [...want.values()][0]!);
      } else {
        checkTensors(label, m.value as ReturnType<typeof readSafetensors>, want);
        if (c.verdict === 'exact') {
          expect((m.value as ReturnType<typeof readSafetensors>).metadata).toEqual(
            doc.metadata ?? {},
          );
        }
      }
      if (c.verdict === 'exact') t.exact++;
      else t.accepted++;
    }
    console.log('safetensors fuzz', t);
    // Every kind of outcome happened, so no branch above went untested.
    expect(Math.min(t.exact, t.refused, t.accepted)).toBeGreaterThan(50);
  });

  test(`.npy: ${FILES} mutated files, a typed error or exactly the matrix`, () => {
    const d = new Dice(0x0e9ed);
    const t: Tally = { exact: 0, refused: 0, accepted: 0, maxMs: 0, maxRatio: 0 };
    for (let i = 0; i < FILES; i++) {
      const { doc, c } = nCase(d);
      const label = `.npy case ${i} (${c.kind}, ${c.verdict})`;
      const m = measured(() => readMatrix(c.file));
      bounded(label, c.file, m, TensorFileError);
      tally(t, c.file, m);
      if (m.threw) {
        if (c.verdict === 'exact') expect.fail(`${label}: refused a valid file: ${m.error}`);
        t.refused++;
        continue;
      }
      if (c.verdict === 'refused') expect.fail(`${label}: accepted a broken file`);
      const want =
        c.verdict === 'exact'
          ? { shape: [doc.rows, doc.cols], values: doc.values }
          : referenceN(c.file);
      if (want === 'invalid') expect.fail(`${label}: accepted a file the spec refuses`);
      if (want === 'unknown') {
        expect.fail(
          `${label}: accepted a header numpy would not write: ${JSON.stringify(String.fromCharCode(...c.file.subarray(10, 140)))}`,
        );
      }
      const w = 'rows' in want ? { shape: [want.rows, want.cols], values: want.values } : want;
      checkMatrix(label, m.value as Matrix, w);
      if (c.verdict === 'exact') t.exact++;
      else t.accepted++;
    }
    console.log('.npy fuzz', t);
    expect(Math.min(t.exact, t.refused, t.accepted)).toBeGreaterThan(50);
  });

  test('a 1 MB file whose tensors all name the same bytes is refused at once', () => {
    // ~15,000 entries in a 1 MB header, each claiming the same 64 KiB: an older reader copied
    // every one (~1 GB) before it checked for overlap.
    const dataBytes = 64 * 1024;
    const parts: string[] = [];
    for (let size = 2; ; ) {
      const p = `"t${parts.length}":{"dtype":"F32","shape":[${dataBytes / 4}],"data_offsets":[0,${dataBytes}]}`;
      if (size + p.length + 1 > 1024 * 1024 - 8 - dataBytes) break;
      parts.push(p);
      size += p.length + 1;
    }
    const json = new TextEncoder().encode(`{${parts.join(',')}}`);
    const file = new Uint8Array(8 + json.length + dataBytes);
    new DataView(file.buffer).setBigUint64(0, BigInt(json.length), true);
    file.set(json, 8);
    const before = process.memoryUsage().arrayBuffers;
    const m = measured(() => readSafetensors(file));
    const grew = process.memoryUsage().arrayBuffers - before;
    expect(m.error).toBeInstanceOf(SafetensorsError);
    expect(m.error).toMatchObject({ code: 'overlap', tensor: 't1' });
    expect(m.ms).toBeLessThan(MAX_PARSE_MS);
    expect(m.bytes).toBe(0);
    expect(grew).toBeLessThan(MAX_MEMORY_RATIO * file.length);
    console.log('shared-bytes regression', {
      bytes: file.length,
      tensors: parts.length,
      ms: m.ms,
      arrayBytes: m.bytes,
      arrayBuffersGrew: grew,
    });
  });
});
