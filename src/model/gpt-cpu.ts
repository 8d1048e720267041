import type { CpuKernels } from '../cpu/kernels';
import { type BlockWeights, checkForward, type GptConfig, type GptWeights } from './gpt';

type Ptr = number; // byte offset in the CPU engine's memory

interface CpuWeights {
  wte: Ptr;
  wpe: Ptr;
  head: Ptr; // wteᵀ (D × V), packed
  lnfg: Ptr;
  lnfb: Ptr;
  blocks: Record<keyof BlockWeights, Ptr>[]; // matrices packed, biases padded to 8
}

/** A bias as the matmul kernel reads it: zeros up to a whole panel of 8 columns. */
function padded(w: Float32Array): Float32Array {
  const out = new Float32Array(Math.ceil(w.length / 8) * 8);
  out.set(w);
  return out;
}

/**
 * The model on the CPU engine (src/cpu): the same forward pass as src/model/gpt-gpu.ts, op for
 * op, on WebAssembly SIMD kernels split across the engine's threads. Weights are copied in and
 * packed once at load; activations live on the engine's memory stack for one call. Calls are
 * serialised by the engine (`CpuKernels.exclusive`), so a load never lands inside a call's stack.
 */
export class CpuGpt {
  readonly #cpu: CpuKernels;
  readonly #w: CpuWeights;

  private constructor(
    cpu: CpuKernels,
    readonly config: GptConfig,
    w: CpuWeights,
  ) {
    this.#cpu = cpu;
    this.#w = w;
  }

  /** Copies the weights into the engine's memory and packs the matrices. */
  static load(cpu: CpuKernels, config: GptConfig, weights: GptWeights): Promise<CpuGpt> {
    return cpu.exclusive(async () => {
      const D = config.dModel;
      const V = config.vocab;
      const head = new Float32Array(D * V);
      for (let v = 0; v < V; v++)
        for (let d = 0; d < D; d++) head[d * V + v] = weights.wte[v * D + d]!;
      const shapes: Record<string, [number, number]> = {
        attnW: [D, 3 * D],
        projW: [D, D],
        fcW: [D, config.dFF],
        fc2W: [config.dFF, D],
      };
      const pack = async (m: Float32Array, k: number, n: number) => {
        // The unpacked copy stays below the packed one: a few MB at most for these models.
        const raw = cpu.put(m);
        return cpu.packB(raw, n, k, n);
      };
      const blocks: CpuWeights['blocks'] = [];
      for (const b of weights.blocks) {
        const out = {} as Record<keyof BlockWeights, Ptr>;
        for (const [name, data] of Object.entries(b) as [keyof BlockWeights, Float32Array][]) {
          const shape = shapes[name];
          out[name] = shape
            ? await pack(data, shape[0], shape[1])
            : cpu.put(name.endsWith('B') ? padded(data) : data);
        }
        blocks.push(out);
      }
      return new CpuGpt(cpu, config, {
        wte: cpu.put(weights.wte),
        wpe: cpu.put(weights.wpe),
        head: await pack(head, D, V),
        lnfg: cpu.put(weights.lnfg),
        lnfb: cpu.put(weights.lnfb),
        blocks,
      });
    });
  }

  /** Logits at positions [from, seq) of each sequence: batch × (seq − from) × vocab. */
  async forward(
    tokens: Uint32Array,
    batch: number,
    seq: number,
    from = seq - 1,
  ): Promise<Float32Array> {
    const c = this.config;
    checkForward(c, tokens, batch, seq, from);
    const cpu = this.#cpu;
    return cpu.exclusive(async () => {
      const mark = cpu.mark();
      try {
        const D = c.dModel;
        const T = batch * seq;
        const P = seq - from;
        const rows = batch * P;
        const tok = cpu.put(tokens);
        const h = cpu.alloc(T * D);
        const x = cpu.alloc(T * D);
        const qkv = cpu.alloc(T * 3 * D);
        const att = cpu.alloc(T * D);
        const ff = cpu.alloc(T * c.dFF);
        const w = this.#w;
        await cpu.parallel('embedding', T, () => [tok, w.wte, w.wpe, h, D, seq]);
        for (const b of w.blocks) {
          await cpu.parallel('layernorm', T, () => [h, b.ln1g, b.ln1b, x, D, c.eps]);
          await cpu.linear(x, b.attnW, qkv, T, D, 3 * D, b.attnB);
          await cpu.parallel('attention', T, (s) => [qkv, att, seq, c.nHead, D, s], 1);
          await cpu.linear(att, b.projW, x, T, D, D, b.projB);
          await cpu.parallel('residual', T, () => [h, x, D]);
          await cpu.parallel('layernorm', T, () => [h, b.ln2g, b.ln2b, x, D, c.eps]);
          await cpu.linear(x, b.fcW, ff, T, D, c.dFF, b.fcB, true);
          await cpu.linear(ff, b.fc2W, x, T, c.dFF, D, b.fc2B);
          await cpu.parallel('residual', T, () => [h, x, D]);
        }
        // Only positions [from, seq) of each sequence reach the LM head.
        const last = cpu.alloc(rows * D);
        const hv = cpu.view(h, T * D);
        const lv = cpu.view(last, rows * D);
        for (let s = 0; s < batch; s++)
          lv.set(hv.subarray((s * seq + from) * D, (s * seq + seq) * D), s * P * D);
        const lastN = cpu.alloc(rows * D);
        await cpu.parallel('layernorm', rows, () => [last, w.lnfg, w.lnfb, lastN, D, c.eps]);
        const logits = cpu.alloc(rows * c.vocab);
        await cpu.linear(lastN, w.head, logits, rows, D, c.vocab);
        return cpu.view(logits, rows * c.vocab).slice();
      } finally {
        cpu.release(mark);
      }
    });
  }
}
