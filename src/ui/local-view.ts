import { html, LitElement, nothing } from 'lit';
import { freivalds } from '../jobs/freivalds';
import type { ModelCache } from '../mesh/model-store';
import type { BenchmarkRow, EngineKind } from '../worker/api';
import type { ComputeClient } from '../worker/client';
import { describeError, readInt } from './format';
import { lentEngine, useLentEngine } from './lent-engine';
import type { TabSession } from './session';
import { base } from './styles';
import './try-model-view';

const LOCAL_MAX_DIM = 4096; // a side of a matmul run in this tab
type Message = { text: string; kind: 'ok' | 'error' | ''; verdict?: string };

/**
 * `<tessel-local>`: try the kernels in this tab, on your own click: a verified matrix multiply,
 * a Hugging Face model of your own (`<tessel-try-model>`: text or embeddings), and a GFLOP/s
 * measurement. Each runs in the compute Worker only
 * when its button is pressed, on the engine this tab would lend (its session's choice: the CPU
 * engine where the WebGPU adapter is software), so what it measures is what volunteers lend;
 * nothing here touches the mesh.
 */
export class TesselLocal extends LitElement {
  static override properties = {
    compute: { attribute: false },
    session: { attribute: false },
    shippedUrl: { attribute: false },
    openCache: { attribute: false },
    _run: { state: true },
    _bench: { state: true },
    _busy: { state: true },
  };
  static override styles = [base];
  declare compute: ComputeClient | undefined;
  /** The tab's session: which engine it lends. Without one, the engine it would predict. */
  declare session: TabSession | undefined;
  /** The shipped model's folder URL, offered by the model picker. */
  declare shippedUrl: string | undefined;
  /** Opens the browser's model cache (src/mesh/model-store.ts). */
  declare openCache: (() => Promise<ModelCache>) | undefined;
  declare _run: Message | undefined;
  declare _bench: BenchmarkRow[] | undefined;
  declare _busy: '' | 'run' | 'bench';

  constructor() {
    super();
    this.compute = undefined;
    this.session = undefined;
    this.shippedUrl = undefined;
    this.openCache = undefined;
    this._busy = '';
  }

  override render() {
    return html`<section aria-labelledby="local-title">
      <h2 id="local-title">Try it in this tab</h2>
      <p class="muted">These run on your GPU only when you press their button.</p>
      <h3 id="run-title">Multiply and verify</h3>
      <form id="run-form" aria-labelledby="run-title" novalidate @submit=${this.#runMatmul}>
        <label>M <input name="m" type="number" min="1" max=${LOCAL_MAX_DIM} value="256" /></label>
        <label>K <input name="k" type="number" min="1" max=${LOCAL_MAX_DIM} value="256" /></label>
        <label>N <input name="n" type="number" min="1" max=${LOCAL_MAX_DIM} value="256" /></label>
        <button type="submit" id="run-button" ?disabled=${this._busy === 'run'}>Run and verify</button>
      </form>
      <p id="run-result" class=${this._run?.kind ?? ''} data-verdict=${this._run?.verdict ?? ''} role="status">
        ${this._run?.text ?? ''}
      </p>
      <tessel-try-model
        .compute=${this.compute}
        .session=${this.session}
        .shippedUrl=${this.shippedUrl}
        .openCache=${this.openCache}
      ></tessel-try-model>
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
    const dims = ['m', 'k', 'n'].map((f) => readInt(form, f, 1, LOCAL_MAX_DIM));
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

  #lentEngine(): Promise<EngineKind> {
    return lentEngine(this.session, this.compute!);
  }

  /** Switches the Worker to the engine this tab lends; returns the engine that runs. */
  #useLentEngine(): Promise<EngineKind> {
    return useLentEngine(this.session, this.compute!);
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

customElements.get('tessel-local') ?? customElements.define('tessel-local', TesselLocal);
