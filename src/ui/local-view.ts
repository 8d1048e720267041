import { html, LitElement, nothing } from 'lit';
import { freivalds } from '../jobs/freivalds';
import { cryptoRng } from '../model/rng';
import { sampleToken } from '../model/sample';
import type { BenchmarkRow, EngineKind } from '../worker/api';
import type { ComputeClient } from '../worker/client';
import { hardwareGpu } from '../worker/engine-choice';
import { describeError, readInt } from './format';
import type { TabSession } from './session';
import { encodeText, type ShippedModel } from './shipped-model';
import { base } from './styles';

const MAX_DIM = 4096;
type Message = { text: string; kind: 'ok' | 'error' | ''; verdict?: string };

/**
 * `<tessel-local>`: try the kernels in this tab, on your own click: a verified matrix multiply,
 * text from the shipped model, and a GFLOP/s measurement. Each runs in the compute Worker only
 * when its button is pressed, on the engine this tab would lend (its session's choice: the CPU
 * engine where the WebGPU adapter is software), so what it measures is what volunteers lend;
 * nothing here touches the mesh.
 */
export class TesselLocal extends LitElement {
  static override properties = {
    compute: { attribute: false },
    session: { attribute: false },
    shipped: { attribute: false },
    _run: { state: true },
    _generated: { state: true },
    _bench: { state: true },
    _busy: { state: true },
  };
  static override styles = [base];
  declare compute: ComputeClient | undefined;
  /** The tab's session: which engine it lends. Without one, the engine it would predict. */
  declare session: TabSession | undefined;
  declare shipped: (() => Promise<ShippedModel>) | undefined;
  declare _run: Message | undefined;
  declare _generated: Message | undefined;
  declare _bench: BenchmarkRow[] | undefined;
  declare _busy: '' | 'run' | 'generate' | 'bench';
  #model: Promise<{ digest: string; vocab: string[]; maxSeq: number }> | undefined;

  constructor() {
    super();
    this.compute = undefined;
    this.session = undefined;
    this.shipped = undefined;
    this._busy = '';
  }

  override render() {
    return html`<section aria-labelledby="local-title">
      <h2 id="local-title">Try it in this tab</h2>
      <p class="muted">These run on your GPU only when you press their button.</p>
      <h3 id="run-title">Multiply and verify</h3>
      <form id="run-form" aria-labelledby="run-title" novalidate @submit=${this.#runMatmul}>
        <label>M <input name="m" type="number" min="1" max=${MAX_DIM} value="256" /></label>
        <label>K <input name="k" type="number" min="1" max=${MAX_DIM} value="256" /></label>
        <label>N <input name="n" type="number" min="1" max=${MAX_DIM} value="256" /></label>
        <button type="submit" id="run-button" ?disabled=${this._busy === 'run'}>Run and verify</button>
      </form>
      <p id="run-result" class=${this._run?.kind ?? ''} data-verdict=${this._run?.verdict ?? ''} role="status">
        ${this._run?.text ?? ''}
      </p>
      <h3 id="model-title">Try the model</h3>
      <p>
        A 0.4 M-parameter character-level transformer trained on the King James Torah, run by
        tessel's own kernels in your GPU's Worker.
      </p>
      <form id="model-form" aria-labelledby="model-title" novalidate @submit=${this.#generate}>
        <label>Prompt <input name="prompt" id="prompt" value="And God said, " size="30" /></label>
        <label>Temperature <input name="temperature" type="number" min="0" max="2" step="0.1" value="0.7" /></label>
        <button type="submit" id="generate-button" ?disabled=${this._busy === 'generate'}>Generate</button>
      </form>
      <p id="generated" class=${this._generated?.kind ?? ''} role="status">${this._generated?.text ?? ''}</p>
      <h3>Benchmark</h3>
      <button type="button" id="bench-button" ?disabled=${this._busy === 'bench'} @click=${this.#benchmark}>
        ${this._busy === 'bench' ? 'Measuring…' : 'Measure GFLOP/s'}
      </button>
      ${
        this._bench
          ? html`<table id="bench-table" data-engine=${this._bench[0]?.engine ?? ''}>
            <caption class="muted">
              On ${this._bench[0]?.engine === 'cpu' ? 'the CPU engine (WebAssembly)' : 'the GPU (WebGPU)'}, the
              engine this tab lends
            </caption>
            <thead><tr><th scope="col">n</th><th scope="col">ms</th><th scope="col">GFLOP/s</th></tr></thead>
            <tbody>
              ${this._bench.map(
                (r) =>
                  html`<tr><td>${r.n}</td><td>${r.ms.toFixed(1)}</td><td>${r.gflops.toFixed(2)}</td></tr>`,
              )}
            </tbody>
          </table>`
          : nothing
      }
    </section>`;
  }

  async #runMatmul(ev: SubmitEvent) {
    ev.preventDefault();
    const form = ev.target as HTMLFormElement;
    const dims = ['m', 'k', 'n'].map((f) => readInt(form, f, 1, MAX_DIM));
    const bad = dims.find((d) => 'error' in d);
    if (bad && 'error' in bad) {
      this._run = { text: bad.error, kind: 'error' };
      return;
    }
    const [m, k, n] = dims.map((d) => ('value' in d ? d.value : 0)) as [number, number, number];
    if (!this.compute) return;
    this._busy = 'run';
    this._run = { text: `Multiplying ${m}×${k} by ${k}×${n} in the worker…`, kind: '' };
    try {
      const engine = await this.#useLentEngine();
      const a = Float32Array.from({ length: m * k }, () => Math.random() * 2 - 1);
      const b = Float32Array.from({ length: k * n }, () => Math.random() * 2 - 1);
      const t0 = performance.now();
      // Send copies: the originals stay here for the verifier (sent arrays are transferred).
      const c = await this.compute.matmul(a.slice(), b.slice(), { m, k, n });
      const ms = performance.now() - t0;
      const v0 = performance.now();
      const v = freivalds({ a, b, m, k, n }, { row0: 0, rows: m, col0: 0, cols: n }, c);
      const vms = performance.now() - v0;
      const gflops = (2 * m * k * n) / (ms * 1e6);
      this._run = v.accepted
        ? {
            text: `Verified ✓ ${ms.toFixed(1)} ms on the ${engine === 'cpu' ? 'CPU engine' : 'GPU'} (${gflops.toFixed(2)} GFLOP/s incl. transfer); Freivalds check ${vms.toFixed(1)} ms, worst residual ${(v.worstRatio * 100).toFixed(2)}% of the bound.`,
            kind: 'ok',
            verdict: 'accepted',
          }
        : {
            text: `Rejected ✗ (${v.reason}) worst row ${v.worstRow}, residual ${v.worstRatio.toExponential(2)}× the bound.`,
            kind: 'error',
            verdict: 'rejected',
          };
    } catch (e) {
      this._run = { text: describeError(e), kind: 'error', verdict: 'error' };
    } finally {
      this._busy = '';
    }
  }

  async #loadModel() {
    if (!this.shipped || !this.compute) throw new Error('no model on this page');
    const { file, config, vocab, maxSeq } = await this.shipped();
    await this.#useLentEngine();
    // The Worker takes the bytes it is sent; the shared copy stays whole.
    const digest = await this.compute.loadModel(file.slice(), config);
    return { digest, vocab, maxSeq };
  }

  async #generate(ev: SubmitEvent) {
    ev.preventDefault();
    const form = ev.target as HTMLFormElement;
    const prompt = (form.elements.namedItem('prompt') as HTMLInputElement).value;
    const temperature = Number((form.elements.namedItem('temperature') as HTMLInputElement).value);
    if (!(temperature >= 0 && temperature <= 2)) {
      this._generated = { text: 'Temperature must be a number from 0 to 2.', kind: 'error' };
      return;
    }
    this._busy = 'generate';
    try {
      this.#model ??= this.#loadModel();
      const { digest, vocab, maxSeq } = await this.#model;
      const encoded = encodeText(vocab, prompt);
      if (prompt.length === 0 || 'unknown' in encoded) {
        this._generated = {
          text:
            'unknown' in encoded
              ? `The model has never seen ${encoded.unknown.map((c) => JSON.stringify(c)).join(', ')}: use plain letters and punctuation.`
              : 'Type a prompt first.',
          kind: 'error',
        };
        return;
      }
      const ids = Array.from(encoded);
      const rng = cryptoRng();
      const t0 = performance.now();
      let text = '';
      for (let i = 0; i < 120; i++) {
        const ctx = Uint32Array.from(ids.slice(-maxSeq));
        const logits = await this.compute!.infer(digest, ctx, 1, ctx.length);
        const next = sampleToken(logits, temperature, rng);
        ids.push(next);
        text += vocab[next];
        this._generated = { text: prompt + text, kind: '' };
      }
      const rate = (120 / (performance.now() - t0)) * 1000;
      this._generated = { text: `${prompt}${text} (${rate.toFixed(0)} characters/s)`, kind: '' };
    } catch (e) {
      this.#model = undefined;
      this._generated = { text: describeError(e), kind: 'error' };
    } finally {
      this._busy = '';
    }
  }

  #lentEngine(): Promise<EngineKind> {
    return lentEngine(this.session, this.compute!);
  }

  /** Switches the Worker to the engine this tab lends (the one a join would switch it to);
   * where that engine cannot start, the current one runs. Returns the engine that runs. */
  async #useLentEngine(): Promise<EngineKind> {
    const compute = this.compute!;
    const engine = await this.#lentEngine();
    const now = (await compute.info()).engine;
    if (now === engine) return engine;
    return compute.setEngine(engine).then(
      (info) => info.engine,
      () => now,
    );
  }

  async #benchmark() {
    if (!this.compute) return;
    this._busy = 'bench';
    try {
      this._bench = await this.compute.benchmark([256, 512], undefined, await this.#lentEngine());
    } catch (e) {
      this._run = { text: describeError(e), kind: 'error' };
    } finally {
      this._busy = '';
    }
  }
}

/** The engine this tab lends: its session's (chosen, or predicted before measuring), else a
 * hardware GPU if there is one, else the CPU engine (a software adapter's GPU never wins). */
async function lentEngine(
  session: TabSession | undefined,
  compute: ComputeClient,
): Promise<EngineKind> {
  const view = await session?.adapter();
  if (view?.available) return view.engine;
  return hardwareGpu(await compute.info()) ? 'webgpu' : 'cpu';
}

customElements.get('tessel-local') ?? customElements.define('tessel-local', TesselLocal);
