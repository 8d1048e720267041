// Tensors cross the network and IndexedDB as little-endian bytes, never as JSON numbers.

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

type Words = Float32Array | Uint32Array;

function toBytes(f: Words, set: (dv: DataView, at: number, v: number) => void): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
  const out = new Uint8Array(f.length * 4);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < f.length; i++) set(dv, i * 4, f[i]!);
  return out;
}

function fromBytes<T extends Words>(
  b: Uint8Array,
  out: T,
  get: (dv: DataView, at: number) => number,
): T {
  if (LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(b.subarray(0, out.length * 4));
  } else {
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    for (let i = 0; i < out.length; i++) out[i] = get(dv, i * 4);
  }
  return out;
}

/** Little-endian bytes of a Float32Array (a view, not a copy, on little-endian hosts). */
export function f32ToBytes(f: Float32Array): Uint8Array {
  return toBytes(f, (dv, at, v) => dv.setFloat32(at, v, true));
}

/** A fresh, aligned Float32Array from little-endian bytes (a trailing partial word is ignored). */
export function bytesToF32(b: Uint8Array): Float32Array {
  return fromBytes(b, new Float32Array(b.byteLength >> 2), (dv, at) => dv.getFloat32(at, true));
}

/** Little-endian bytes of a Uint32Array (token ids, lengths, seeds). */
export function u32ToBytes(u: Uint32Array): Uint8Array {
  return toBytes(u, (dv, at, v) => dv.setUint32(at, v, true));
}

/** A fresh, aligned Uint32Array from little-endian bytes. */
export function bytesToU32(b: Uint8Array): Uint32Array {
  return fromBytes(b, new Uint32Array(b.byteLength >> 2), (dv, at) => dv.getUint32(at, true));
}
