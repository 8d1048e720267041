import { describe, expect, test } from 'vitest';
import {
  readSafetensors,
  SafetensorsError,
  writeSafetensors,
} from '../../../src/model/safetensors';

const tensors = {
  'wte.weight': { shape: [4, 3], data: Float32Array.from({ length: 12 }, (_, i) => i / 10) },
  'ln.bias': { shape: [3], data: Float32Array.from([1, -2, 3.5]) },
  scalar: { shape: [], data: Float32Array.from([7]) },
};

function fileWithHeader(header: unknown, dataBytes = 64): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

function expectCode(file: Uint8Array, code: string, tensor?: string) {
  expect(() => readSafetensors(file)).toThrow(SafetensorsError);
  expect(() => readSafetensors(file)).toThrowError(
    expect.objectContaining({ code, ...(tensor ? { tensor } : {}) }),
  );
}

describe('safetensors', () => {
  test('round-trips F32 tensors and metadata; data is 8-byte aligned', () => {
    const file = writeSafetensors(tensors, { format: 'pt' });
    const headerLen = Number(new DataView(file.buffer).getBigUint64(0, true));
    expect((8 + headerLen) % 8).toBe(0);
    const { tensors: back, metadata } = readSafetensors(file);
    expect(metadata).toEqual({ format: 'pt' });
    for (const [name, t] of Object.entries(tensors)) {
      expect(back.get(name)).toEqual({ dtype: 'F32', shape: t.shape, data: t.data });
    }
  });

  test('truncated files', () => {
    const file = writeSafetensors(tensors);
    expectCode(file.subarray(0, 5), 'truncated');
    expectCode(file.subarray(0, file.length - 1), 'truncated', 'scalar');
  });

  test('a header length past the end of the file', () => {
    const file = writeSafetensors(tensors).slice();
    new DataView(file.buffer).setBigUint64(0, BigInt(file.length), true);
    expectCode(file, 'header-length');
    const huge = writeSafetensors(tensors).slice();
    new DataView(huge.buffer).setBigUint64(0, 2n ** 63n, true);
    expectCode(huge, 'header-length');
  });

  test('a header that is not a JSON object', () => {
    const bad = new Uint8Array([3, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0x7b, 0x7d]);
    expectCode(bad, 'header-json');
    expectCode(fileWithHeader([1, 2]), 'header-json');
    expectCode(fileWithHeader({ a: 5 }), 'header-json', 'a');
    expectCode(new Uint8Array([2, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe]), 'header-json');
  });

  test('unknown and unsupported dtypes', () => {
    expectCode(
      fileWithHeader({ w: { dtype: 'Q4_K', shape: [2], data_offsets: [0, 8] } }),
      'dtype',
      'w',
    );
    expectCode(
      fileWithHeader({ w: { dtype: 'F16', shape: [2], data_offsets: [0, 4] } }),
      'dtype',
      'w',
    );
  });

  test('bad shapes and shape/size mismatches', () => {
    expectCode(
      fileWithHeader({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }),
      'shape',
      'w',
    );
    expectCode(
      fileWithHeader({ w: { dtype: 'F32', shape: '3', data_offsets: [0, 12] } }),
      'shape',
      'w',
    );
    expectCode(
      fileWithHeader({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }),
      'offsets',
      'w',
    );
  });

  test('out-of-range, reversed and overlapping offsets', () => {
    expectCode(
      fileWithHeader({ w: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }),
      'offsets',
      'w',
    );
    expectCode(
      fileWithHeader({ w: { dtype: 'F32', shape: [100], data_offsets: [0, 400] } }),
      'truncated',
      'w',
    );
    expectCode(
      fileWithHeader({ w: { dtype: 'F32', shape: [2], data_offsets: [0] } }),
      'offsets',
      'w',
    );
    expectCode(
      fileWithHeader({
        a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] },
        b: { dtype: 'F32', shape: [4], data_offsets: [8, 24] },
      }),
      'overlap',
      'b',
    );
  });

  test('the tensors must tile the data: no hole, no trailing bytes, first at 0', () => {
    const a = { dtype: 'F32', shape: [2], data_offsets: [0, 8] };
    expect(readSafetensors(fileWithHeader({ a }, 8)).tensors.get('a')?.shape).toEqual([2]);
    expectCode(fileWithHeader({ a }, 9), 'gap'); // one trailing byte no tensor claims
    expectCode(
      fileWithHeader({ a, b: { dtype: 'F32', shape: [1], data_offsets: [12, 16] } }, 16),
      'gap',
      'b',
    );
    expectCode(
      fileWithHeader({ b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, 8),
      'gap',
      'b',
    );
    expectCode(fileWithHeader({}, 4), 'gap');
    // Empty tensors take no bytes, so several may sit at one offset.
    const empty = { dtype: 'F32', shape: [0, 5], data_offsets: [8, 8] };
    const ok = readSafetensors(fileWithHeader({ a, e1: empty, e2: empty }, 8));
    expect(ok.tensors.get('e2')?.data.length).toBe(0);
  });

  test('every tensor naming the same bytes is refused before any is read', () => {
    const header: Record<string, unknown> = {};
    for (let i = 0; i < 50; i++) {
      header[`t${i}`] = { dtype: 'F32', shape: [4, 4], data_offsets: [0, 64] };
    }
    expectCode(fileWithHeader(header, 64), 'overlap', 't1');
    // The same tensor twice under one name: JSON.parse would keep one silently.
    const twice = new TextEncoder().encode(
      '{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"w":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]}}',
    );
    const file = new Uint8Array(8 + twice.length + 8);
    new DataView(file.buffer).setBigUint64(0, BigInt(twice.length), true);
    file.set(twice, 8);
    expectCode(file, 'header-json');
    expect(() => readSafetensors(file)).toThrow(/"w" appears twice/);
  });

  test('repeated keys are refused at any depth, however they are spelled', () => {
    const header = (json: string) => {
      const bytes = new TextEncoder().encode(json);
      const file = new Uint8Array(8 + bytes.length + 8);
      new DataView(file.buffer).setBigUint64(0, BigInt(bytes.length), true);
      file.set(bytes, 8);
      return file;
    };
    const w = '"dtype":"F32","shape":[2],"data_offsets":[0,8]';
    expect(
      readSafetensors(header(`{"w":{${w}},"__metadata__":{"a":"x","b":"a"}}`)).metadata,
    ).toEqual({
      a: 'x',
      b: 'a',
    });
    expectCode(header(`{"w":{${w},"dtype":"F32"}}`), 'header-json');
    expectCode(header(`{"w":{${w}},"__metadata__":{"a":"x","\\u0061":"y"}}`), 'header-json');
    expectCode(header(`{"\\"w":{${w}},"\\"w":{${w}}}`), 'header-json');
    // Keys in different objects, or a key's text inside a string, are not repeats.
    expect(
      readSafetensors(header(`{"w":{${w}},"__metadata__":{"w":"{\\"w\\":1}"}}`)).metadata,
    ).toEqual({
      w: '{"w":1}',
    });
    expectCode(header(`{"w":{${w}},"__metadata__":["x"]}`), 'header-json');
  });

  test('shapes whose byte size overflows are refused, not wrapped', () => {
    for (const shape of [
      [2 ** 40, 2 ** 40],
      [2 ** 26, 2 ** 26, 2 ** 26, 2 ** 26],
      [Number.MAX_SAFE_INTEGER, 2],
    ]) {
      expectCode(
        fileWithHeader({ w: { dtype: 'F32', shape, data_offsets: [0, 64] } }),
        'offsets',
        'w',
      );
    }
    // A zero anywhere makes it empty, whatever the other sizes.
    const empty = readSafetensors(
      fileWithHeader({ w: { dtype: 'F32', shape: [2 ** 40, 0], data_offsets: [0, 0] } }, 0),
    );
    expect(empty.tensors.get('w')?.data.length).toBe(0);
  });

  test('aligned F32 data is a view of the file; unaligned data is copied once', () => {
    const file = writeSafetensors(tensors);
    const aligned = readSafetensors(file).tensors.get('wte.weight')!;
    expect(aligned.data.buffer).toBe(file.buffer);
    const shifted = new Uint8Array(file.length + 1);
    shifted.set(file, 1);
    const copy = readSafetensors(shifted.subarray(1)).tensors.get('wte.weight')!;
    expect(copy.data.buffer).not.toBe(shifted.buffer);
    expect(copy.data).toEqual(tensors['wte.weight'].data);
  });

  test('1,000 random byte flips never crash: a SafetensorsError or a valid parse', () => {
    const file = writeSafetensors(tensors);
    let state = 12345;
    const next = () => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state;
    };
    for (let i = 0; i < 1000; i++) {
      const bad = file.slice();
      const at = next() % bad.length;
      bad[at] = bad[at]! ^ (1 << (next() % 8));
      try {
        readSafetensors(bad);
      } catch (e) {
        expect(e).toBeInstanceOf(SafetensorsError);
      }
    }
  });
});
