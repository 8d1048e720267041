// The workloads bench's checkpoints (bench/models-checkpoints.ts writes them at real shapes with
// seeded random weights) stored as their repositories ship them: all-MiniLM-L6-v2 in F32
// (90.9 MB), SmolLM2-135M in BF16 (269 MB at 30 layers). Shared by the owner and the
// contributor processes, which must hold the same bytes (so the same digest).
import { parseConfig } from '../src/model/hf/config';
import { type ModelSummary, modelSummary } from '../src/model/hf/cost';
import {
  BENCH_MODELS,
  type BenchModelName,
  benchCheckpointFiles,
  benchSafetensors,
} from './models-checkpoints';

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

/** The real model's summary (bench/models-checkpoints.ts's config.json). */
export function realSummary(name: 'minilm' | 'smollm2'): ModelSummary {
  return modelSummary(parseConfig(BENCH_MODELS[name].config));
}

/** A small checkpoint of `name`'s family, layout and initialisation: 2 layers, width 64. */
export function smallCheckpoint(name: 'minilm' | 'smollm2'): Record<string, Uint8Array> {
  const small =
    name === 'minilm'
      ? {
          hidden_size: 64,
          intermediate_size: 256,
          num_attention_heads: 4,
          vocab_size: 1_024,
          max_position_embeddings: 64,
        }
      : {
          hidden_size: 64,
          intermediate_size: 192,
          num_attention_heads: 4,
          num_key_value_heads: 2,
          head_dim: 16,
          vocab_size: 1_024,
          max_position_embeddings: 128,
        };
  const config = { ...BENCH_MODELS[name].config, ...small, num_hidden_layers: 2 };
  const model = { ...BENCH_MODELS[name], config };
  const { files } = benchCheckpointFiles(name, 3, 1);
  const enc = (v: unknown) => new TextEncoder().encode(`${JSON.stringify(v, null, 2)}\n`);
  files.set('config.json', enc(config));
  files.set('model.safetensors', benchSafetensors(model, 3));
  if (files.has('1_Pooling/config.json')) {
    const pooling = JSON.parse(new TextDecoder().decode(files.get('1_Pooling/config.json')!));
    files.set('1_Pooling/config.json', enc({ ...pooling, word_embedding_dimension: 64 }));
  }
  return Object.fromEntries(files);
}
