import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { readNpy, TensorFileError } from '../../../src/model/npy';

// The .npy header is a Python dict literal that numpy reads with ast.literal_eval and then
// requires to hold exactly 'descr', 'fortran_order' and 'shape'. These headers, around twelve
// little-endian float32 values 0…11, are read by tessel and (where python3 with numpy is
// installed) by numpy itself: the two must agree, except where tessel is stricter by design.

const values = Float32Array.from({ length: 12 }, (_, i) => i);

/** A version 1.0 .npy file with `header` (padded as numpy pads) and the twelve values. */
function npy(header: string): Uint8Array {
  const padded = `${header}${' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64)}\n`;
  const out = new Uint8Array(10 + padded.length + 48);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, padded.length, true);
  for (let i = 0; i < padded.length; i++) out[10 + i] = padded.charCodeAt(i);
  new Uint8Array(out.buffer, 10 + padded.length).set(new Uint8Array(values.buffer));
  return out;
}

type Outcome = { shape: number[]; data: number[] } | { refused: string };

function tessel(header: string): Outcome {
  try {
    const t = readNpy(npy(header));
    return { shape: t.shape, data: Array.from(t.data) };
  } catch (e) {
    expect(e).toBeInstanceOf(TensorFileError);
    return { refused: (e as TensorFileError).code };
  }
}

const C34 = { shape: [3, 4], data: Array.from(values) };
// Fortran order: the file's values run down the columns first.
const F34 = { shape: [3, 4], data: [0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11] };
const canonical = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }";

/** Headers numpy reads as it does tessel: [header, what both make of it]. */
const agreed: [string, Outcome][] = [
  [canonical, C34],
  ['{"descr": "<f4", "fortran_order": False, "shape": (3, 4)}', C34],
  ["{'shape': (3, 4), 'fortran_order': False, 'descr': '<f4'}", C34],
  ["{'descr':'<f4','fortran_order':False,'shape':(3,4,)}", C34],
  ["\n{'descr': '<f4',\t'fortran_order': False,\f'shape': (3, 4), }\r", C34],
  ["{'descr': '<f4', 'fortran_order': True, 'shape': (3, 4), }", F34],
  ["{'descr': '|f4', 'fortran_order': False, 'shape': (3, 4), }", C34],
  ["{'descr': '=f4', 'fortran_order': False, 'shape': (3, 4), }", C34],
  ["{'descr': '<f4', 'fortran_order': False, 'shape': (1_2,), }", { shape: [12], data: C34.data }],
  ["{'descr': '<f4', 'fortran_order': False, 'shape': (12), }", { refused: 'header' }], // an int
  ["{'descr': '<f4', 'fortran_order': False, 'shape': [3, 4], }", { refused: 'header' }],
  ["{'descr': '<f4', 'fortran_order': 0, 'shape': (3, 4), }", { refused: 'header' }],
  ["{'descr': '<f4', 'fortran_order': False, 'shape': (True, 12), }", { refused: 'header' }],
  ["{'descr': '<f4', 'fortran_order': False, 'shape': (3, -4), }", { refused: 'header' }],
  ["{'descr': '<f4', 'fortran_order': False, 'shape': (3.0, 4), }", { refused: 'header' }],
  ["{'descr': '<f4', 'fortran_order': False}", { refused: 'header' }],
  ["{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), 'x': 1}", { refused: 'header' }],
  // 'shape' only inside another value's text: not a key, so the header lacks it (and has 'x').
  [`{'descr': '<f4', 'fortran_order': False, 'x': "'shape': (3, 4)"}`, { refused: 'header' }],
  [`{'descr': "<f4', 'shape': (3, 4)", 'fortran_order': False}`, { refused: 'header' }],
  [`{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }\v`, { refused: 'header' }],
  [`{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }\xa0`, { refused: 'header' }],
  [`{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), } x`, { refused: 'header' }],
  ["{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4)", { refused: 'header' }],
  ["{'descr': '<f4' 'fortran_order': False, 'shape': (3, 4)}", { refused: 'header' }],
  ["['descr', '<f4']", { refused: 'header' }],
];

/** Headers numpy reads but tessel refuses: a key given twice, and Python beyond numpy's output. */
const stricter: string[] = [
  // numpy keeps the last value; tessel used to keep the first (a transposed matrix here).
  "{'descr': '<f4', 'fortran_order': True, 'shape': (3, 4), 'fortran_order': False}",
  "{'descr': '>f4', 'fortran_order': False, 'shape': (3, 4), 'descr': '<f4'}",
  "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 4), 'shape': (3, 4)}",
  `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), "shape": (3, 4)}`,
  `${canonical} # a comment`,
  "{'descr': '<f4', 'fortran_order': False, 'shape': (0x3, 4), }",
  "{'descr': u'<f4', 'fortran_order': False, 'shape': (3, 4), }",
];

/** numpy's verdict on each header, or undefined where python3 with numpy is not installed. */
function numpyOutcomes(headers: string[]): Outcome[] | undefined {
  try {
    execFileSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' });
  } catch {
    console.warn('python3 with numpy not found: headers checked against tessel only');
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), 'tessel-npy-header-'));
  for (const [i, h] of headers.entries()) writeFileSync(join(dir, `${i}.npy`), npy(h));
  const script = `
import json, sys, numpy
out = []
for i in range(int(sys.argv[2])):
    try:
        a = numpy.load(f"{sys.argv[1]}/{i}.npy")
        out.append({"shape": list(a.shape), "data": [float(v) for v in a.astype("<f4").ravel()]})
    except Exception as e:
        out.append({"refused": type(e).__name__})
print(json.dumps(out))`;
  const json = execFileSync('python3', ['-c', script, dir, String(headers.length)]).toString();
  return JSON.parse(json) as Outcome[];
}

describe('.npy headers are read as numpy reads them', () => {
  const all = [...agreed.map(([h]) => h), ...stricter];
  const numpy = numpyOutcomes(all);

  test.each(agreed.map(([h, want], i) => [i, h, want] as const))(
    'header %i: %s',
    (i, header, want) => {
      const got = tessel(header);
      expect(got).toEqual(want);
      if (numpy) {
        const theirs = numpy[i]!;
        if ('refused' in want) expect(theirs).toHaveProperty('refused');
        else expect(theirs).toEqual(want);
      }
    },
  );

  test.each(stricter.map((h, i) => [agreed.length + i, h] as const))(
    'header %i is refused although numpy reads it: %s',
    (i, header) => {
      expect(tessel(header)).toEqual({ refused: 'header' });
      if (numpy) expect(numpy[i]).toHaveProperty('shape');
    },
  );

  test('a duplicate key is named in the error', () => {
    expect(() => readNpy(npy(stricter[0]!))).toThrow(/gives 'fortran_order' twice/);
  });

  test('a shape whose size overflows is refused, not wrapped', () => {
    const huge = `{'descr': '<f4', 'fortran_order': False, 'shape': (${2 ** 40}, ${2 ** 40}, 4), }`;
    expect(tessel(huge)).toEqual({ refused: 'truncated' });
    const zero = `{'descr': '<f4', 'fortran_order': False, 'shape': (${2 ** 52}, 0), }`;
    expect(tessel(zero)).toEqual({ refused: 'shape' }); // no values, but 48 bytes follow
  });

  test('version 1.0 files are read; a minor version numpy does not know is refused', () => {
    const file = npy(canonical);
    expect(readNpy(file).shape).toEqual([3, 4]);
    file[7] = 1;
    expect(() => readNpy(file)).toThrow(/not 1.0, 2.0 or 3.0/);
  });
});
