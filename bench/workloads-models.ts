// The workloads bench's checkpoints (bench/models-checkpoints.ts writes them at real shapes with
// seeded random weights) stored as their repositories ship them: all-MiniLM-L6-v2 in F32
// (90.9 MB), SmolLM2-135M in BF16 (269 MB at 30 layers). Shared by the owner and the
// contributor processes, which must hold the same bytes (so the same digest).
import type { BenchModelName } from './models-checkpoints';

/** How each bench model's weights are stored, as its Hugging Face repository ships them. */
export const SHIPPED_DTYPE: Record<BenchModelName, 'F32' | 'BF16'> = {
  minilm: 'F32',
  smollm2: 'BF16',
  qwen25: 'BF16',
};

/** `files` with model.safetensors rewritten in `name`'s shipped dtype (F32: unchanged). */
export function benchWeightsAs(
  files: Map<string, Uint8Array>,
  name: string,
): Map<string, Uint8Array> {
  if (SHIPPED_DTYPE[name as BenchModelName] !== 'BF16') return files;
  const out = new Map(files);
  out.set('model.safetensors', safetensorsToBf16(files.get('model.safetensors')!));
  return out;
}

/** An F32 safetensors file as BF16 (round to nearest even), header rewritten to match. */
export function safetensorsToBf16(f32: Uint8Array): Uint8Array {
  const view = new DataView(f32.buffer, f32.byteOffset, f32.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(f32.subarray(8, 8 + headerLen))) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const names = Object.keys(header)
    .filter((n) => n !== '__metadata__')
    .sort((a, b) => header[a]!.data_offsets[0] - header[b]!.data_offsets[0]);
  const outHeader: Record<string, unknown> = { __metadata__: header.__metadata__ };
  let offset = 0;
  for (const n of names) {
    const t = header[n]!;
    const bytes = (t.data_offsets[1] - t.data_offsets[0]) / 2;
    outHeader[n] = { dtype: 'BF16', shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(outHeader);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(new TextEncoder().encode(json), 8);
  const words = new Uint16Array(out.buffer, 8 + json.length, offset / 2);
  let at = 0;
  for (const n of names) {
    const [from, to] = header[n]!.data_offsets;
    const src = new Uint32Array(
      f32.buffer.slice(f32.byteOffset + 8 + headerLen + from, f32.byteOffset + 8 + headerLen + to),
    );
    for (let i = 0; i < src.length; i++) {
      const x = src[i]!;
      words[at++] = (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
    }
  }
  return out;
}
