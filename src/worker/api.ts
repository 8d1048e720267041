import type { CpuSummary } from '../cpu/identity';
import type { AdapterSummary } from '../gpu/device';
import type { GpuErrorCode } from '../gpu/errors';
import type { TileConfig } from '../gpu/matmul';
import type {
  CheckpointFileMap,
  DetokenizeOptions,
  EmbedRequest,
  GenerateOptions,
  GenerateRequest,
  Generation,
  ModelInfo,
  ScoreRequest,
  TokenizedRows,
  TokenizeRequest,
  TokenScores,
} from '../model/hf/runtime-types';
import type { MatmulShape } from '../reference/matmul';

export { RequestError } from '../model/hf/request-error';
export type {
  ChatMessage,
  CheckpointFileMap,
  DetokenizeOptions,
  EmbedRequest,
  GenerateOptions,
  GenerateRequest,
  Generation,
  ModelInfo,
  ScoreRequest,
  TokenizedRows,
  TokenizeRequest,
  TokenScores,
} from '../model/hf/runtime-types';
export { MAX_TOKENIZE_TEXTS } from '../model/hf/runtime-types';
// The types of the compute Worker's API. The implementation is local-api.ts (re-exported here,
// where Node callers have always found it); the table of its methods is methods.ts.
export { type ComputeApiOptions, createComputeApi, type LocalCompute } from './local-api';

/** What computes: the WebGPU kernels (src/gpu) or the WebAssembly SIMD ones (src/cpu). */
export type EngineKind = 'webgpu' | 'cpu';

/** What `info()` reports about the worker's engines. */
export interface ComputeInfo {
  /** The engine shards run on now (`setEngine`). */
  engine: EngineKind;
  /** That engine and what runs it, e.g. "webgpu:nvidia/ampere" or "cpu:wasm-fma": sent with
   * work requests, and the identity redundancy compares ("different adapters"). */
  identity: string;
  /** Largest input or output of one call on that engine, bytes (owners size shards to fit). */
  maxBindingBytes: number;
  /** The WebGPU adapter; undefined where there is none (then `gpuError` says why). */
  adapter?: AdapterSummary;
  gpuError?: { code: GpuErrorCode; message: string };
  /** The CPU engine, once started (`setEngine('cpu')` or a CPU benchmark). */
  cpu?: CpuSummary;
  /** Kernel calls the CPU engine has run: 0 means no CPU work has run. */
  cpuCalls: number;
  tile: TileConfig;
  /** True when the tile came from a measurement on this adapter (now or cached earlier); until
   * `tune()` has run once on an adapter, kernels use the default tile. */
  tuned: boolean;
  deviceLosses: number;
  /** Command buffers this Worker has submitted to the GPU, over all its devices: 0 means no GPU
   * work has run (acquiring an adapter and a device dispatches nothing). */
  gpuSubmits: number;
}

export interface BenchmarkRow {
  engine: EngineKind;
  n: number;
  ms: number; // median wall time of dispatch + readback
  gflops: number;
}

/**
 * The compute API a contributor tab's Worker exposes through comlink (and Node runs in its own
 * thread: `createComputeApi`). Which arrays cross the thread boundary by transfer rather than
 * copy is each method's rule in src/worker/methods.ts, whose table must name exactly these
 * methods. Fault injection for tests is not part of it: see src/worker/faults.ts.
 */
export interface ComputeApi {
  /** The engines, the adapter and the tile in use. Computes nothing: safe before consent. */
  info(): Promise<ComputeInfo>;
  /**
   * Computes on `engine` from now on. Starting the CPU engine compiles its WebAssembly and
   * starts its threads (no computation). Rejects where the engine cannot run here.
   */
  setEngine(engine: EngineKind): Promise<ComputeInfo>;
  /**
   * Measures the tile candidates on this adapter (about 2 s on SwiftShader) and remembers the
   * fastest, unless one was remembered before. GPU work: call it only once the user has said so.
   */
  tune(): Promise<ComputeInfo>;
  /** C = A·B (row-major). Rejects with GpuError codes: invalid-argument, too-large, device-lost. */
  matmul(a: Float32Array, b: Float32Array, shape: MatmulShape): Promise<Float32Array>;
  /** Square matmuls at each size on `engine` (default: the current one), median of `runs`
   * after a warm-up. */
  benchmark(sizes?: number[], runs?: number, engine?: EngineKind): Promise<BenchmarkRow[]>;
  /**
   * Loads and checks a Hugging Face checkpoint folder (see CheckpointFileMap) and keeps it, by
   * its content digest; its weights go to the current engine at its first call there (and
   * again after setEngine or a lost device). Rejects with CheckpointError (the checkpoint) or
   * TokenizerError (tokenizer.json, tokenizer_config.json, chat_template.jinja).
   */
  loadModel(files: CheckpointFileMap): Promise<ModelInfo>;
  /** Whether a model with this digest is loaded (so nobody sends it again). */
  hasModel(digest: string): Promise<boolean>;
  /** Forgets a model and frees its weights on every engine (nothing when none is loaded). */
  unloadModel(digest: string): Promise<void>;
  /** Generations, one per prompt (see GenerateRequest); RequestError for a bad request. */
  generate(digest: string, request: GenerateRequest): Promise<Generation[]>;
  /** One embedding (ModelInfo.hiddenSize floats) per input, pooled as the checkpoint says. */
  embed(digest: string, request: EmbedRequest): Promise<Float32Array[]>;
  /** Per-token log-probabilities of each input. */
  score(digest: string, request: ScoreRequest): Promise<TokenScores[]>;
  /**
   * A chunk of a data set's texts (1..MAX_TOKENIZE_TEXTS) as rows of token ids with the model's
   * tokenizer, each at most `maxTokens` long: cut as the tokenizer's truncation does (listed in
   * `truncated`) or refused (RequestError 'too-long' naming the row), as the request says; with
   * `chat`, each text is one user message through the chat template. Runs no engine. RequestError
   * for a bad request or a text with no tokens; CheckpointError 'missing-file' when the model has
   * no tokenizer.json. The rows' buffers are transferred back.
   */
  tokenize(digest: string, request: TokenizeRequest): Promise<TokenizedRows>;
  /**
   * Each row of ids (at most MAX_TOKENIZE_TEXTS) decoded to text, special tokens skipped unless
   * `skipSpecialTokens: false`. An id past the model's vocabulary is a RequestError. Runs no
   * engine; the rows are copied, not transferred (callers keep them).
   */
  detokenize(digest: string, rows: Uint32Array[], options?: DetokenizeOptions): Promise<string[]>;
  /**
   * Low level, for the mesh's inference kind: logits at positions [from, seq) of `batch`
   * sequences of `seq` token ids: batch × (seq − from) × vocab floats. A shard's result is
   * its last position's (from = seq − 1); an owner checks generated tokens with the
   * teacher-forced rows (from < seq − 1).
   */
  logits(
    digest: string,
    tokens: Uint32Array,
    batch: number,
    seq: number,
    from: number,
  ): Promise<Float32Array>;
  /**
   * Low level: `options.steps` new token ids per prompt (batch × steps), greedy at temperature
   * 0, else sequence i samples with a generator seeded by options.seeds[i] (src/model/sample.ts
   * semantics, which src/jobs/token-check.ts replays).
   */
  generateTokens(
    digest: string,
    tokens: Uint32Array,
    batch: number,
    seq: number,
    options: GenerateOptions,
  ): Promise<Uint32Array>;
}
