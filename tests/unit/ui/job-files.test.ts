import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { defaultPolicy } from '../../../src/jobs/inference-spec';
import type { JobSpec } from '../../../src/jobs/kinds';
import { readNpy } from '../../../src/model/npy';
import { generatedTexts, textsFile, valuesFile, verifiedFiles } from '../../../src/ui/job-files';

// The files a researcher downloads from a job: the whole answer, what was verified of a
// cancelled or stalled one (values and a uint8 mask, read back as numpy reads them), and
// generated texts as JSONL.

const m = 2;
const n = 3;
const matmul: JobSpec = {
  kind: 'matmul',
  spec: { m, k: 4, n, a: new Float32Array(8), b: new Float32Array(12), blockRows: 1, blockCols: 3 },
};
/** C with its second row unverified (garbage there: the file must not carry it). */
const c = Float32Array.of(1, 2, 3, Number.NaN, 99, -7);
const mask = Uint8Array.of(1, 1, 1, 0, 0, 0);

/** The .npy header's dict, as text. */
function header(bytes: Uint8Array): string {
  const len = bytes[8]! | (bytes[9]! << 8);
  return new TextDecoder().decode(bytes.subarray(10, 10 + len)).trim();
}

function numpyAvailable(): boolean {
  try {
    execFileSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('matmul', () => {
  test('a finished job: C as float32 .npy of shape m×n', () => {
    const file = valuesFile('job1', matmul, {
      kind: 'matmul',
      c: Float32Array.of(1, 2, 3, 4, 5, 6),
    });
    expect(file.name).toBe('C-job1.npy');
    const back = readNpy(file.bytes);
    expect(back.shape).toEqual([m, n]);
    expect(Array.from(back.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  test('what was verified so far: C with unverified elements 0, and a uint8 mask of its shape', () => {
    const [values, maskFile] = verifiedFiles('job1', matmul, {
      answer: { kind: 'matmul', c },
      mask,
      complete: false,
    });
    expect(values.name).toBe('C-job1-verified.npy');
    expect(Array.from(readNpy(values.bytes).data)).toEqual([1, 2, 3, 0, 0, 0]);
    expect(maskFile.name).toBe('mask-job1.npy');
    expect(header(maskFile.bytes)).toBe(
      "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), }",
    );
    expect((maskFile.bytes.length - mask.length) % 64).toBe(0); // data on a 64-byte boundary
    expect(Array.from(maskFile.bytes.subarray(-mask.length))).toEqual(Array.from(mask));
  });

  test('numpy reads the mask as uint8 and the verified C as float32 (where numpy is installed)', () => {
    if (!numpyAvailable()) {
      console.warn('python3 with numpy not found: numpy.load of the mask not run');
      return;
    }
    const [values, maskFile] = verifiedFiles('j', matmul, {
      answer: { kind: 'matmul', c },
      mask,
      complete: false,
    });
    const dir = mkdtempSync(join(tmpdir(), 'tessel-mask-'));
    writeFileSync(join(dir, 'c.npy'), values.bytes);
    writeFileSync(join(dir, 'mask.npy'), maskFile.bytes);
    const out = execFileSync('python3', [
      '-c',
      'import numpy,sys; c=numpy.load(sys.argv[1]); k=numpy.load(sys.argv[2]); print(k.dtype, k.shape, k.tolist(), c.dtype, (c*(1-k)).sum())',
      join(dir, 'c.npy'),
      join(dir, 'mask.npy'),
    ]).toString();
    expect(out.trim()).toBe('uint8 (2, 3) [[1, 1, 1], [0, 0, 0]] float32 0.0');
  });

  test('a mask that does not cover C is refused, not written', () => {
    expect(() =>
      verifiedFiles('j', matmul, {
        answer: { kind: 'matmul', c },
        mask: new Uint8Array(5),
        complete: false,
      }),
    ).toThrow(RangeError);
  });
});

describe('inference', () => {
  const vocab = ['a', 'b', 'c', ' '];
  const spec = (mode: 'tokens' | 'logits'): JobSpec => ({
    kind: 'inference',
    spec: {
      modelDigest: 'd',
      model: { vocab: 4 } as never, // only the vocabulary size matters here
      sequences: [Uint32Array.of(0, 3), Uint32Array.of(1), Uint32Array.of(2, 2)],
      mode,
      steps: mode === 'tokens' ? 2 : 0,
      temperature: 0,
      seed: 1,
      perShard: 1,
      policy: defaultPolicy(mode),
    },
  });

  test('generated texts: prompt and continuation apart, only the verified sequences', () => {
    const got = {
      answer: {
        kind: 'inference' as const,
        logits: new Float32Array(0),
        tokens: Uint32Array.of(1, 2, 0, 0, 3, 0),
      },
      mask: Uint8Array.of(1, 0, 1),
      complete: false,
    };
    const texts = generatedTexts(spec('tokens'), got, vocab);
    expect(texts).toEqual([
      { sequence: 0, prompt: 'a ', continuation: 'bc' },
      { sequence: 2, prompt: 'cc', continuation: ' a' },
    ]);
    const file = textsFile('job2', texts);
    expect(file.name).toBe('texts-job2.jsonl');
    const lines = new TextDecoder().decode(file.bytes).trimEnd().split('\n');
    expect(lines.map((l) => JSON.parse(l))).toEqual(texts);
    // A token outside the vocabulary reads "?", never undefined.
    const odd = { ...got, answer: { ...got.answer, tokens: Uint32Array.of(9, 1, 0, 0, 0, 0) } };
    expect(generatedTexts(spec('tokens'), odd, vocab)[0]!.continuation).toBe('?b');
    expect(generatedTexts(spec('logits'), got, vocab)).toEqual([]);
  });

  test('logits: verified rows kept, the others 0, and a mask with one byte per sequence', () => {
    const logits = Float32Array.from({ length: 12 }, (_, i) => i + 1);
    const [values, maskFile] = verifiedFiles('job3', spec('logits'), {
      answer: { kind: 'inference', logits, tokens: new Uint32Array(0) },
      mask: Uint8Array.of(0, 1, 0),
      complete: false,
    });
    expect(values.name).toBe('logits-job3-verified.npy');
    const back = readNpy(values.bytes);
    expect(back.shape).toEqual([3, 4]);
    expect(Array.from(back.data)).toEqual([0, 0, 0, 0, 5, 6, 7, 8, 0, 0, 0, 0]);
    expect(header(maskFile.bytes)).toBe(
      "{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }",
    );
  });
});
