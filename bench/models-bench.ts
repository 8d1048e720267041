// One side of the models bench (scripts/models-bench.mjs) in a page of its own: tessel's WebGPU
// engine (GpuHfModel), tessel's CPU engine (CpuHfModel) or transformers.js v4 on its webgpu or
// wasm backend (fp32, or its default q8 on wasm), running one checkpoint folder written by
// models-prepare.ts (same weights for every side). The driver opens a fresh browser per side
// and run and calls `runModelSide` once; nothing else computes in the page.
//
// Tasks, each timed after one untimed warm-up (compilation and first uploads stay out; a
// decode's warm-up is one step):
//   embed   (BERT) `batch` sequences of `seq` tokens → pooled, normalised embeddings
//   prefill (decoders) one prompt of `seq` tokens → the last slot's logits
//   decode  (decoders) `batch` prompts of `prompt` tokens, then `steps` steps of one token per
//           sequence through the KV cache; only the steps are timed. Tokens are fixed (not
//           sampled), so every side computes the same sequence and its logits compare.
// Each task returns its first sequence's output (embedding, or logits after the last token) for
// the driver to compare across sides.

import { CpuKernels } from '../src/cpu/kernels';
import { GpuContext } from '../src/gpu/context';
import { loadCheckpoint } from '../src/model/hf/checkpoint';
import { filesFromMap } from '../src/model/hf/files';
import { CpuHfModel } from '../src/model/hf/run-cpu';
import { GpuHfModel } from '../src/model/hf/run-gpu';

export type Side = 'tessel-webgpu' | 'tessel-cpu' | 'tjs-webgpu' | 'tjs-wasm' | 'tjs-wasm-q8';
export type Task =
  | { kind: 'embed'; batch: number; seq: number }
  | { kind: 'prefill'; seq: number }
  | { kind: 'decode'; batch: number; prompt: number; steps: number };

export interface SideSpec {
  side: Side;
  /** Checkpoint folder under FILES_PREFIX. */
  folder: string;
  tasks: Task[];
  /** Timed iterations per task (after the warm-up). */
  iterations: number;
  /** CPU threads: tessel's CPU engine and ONNX Runtime's wasm backend alike. */
  threads: number;
}

export interface TaskResult {
  task: Task;
  /** Each timed iteration's milliseconds. */
  ms: number[];
  /** Units (embeddings, tokens) per timed iteration. */
  units: number;
  /** The first sequence's output (see the module comment). */
  output: number[];
}

export interface SideResult {
  side: Side;
  load_ms: number;
  tasks: TaskResult[];
  /** tessel: bytes its runner holds (weights, KV cache of the largest task); undefined for
   * transformers.js (its runtime exposes none). */
  resident_bytes?: { weights: number; kv_cache: number };
  threads: number;
  detail: string;
}

/** Where the driver serves the checkpoint folders and ORT's wasm for transformers.js. */
const FILES_PREFIX = '/models-bench-files/';
const TJS_ORT_PREFIX = '/tjs-ort/';

/** Token ids the bench feeds: fixed, spread over the vocabulary. */
const tokenAt = (b: number, i: number, vocab: number) => (b * 7919 + i * 31 + 11) % vocab;
const stepToken = (b: number, i: number, vocab: number) => (b * 5 + i * 13 + 7) % vocab;

/** The common shape of tessel's two runners. */
interface TesselRunner {
  start(batch: number[][], maxNewTokens: number): Promise<Float32Array[]>;
  step(next: number[]): Promise<Float32Array[]>;
  embed(batch: number[][]): Promise<Float32Array[]>;
}

/** One task as the engine runs it: `prepare` (untimed) then `run` (timed) → first output. */
interface Engine {
  embed(batch: number[][]): Promise<Float32Array>;
  prefill(tokens: number[]): Promise<Float32Array>;
  /** Opens the batch (untimed); the returned function runs the steps (timed). */
  decode(prompts: number[][], steps: number): Promise<() => Promise<Float32Array>>;
  dispose(): Promise<void>;
}

/** The folder's files tessel reads (the driver's server answers any other name with its index
 * page, so only files the family has are asked for). */
async function fetchFolder(folder: string, bert: boolean): Promise<Map<string, Uint8Array>> {
  const names = ['config.json', 'model.safetensors'];
  if (bert) names.push('modules.json', '1_Pooling/config.json', 'sentence_bert_config.json');
  else names.push('generation_config.json');
  const files = new Map<string, Uint8Array>();
  await Promise.all(
    names.map(async (n) => {
      const r = await fetch(`${FILES_PREFIX}${folder}/${n}`);
      if (!r.ok) throw new Error(`${folder}/${n}: HTTP ${r.status}`);
      files.set(n, new Uint8Array(await r.arrayBuffer()));
    }),
  );
  return files;
}

function tesselEngine(m: TesselRunner): Engine {
  return {
    embed: async (batch) => (await m.embed(batch))[0]!,
    prefill: async (tokens) => (await m.start([tokens], 1))[0]!,
    decode: async (prompts, steps) => {
      await m.start(prompts, steps);
      return async () => {
        let last: Float32Array[] = [];
        for (let i = 0; i < steps; i++) {
          last = await m.step(prompts.map((_, b) => stepToken(b, i, VOCAB.n)));
        }
        return last[0]!;
      };
    },
    dispose: async () => {},
  };
}

const VOCAB = { n: 0 };

/** transformers.js v4 from the local folder; webgpu or wasm, fp32 or q8. */
async function tjsEngine(
  spec: SideSpec,
  bert: boolean,
): Promise<{ engine: Engine; detail: string }> {
  const T = await import('@huggingface/transformers');
  T.env.allowRemoteModels = false;
  T.env.allowLocalModels = true;
  T.env.localModelPath = `${location.origin}${FILES_PREFIX}`;
  T.env.useBrowserCache = false;
  T.env.useWasmCache = false;
  const onnx = T.env.backends.onnx as { wasm: Record<string, unknown> };
  onnx.wasm.wasmPaths = {
    mjs: `${location.origin}${TJS_ORT_PREFIX}ort-wasm-simd-threaded.asyncify.mjs`,
    wasm: `${location.origin}${TJS_ORT_PREFIX}ort-wasm-simd-threaded.asyncify.wasm`,
  };
  onnx.wasm.numThreads = spec.threads;
  const device = spec.side === 'tjs-webgpu' ? 'webgpu' : 'wasm';
  const dtype = spec.side === 'tjs-wasm-q8' ? 'q8' : 'fp32';
  const options = { device, dtype } as const;
  // biome-ignore lint/suspicious/noExplicitAny: transformers.js's model classes are loosely typed
  const model: any = bert
    ? await T.AutoModel.from_pretrained(spec.folder, options)
    : await T.AutoModelForCausalLM.from_pretrained(spec.folder, options);
  const ids = (rows: number[][]) =>
    new T.Tensor('int64', BigInt64Array.from(rows.flat(), BigInt), [rows.length, rows[0]!.length]);
  const ones = (rows: number, cols: number) =>
    new T.Tensor('int64', new BigInt64Array(rows * cols).fill(1n), [rows, cols]);
  const keep1 = () => new T.Tensor('int64', BigInt64Array.of(1n), []);
  // Present tensors left on the GPU (webgpu) are freed as generate frees them.
  // biome-ignore lint/suspicious/noExplicitAny: see above
  const release = async (out: any) => {
    for (const [k, v] of Object.entries(out)) {
      if (k.startsWith('present') && (v as { location?: string }).location === 'gpu-buffer') {
        await (v as { dispose(): Promise<void> }).dispose();
      }
    }
  };
  const lastLogits = (logits: { data: Float32Array; dims: number[] }) => {
    const [, S, V] = logits.dims as [number, number, number];
    return logits.data.slice((S - 1) * V, S * V); // sequence 0, last kept slot
  };
  const engine: Engine = {
    embed: async (batch) => {
      const B = batch.length;
      const S = batch[0]!.length;
      const out = await model({
        input_ids: ids(batch),
        attention_mask: ones(B, S),
        token_type_ids: ids(batch.map((r) => r.map(() => 0))),
      });
      // sentence-transformers' Pooling (mean over the mask, all ones here) and Normalize.
      const h = out.last_hidden_state.data as Float32Array;
      const H = out.last_hidden_state.dims[2] as number;
      let first = new Float32Array(H);
      for (let b = 0; b < B; b++) {
        const v = new Float32Array(H);
        for (let t = 0; t < S; t++) for (let i = 0; i < H; i++) v[i]! += h[(b * S + t) * H + i]!;
        let norm = 0;
        for (let i = 0; i < H; i++) norm += (v[i]! / S) ** 2;
        const scale = 1 / S / Math.max(Math.sqrt(norm), 1e-12);
        for (let i = 0; i < H; i++) v[i]! *= scale;
        if (b === 0) first = v;
      }
      return first;
    },
    prefill: async (tokens) => {
      const out = await model.forward({
        input_ids: ids([tokens]),
        attention_mask: ones(1, tokens.length),
        num_logits_to_keep: keep1(),
      });
      await release(out);
      return lastLogits(out.logits);
    },
    decode: async (prompts, steps) => {
      // generate's own loop: forward, then _update_model_kwargs_for_generation (present → past,
      // the mask grown by one, position ids from it), with fixed tokens instead of sampling.
      const inputs = {
        input_ids: ids(prompts),
        attention_mask: ones(prompts.length, prompts[0]!.length),
        num_logits_to_keep: keep1(),
      };
      let out = await model.forward(inputs);
      let step = 0;
      const advance = () =>
        model._update_model_kwargs_for_generation({
          generated_input_ids: prompts.map((_, b) => [BigInt(stepToken(b, step, VOCAB.n))]),
          outputs: out,
          model_inputs: inputs,
          is_encoder_decoder: false,
        });
      return async () => {
        for (; step < steps; step++) {
          advance();
          out = await model.forward(inputs);
          (out.logits as { data: Float32Array }).data; // read back, as generate's sampler does
        }
        const logits = lastLogits(out.logits);
        await (
          inputs as { past_key_values?: { dispose(): Promise<void> } }
        ).past_key_values?.dispose();
        await release(out);
        return logits;
      };
    },
    dispose: async () => model.dispose(),
  };
  return { engine, detail: `transformers.js ${T.env.version} ${device} ${dtype}` };
}

async function runModelSide(spec: SideSpec): Promise<SideResult> {
  const t0 = performance.now();
  const config = await (await fetch(`${FILES_PREFIX}${spec.folder}/config.json`)).json();
  VOCAB.n = config.vocab_size;
  const bert = config.model_type === 'bert';
  let engine: Engine;
  let detail: string;
  let resident: () => SideResult['resident_bytes'] = () => undefined;
  if (spec.side === 'tessel-webgpu' || spec.side === 'tessel-cpu') {
    const ck = await loadCheckpoint(filesFromMap(await fetchFolder(spec.folder, bert)));
    if (spec.side === 'tessel-webgpu') {
      const ctx = await GpuContext.create();
      const m = await GpuHfModel.load(ctx, ck);
      engine = {
        ...tesselEngine(m),
        dispose: async () => {
          m.dispose();
          ctx.destroy();
        },
      };
      const c = config as Record<string, number>;
      // The GPU KV cache: f32 keys and values, batch × capacity × kv heads × head size a layer.
      const kv = (t: Task) =>
        t.kind === 'decode'
          ? t.batch *
            (t.prompt + t.steps) *
            c.num_key_value_heads! *
            (c.head_dim ?? c.hidden_size! / c.num_attention_heads!) *
            4 *
            2 *
            c.num_hidden_layers!
          : 0;
      resident = () => ({ weights: m.weightBytes, kv_cache: Math.max(0, ...spec.tasks.map(kv)) });
      detail = `tessel WebGPU, ${ctx.summary.description || ctx.summary.architecture || 'adapter'}`;
    } else {
      const cpu = await CpuKernels.create({ threads: spec.threads });
      const m = await CpuHfModel.load(cpu, ck);
      let peak = { weights: 0, kv_cache: 0 };
      const track = () => {
        const r = m.residentBytes;
        peak = { weights: r.weights, kv_cache: Math.max(peak.kv_cache, r.kvCache) };
      };
      const base = tesselEngine(m);
      engine = {
        ...base,
        decode: async (p, s) => {
          const run = await base.decode(p, s);
          track();
          return run;
        },
        dispose: async () => {
          await m.dispose();
          cpu.dispose();
        },
      };
      track();
      resident = () => peak;
      detail = `tessel CPU engine, ${cpu.summary.threads} thread(s), ${cpu.summary.simd}`;
    }
  } else {
    ({ engine, detail } = await tjsEngine(spec, bert));
  }
  const load_ms = performance.now() - t0;
  const tasks: TaskResult[] = [];
  for (const task of spec.tasks) {
    const ms: number[] = [];
    let output: Float32Array = new Float32Array(0);
    let units = 0;
    for (let it = 0; it <= spec.iterations; it++) {
      let t: number;
      if (task.kind === 'embed') {
        const batch = Array.from({ length: task.batch }, (_, b) =>
          Array.from({ length: task.seq }, (_, i) => tokenAt(b, i, VOCAB.n)),
        );
        t = performance.now();
        output = await engine.embed(batch);
        units = task.batch;
      } else if (task.kind === 'prefill') {
        const tokens = Array.from({ length: task.seq }, (_, i) => tokenAt(0, i, VOCAB.n));
        t = performance.now();
        output = await engine.prefill(tokens);
        units = task.seq;
      } else {
        const prompts = Array.from({ length: task.batch }, (_, b) =>
          Array.from({ length: task.prompt }, (_, i) => tokenAt(b, i, VOCAB.n)),
        );
        // The warm-up takes one step: every step runs the same kernels.
        const steps = it === 0 ? 1 : task.steps;
        const run = await engine.decode(prompts, steps);
        t = performance.now();
        output = await run();
        units = task.batch * steps;
      }
      if (it > 0) ms.push(performance.now() - t); // iteration 0 warms up
    }
    tasks.push({ task, ms, units, output: Array.from(output) });
  }
  const resident_bytes = resident();
  await engine.dispose();
  return { side: spec.side, load_ms, tasks, resident_bytes, threads: spec.threads, detail };
}

Object.assign(globalThis, { runModelSide });
