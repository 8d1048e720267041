// A loaded Hugging Face checkpoint (checkpoint.ts) run on the CPU engine (src/cpu/kernels.ts):
// the decoders (Llama, Qwen2, Qwen3, Mistral) and GPT-2 with a KV cache in engine memory, BERT
// with sentence-transformers pooling. Same arithmetic as the float64 reference (reference*.ts),
// op for op, in float32. Ops the engine has no kernel for (GPT-2's gelu_new, ReLU, layernorm or
// residual rows whose width is not a multiple of 4: run-cpu-ops.ts; pooling: run-cpu-pool.ts;
// the cache copy here) are computed on views of engine memory: O(tokens × width).
//
// Resident memory: the weights as the file stores them (16-bit stays 16-bit; norms and biases,
// a few KB, are widened to float32), plus the KV cache of the batch running:
// 2 × layers × batch × (prompt + maxNewTokens) × kvHeads × headDim float32. A call's
// activations live on the engine's stack above them only while it runs.
//
// One layer and the LM head, shared by the three families' forward passes: run-cpu-layer.ts;
// the weights' upload: run-cpu-weights.ts.

import type { CpuKernels } from '../../cpu/kernels';
import type { Checkpoint } from './checkpoint';
import { layer, lmHead } from './run-cpu-layer';
import { norm } from './run-cpu-ops';
import { DEFAULT_POOLING, pool } from './run-cpu-pool';
import {
  bad,
  type Layer,
  type Mat,
  type Norm,
  type Parts,
  type Ptr,
  type Shape,
  uploadParts,
} from './run-cpu-weights';
import { HEAD_CHUNK_FLOATS } from './runtime-types';
import type { PoolingConfig } from './types';

/** The batch a `start` opened: its cache and where each sequence stands. */
interface Session {
  batch: number;
  /** Cache rows per sequence: padded prompt + maxNewTokens. */
  rows: number;
  /** Left padding per sequence. */
  pads: number[];
  /** Slots filled per sequence (padding included). */
  filled: number;
  k: Ptr[];
  v: Ptr[];
}

/** Checks a token grid: non-empty rows of ids in [0, limit). */
function checkIds(what: string, rows: readonly (readonly number[])[], limit: number) {
  if (rows.length === 0) throw bad(`${what}: a batch needs at least one sequence`);
  for (const [b, r] of rows.entries()) {
    if (r.length === 0) throw bad(`${what}: sequence ${b} is empty`);
    for (const t of r) {
      if (!Number.isInteger(t) || t < 0 || t >= limit) {
        throw bad(`${what}: sequence ${b} holds ${t}, outside 0..${limit - 1}`);
      }
    }
  }
}

/**
 * A checkpoint resident on the CPU engine. Memory is the engine's stack: a model's weights and
 * cache sit above whatever was allocated before `load`; anything allocated after (another
 * model) must be disposed first, and a call finding the stack not where it left it refuses.
 */
export class CpuHfModel {
  readonly #cpu: CpuKernels;
  readonly #s: Shape;
  readonly #layers: Layer[];
  readonly #embed: Mat;
  readonly #wpe: Mat | undefined;
  readonly #types: Mat | undefined;
  readonly #embedNorm: Norm | undefined;
  readonly #finalNorm: Norm | undefined;
  readonly #headW: Mat | undefined;
  readonly #invFreq: Ptr;
  readonly #base: Ptr;
  readonly #weightsTop: Ptr;
  #top: Ptr;
  #session: Session | undefined;
  /** The checkpoint's sentence-transformers pooling (BERT), if any. */
  readonly pooling: PoolingConfig | undefined;
  /** Most logits one chunk of the LM head computes at once, floats (tests set it small). */
  headChunkFloats = HEAD_CHUNK_FLOATS;
  readonly #typeVocab: number;

  private constructor(cpu: CpuKernels, base: Ptr, parts: Parts) {
    this.#cpu = cpu;
    this.#base = base;
    this.#s = parts.shape;
    this.#layers = parts.layers;
    this.#embed = parts.embed;
    this.#wpe = parts.wpe;
    this.#types = parts.types;
    this.#embedNorm = parts.embedNorm;
    this.#finalNorm = parts.finalNorm;
    this.#headW = parts.head;
    this.#invFreq = parts.invFreq;
    this.pooling = parts.pooling;
    this.#typeVocab = parts.typeVocab;
    this.#weightsTop = cpu.mark();
    this.#top = this.#weightsTop;
  }

  /** Uploads the checkpoint's weights once (16-bit stay 16-bit; GPT-2's Conv1D matrices are
   * transposed to [out, in] in their dtype) and the rotary inverse frequencies as float32. */
  static load(cpu: CpuKernels, checkpoint: Checkpoint): Promise<CpuHfModel> {
    return cpu.exclusive(async () => {
      const base = cpu.mark();
      try {
        return new CpuHfModel(cpu, base, uploadParts(cpu, checkpoint));
      } catch (e) {
        cpu.release(base);
        throw e;
      }
    });
  }

  /** Bytes this model holds in engine memory: weights, plus the open batch's KV cache. */
  get residentBytes(): { weights: number; kvCache: number } {
    return { weights: this.#weightsTop - this.#base, kvCache: this.#top - this.#weightsTop };
  }

  /**
   * Opens a batch of ragged prompts (token ids), left-padded here as Hugging Face's generate
   * pads a decoder's batch (positions cumsum(mask) − 1), with a cache for `maxNewTokens` more
   * tokens each; runs the prompts and returns each sequence's next-token logits (vocab floats).
   * Drops any batch opened before.
   */
  async start(batch: number[][], maxNewTokens: number): Promise<Float32Array[]> {
    const s = this.#s;
    if (s.kind === 'bert') throw bad('start: BERT embeds; it does not generate');
    checkIds('start', batch, s.vocab);
    if (!(Number.isInteger(maxNewTokens) && maxNewTokens >= 0)) {
      throw bad(`start: maxNewTokens must be an integer ≥ 0, got ${maxNewTokens}`);
    }
    return this.#onTop(async () => {
      const cpu = this.#cpu;
      this.#session = undefined;
      cpu.release(this.#weightsTop);
      this.#top = this.#weightsTop;
      const B = batch.length;
      const P = Math.max(...batch.map((r) => r.length));
      const rows = P + maxNewTokens;
      const width = B * rows * s.kvHeads * s.headDim;
      const k = this.#layers.map(() => cpu.alloc(width));
      const v = this.#layers.map(() => cpu.alloc(width));
      this.#top = cpu.mark();
      const session: Session = {
        batch: B,
        rows,
        pads: batch.map((r) => P - r.length),
        filled: 0,
        k,
        v,
      };
      const ids = batch.flatMap((r) => [...new Array<number>(P - r.length).fill(0), ...r]);
      const logits = await this.#causal(session, ids, P);
      session.filled = P;
      this.#session = session;
      return logits;
    });
  }

  /** Appends one token per sequence of the open batch; returns the next logits of each. One
   * token's work per sequence: earlier tokens' keys and values come from the cache. */
  async step(next: number[]): Promise<Float32Array[]> {
    checkIds('step', [next], this.#s.vocab);
    return this.#cpu.frame(async () => {
      // Read in turn: a start queued before this step replaces the batch.
      const session = this.#session;
      if (!session) throw bad('step: no batch is open (call start)');
      if (next.length !== session.batch) {
        throw bad(`step: ${next.length} tokens for ${session.batch} sequences`);
      }
      if (session.filled >= session.rows) {
        throw bad(`step: the cache is full (${session.rows} slots a sequence: raise maxNewTokens)`);
      }
      const logits = await this.#causal(session, next, 1);
      session.filled += 1;
      return logits;
    });
  }

  /**
   * Logits after every token from index `from` on of each prompt: (length − from) × vocab floats
   * per sequence, row i the logits predicting token from + i + 1. One prefill of the ragged batch
   * (left-padded as `start` pads it) through a cache of its own, freed after: a batch `start`
   * opened is left as it was.
   */
  async logits(batch: number[][], from = 0): Promise<Float32Array[]> {
    const s = this.#s;
    if (s.kind === 'bert') throw bad('logits: BERT embeds; it has no LM head');
    checkIds('logits', batch, s.vocab);
    const shortest = Math.min(...batch.map((r) => r.length));
    if (!(Number.isInteger(from) && from >= 0 && from < shortest)) {
      throw bad(`logits: from = ${from} is not in 0..${shortest - 1} (the shortest sequence)`);
    }
    return this.#cpu.frame(async () => {
      const cpu = this.#cpu;
      const B = batch.length;
      const P = Math.max(...batch.map((r) => r.length));
      const width = B * P * s.kvHeads * s.headDim;
      const session: Session = {
        batch: B,
        rows: P,
        pads: batch.map((r) => P - r.length),
        filled: 0,
        k: this.#layers.map(() => cpu.alloc(width)),
        v: this.#layers.map(() => cpu.alloc(width)),
      };
      const ids = batch.flatMap((r) => [...new Array<number>(P - r.length).fill(0), ...r]);
      return this.#causal(
        session,
        ids,
        P,
        batch.map((r) => P - r.length + from),
      );
    });
  }

  /**
   * Pooled embeddings (BERT), one Float32Array of the hidden size per sequence, as the
   * checkpoint's sentence-transformers pooling gives them (right padding, masked).
   * `tokenTypes`: token_type_ids per token (default 0).
   */
  async embed(batch: number[][], tokenTypes?: number[][]): Promise<Float32Array[]> {
    const s = this.#s;
    if (s.kind !== 'bert') throw bad('embed: only BERT checkpoints embed');
    checkIds('embed', batch, s.vocab);
    if (tokenTypes) {
      checkIds('embed token types', tokenTypes, this.#typeVocab);
      if (
        tokenTypes.length !== batch.length ||
        tokenTypes.some((r, b) => r.length !== batch[b]!.length)
      ) {
        throw bad('embed: token types must match the tokens, sequence by sequence');
      }
    }
    const L = Math.max(...batch.map((r) => r.length));
    if (L > s.maxPositions) throw bad(`embed: ${L} tokens exceed ${s.maxPositions} positions`);
    return this.#cpu.frame(() => this.#bert(batch, tokenTypes, L));
  }

  /** Frees the weights and the cache (the engine's stack drops back to where `load` found it).
   * Models loaded after this one must be disposed first. */
  dispose(): Promise<void> {
    return this.#onTop(async () => {
      this.#session = undefined;
      this.#cpu.release(this.#base);
      this.#top = this.#base;
    });
  }

  /** As the engine's `frame`, for calls that move this model's own top (a new cache,
   * dispose): only the model allocated last may, or it would free what was allocated above it. */
  #onTop<T>(fn: () => Promise<T>): Promise<T> {
    const cpu = this.#cpu;
    return cpu.exclusive(async () => {
      if (cpu.mark() !== this.#top) {
        throw bad('engine memory above this model belongs to another: dispose that one first');
      }
      try {
        return await fn();
      } finally {
        cpu.release(this.#top);
      }
    });
  }

  /**
   * A causal call: `perSeq` new tokens for each sequence of the session (ids flattened
   * sequence-major), at slots session.filled…; keys and values go to the cache. Returns the
   * logits after each sequence's last token, or after its tokens heads[b]… when given.
   */
  async #causal(
    session: Session,
    ids: number[],
    perSeq: number,
    heads?: number[],
  ): Promise<Float32Array[]> {
    const cpu = this.#cpu;
    const s = this.#s;
    const B = session.batch;
    const T = B * perSeq;
    const H = s.hidden;
    const kvW = s.kvHeads * s.headDim;
    const pos = new Int32Array(T);
    const ranges = new Int32Array(2 * T);
    for (let b = 0; b < B; b++) {
      const pad = session.pads[b]!;
      for (let t = 0; t < perSeq; t++) {
        const slot = session.filled + t;
        const r = b * perSeq + t;
        // generate's position ids: cumsum(mask) − 1, padding given 1.
        pos[r] = slot < pad ? 1 : slot - pad;
        const row0 = b * session.rows;
        let lo = pad;
        if (s.slidingWindow !== undefined) lo = Math.max(lo, slot - s.slidingWindow + 1);
        ranges[2 * r] = row0 + Math.min(lo, slot + 1);
        ranges[2 * r + 1] = slot < pad ? row0 + Math.min(lo, slot + 1) : row0 + slot + 1;
      }
    }
    const far = Math.max(...pos);
    if (far >= s.maxPositions) throw bad(`position ${far} is beyond the model's ${s.maxPositions}`);
    const x = cpu.alloc(T * H);
    const idsPtr = cpu.putInt32(Int32Array.from(ids));
    const posPtr = cpu.putInt32(pos);
    const rangePtr = cpu.putInt32(ranges);
    await cpu.embed16(idsPtr, this.#embed.ptr, this.#embed.dtype, x, T, s.vocab, H);
    if (this.#wpe) {
      await cpu.embed16(posPtr, this.#wpe.ptr, this.#wpe.dtype, x, T, s.maxPositions, H, true);
    }
    for (const [l, lw] of this.#layers.entries()) {
      const mark = cpu.mark();
      const store = (k: Ptr, v: Ptr) => {
        const kv = cpu.view(k, T * kvW);
        const vv = cpu.view(v, T * kvW);
        const kc = cpu.view(session.k[l]!, B * session.rows * kvW);
        const vc = cpu.view(session.v[l]!, B * session.rows * kvW);
        for (let b = 0; b < B; b++) {
          const to = (b * session.rows + session.filled) * kvW;
          const from = b * perSeq * kvW;
          kc.set(kv.subarray(from, from + perSeq * kvW), to);
          vc.set(vv.subarray(from, from + perSeq * kvW), to);
        }
      };
      const cache = { k: session.k[l]!, v: session.v[l]!, rows: B * session.rows, store };
      await layer(cpu, s, this.#invFreq, lw, x, T, posPtr, rangePtr, cache);
      cpu.release(mark);
    }
    const lm = {
      finalNorm: this.#finalNorm!,
      head: this.#headW!,
      chunkFloats: this.headChunkFloats,
    };
    return lmHead(cpu, s, lm, x, B, perSeq, heads ?? new Array<number>(B).fill(perSeq - 1));
  }

  /** BertModel then pooling, over a right-padded batch of L tokens a sequence. */
  async #bert(batch: number[][], tokenTypes: number[][] | undefined, L: number) {
    const cpu = this.#cpu;
    const s = this.#s;
    const B = batch.length;
    const T = B * L;
    const H = s.hidden;
    const ids = new Int32Array(T);
    const types = new Int32Array(T);
    const pos = new Int32Array(T);
    const ranges = new Int32Array(2 * T);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < L; t++) {
        const r = b * L + t;
        ids[r] = batch[b]![t] ?? 0;
        types[r] = tokenTypes?.[b]?.[t] ?? 0;
        pos[r] = t;
        ranges[2 * r] = b * L; // bidirectional over the real tokens
        ranges[2 * r + 1] = b * L + batch[b]!.length;
      }
    }
    const x = cpu.alloc(T * H);
    const rangePtr = cpu.putInt32(ranges);
    await cpu.embed16(cpu.putInt32(ids), this.#embed.ptr, this.#embed.dtype, x, T, s.vocab, H);
    const ty = this.#types!;
    await cpu.embed16(cpu.putInt32(types), ty.ptr, ty.dtype, x, T, this.#typeVocab, H, true);
    const wpe = this.#wpe!;
    await cpu.embed16(cpu.putInt32(pos), wpe.ptr, wpe.dtype, x, T, s.maxPositions, H, true);
    await norm(this.#cpu, this.#s.eps, this.#embedNorm!, x, x, T, H);
    for (const lw of this.#layers) {
      const mark = cpu.mark();
      const k = cpu.alloc(T * H);
      const v = cpu.alloc(T * H);
      await layer(cpu, s, this.#invFreq, lw, x, T, 0, rangePtr, { k, v, rows: T });
      cpu.release(mark);
    }
    return pool(cpu.view(x, T * H), batch, L, H, this.pooling ?? DEFAULT_POOLING);
  }
}
