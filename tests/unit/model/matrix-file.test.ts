import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { readMatrix } from '../../../src/model/matrix-file';
import { readNpy, TensorFileError, writeNpy } from '../../../src/model/npy';
import { writeSafetensors } from '../../../src/model/safetensors';

// The fixtures were written by numpy itself (scripts/npy-fixtures.py); each holds this matrix.
const fixture = (name: string) => new Uint8Array(readFileSync(`tests/fixtures/npy/${name}`));
const want = Float32Array.from({ length: 12 }, (_, i) => (i - 5.5) / 3);

function refused(bytes: Uint8Array): TensorFileError {
  try {
    readMatrix(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(TensorFileError);
    return e as TensorFileError;
  }
  throw new Error('the file was accepted');
}

describe('reading a matrix a researcher uploads', () => {
  test.each([
    'c-f32-le.npy',
    'c-f64-be.npy',
    'fortran-f32-be.npy',
    'fortran-f64-le.npy',
    'matrix-f64.safetensors',
  ])('%s: the same 3×4 matrix, row-major float32', (name) => {
    const m = readMatrix(fixture(name));
    expect(m.rows).toBe(3);
    expect(m.cols).toBe(4);
    expect(Array.from(m.data)).toEqual(Array.from(want));
  });

  test('a safetensors file with one F32 tensor', () => {
    const file = writeSafetensors({ B: { shape: [4, 3], data: want } });
    expect(readMatrix(file)).toMatchObject({ rows: 4, cols: 3, data: want });
  });

  test.each([
    ['int32.npy', 'dtype', /int32.*float32 and float64/],
    ['float16.npy', 'dtype', /float16/],
    ['object.npy', 'object', /Python objects/],
    ['vector-f32.npy', 'shape', /1-D array of shape \(5\), not a matrix/],
  ])('%s is refused (%s)', (name, code, message) => {
    const e = refused(fixture(name));
    expect(e.code).toBe(code);
    expect(e.message).toMatch(message);
  });

  test('a truncated file says how much is missing', () => {
    const whole = fixture('c-f32-le.npy');
    const e = refused(whole.subarray(0, whole.length - 5));
    expect(e.code).toBe('truncated');
    expect(e.message).toMatch(/48 bytes, but only 43 follow/);
    expect(refused(whole.subarray(0, 40)).code).toBe('truncated'); // inside the header
  });

  test('a header lying about the shape is refused', () => {
    const bytes = fixture('c-f32-le.npy').slice();
    const text = new TextDecoder('latin1').decode(bytes);
    const at = text.indexOf('(3, 4)');
    bytes.set(new TextEncoder().encode('(2, 4)'), at); // claims 8 values, holds 12
    const e = refused(bytes);
    expect(e.code).toBe('shape');
    expect(e.message).toMatch(/does not describe the data/);
    bytes.set(new TextEncoder().encode('(9, 4)'), at); // claims 36 values, holds 12
    expect(refused(bytes).code).toBe('truncated');
  });

  test('garbage, a broken header, NaN and out-of-range float64 are refused', () => {
    expect(refused(new TextEncoder().encode('a,b,c\n1,2,3\n')).code).toBe('format');
    const bytes = fixture('c-f32-le.npy').slice();
    bytes[12] = 0x5b; // '{' becomes '[': not a dict
    expect(refused(bytes).code).toBe('header');
    const nan = writeNpy(Float32Array.of(1, Number.NaN, 2, 3), [2, 2]);
    expect(refused(nan).code).toBe('not-finite');
    const huge = fixture('c-f64-be.npy').slice();
    new DataView(huge.buffer).setFloat64(huge.length - 8, 1e300, false);
    expect(refused(huge).message).toMatch(/beyond float32's range/);
    const f16 = writeSafetensors({ A: { shape: [2, 2], data: new Float32Array(4) } });
    const asF16 = new TextDecoder().decode(f16).replace('"F32"', '"I32"');
    expect(refused(new TextEncoder().encode(asF16)).code).toBe('dtype');
  });

  test('a safetensors file with two tensors asks for one', () => {
    const file = writeSafetensors({
      A: { shape: [2, 2], data: new Float32Array(4) },
      B: { shape: [2, 2], data: new Float32Array(4) },
    });
    expect(refused(file).message).toMatch(/2 tensors \(A, B\)/);
  });
});

describe('writing C as numpy does', () => {
  test('byte for byte what numpy.save writes', () => {
    expect(writeNpy(want, [3, 4])).toEqual(fixture('written-by-numpy.npy'));
  });

  test('round trip, any shape', () => {
    for (const shape of [[1, 1], [7], [65, 3], [2, 3, 4]]) {
      const n = shape.reduce((a, b) => a * b, 1);
      const data = Float32Array.from({ length: n }, (_, i) => Math.fround(i / 7 - 1));
      const back = readNpy(writeNpy(data, shape));
      expect(back.shape).toEqual(shape);
      expect(back.data).toEqual(data);
      expect((writeNpy(data, shape).length - data.byteLength) % 64).toBe(0);
    }
  });

  test('numpy.load reads what tessel writes (where python3 with numpy is installed)', () => {
    let python = true;
    try {
      execFileSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' });
    } catch {
      python = false;
    }
    if (!python) {
      // The byte-for-byte test above still holds the format to numpy's own output.
      console.warn('python3 with numpy not found: numpy.load round trip not run');
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'tessel-npy-'));
    const data = Float32Array.from({ length: 6 * 5 }, (_, i) => Math.fround(Math.sin(i)));
    writeFileSync(join(dir, 'c.npy'), writeNpy(data, [6, 5]));
    const out = execFileSync('python3', [
      '-c',
      'import numpy,sys; a=numpy.load(sys.argv[1]); print(a.dtype, a.shape, a.flags.c_contiguous, repr(float(a[5,4])))',
      join(dir, 'c.npy'),
    ]).toString();
    expect(out.trim()).toBe(`float32 (6, 5) True ${JSON.stringify(data[29])}`);
  });
});
