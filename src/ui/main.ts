import './style.css';
import { freivalds } from '../jobs/freivalds';
import { ComputeClient } from '../worker/client';
import { describeError, readInt } from './format';
import type { PageHandle } from './handle';
import { startModelView } from './model-view';
import { shippedModel } from './shipped-model';

const MAX_DIM = 4096;

const compute = new ComputeClient();
const shipped = shippedModel();
/** The page's public handle, for developers in the console and for end-to-end tests. */
const tessel: PageHandle = {
  compute,
  // libp2p is most of the page's weight: load it after the compute UI is up.
  meshReady: import('./mesh-view')
    .then(({ startMeshView }) => startMeshView(compute, new URL(location.href), shipped))
    .then((mesh) => {
      tessel.mesh = mesh;
      return mesh;
    }),
};
(globalThis as { tessel?: unknown }).tessel = tessel;

const $ = <T extends HTMLElement>(sel: string) => document.querySelector(sel) as T;
const adapterEl = $<HTMLDListElement>('#adapter');
const form = $<HTMLFormElement>('#run-form');
const runButton = $<HTMLButtonElement>('#run-button');
const result = $<HTMLParagraphElement>('#run-result');
const benchButton = $<HTMLButtonElement>('#bench-button');
const benchTable = $<HTMLTableElement>('#bench-table');

function setRows(dl: HTMLDListElement, rows: [string, string][]) {
  dl.replaceChildren(
    ...rows.flatMap(([k, v]) => {
      const dt = document.createElement('dt');
      dt.textContent = k;
      const dd = document.createElement('dd');
      dd.textContent = v;
      return [dt, dd];
    }),
  );
}

function show(el: HTMLElement, text: string, kind: 'ok' | 'error' | '' = '') {
  el.textContent = text;
  el.className = kind;
}

async function showAdapter() {
  try {
    const info = await compute.info();
    const a = info.adapter;
    const driver = a.description || a.device; // browsers often withhold it
    setRows(adapterEl, [
      ['Adapter', [a.vendor, a.architecture].filter(Boolean).join(' · ') || 'unknown'],
      ...(driver ? [['Driver', driver] as [string, string]] : []),
      ['Kind', a.isFallback ? 'software (CPU) adapter' : 'hardware GPU'],
      ['Max binding', `${(a.limits.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)} MiB`],
      [
        'Matmul tile',
        `${8 * info.tile.wgY}×${8 * info.tile.wgX}, K-slice ${info.tile.tk}${info.tuned ? ' (tuned here)' : ''}`,
      ],
    ]);
    adapterEl.dataset.state = 'ready';
  } catch (e) {
    setRows(adapterEl, [['Status', describeError(e)]]);
    adapterEl.dataset.state = 'error';
  }
}

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const dims = ['m', 'k', 'n'].map((f) => readInt(form, f, 1, MAX_DIM));
  const bad = dims.find((d) => 'error' in d);
  if (bad && 'error' in bad) return show(result, bad.error, 'error');
  const [m, k, n] = dims.map((d) => ('value' in d ? d.value : 0)) as [number, number, number];
  runButton.disabled = true;
  show(result, `Multiplying ${m}×${k} by ${k}×${n} in the worker…`);
  try {
    const a = Float32Array.from({ length: m * k }, () => Math.random() * 2 - 1);
    const b = Float32Array.from({ length: k * n }, () => Math.random() * 2 - 1);
    const t0 = performance.now();
    // Send copies: the originals stay here for the verifier (sent arrays are transferred).
    const c = await compute.matmul(a.slice(), b.slice(), { m, k, n });
    const ms = performance.now() - t0;
    const v0 = performance.now();
    const verdict = freivalds({ a, b, m, k, n }, { row0: 0, rows: m, col0: 0, cols: n }, c);
    const vms = performance.now() - v0;
    const gflops = (2 * m * k * n) / (ms * 1e6);
    const text = verdict.accepted
      ? `Verified ✓ ${ms.toFixed(1)} ms (${gflops.toFixed(2)} GFLOP/s incl. transfer); Freivalds check ${vms.toFixed(1)} ms, worst residual ${(verdict.worstRatio * 100).toFixed(2)}% of the bound.`
      : `Rejected ✗ (${verdict.reason}) worst row ${verdict.worstRow}, residual ${verdict.worstRatio.toExponential(2)}× the bound.`;
    show(result, text, verdict.accepted ? 'ok' : 'error');
    result.dataset.verdict = verdict.accepted ? 'accepted' : 'rejected';
  } catch (e) {
    show(result, describeError(e), 'error');
    result.dataset.verdict = 'error';
  } finally {
    runButton.disabled = false;
  }
});

benchButton.addEventListener('click', async () => {
  benchButton.disabled = true;
  benchButton.textContent = 'Measuring…';
  try {
    const rows = await compute.benchmark([256, 512]);
    benchTable.tBodies[0]!.replaceChildren(
      ...rows.map((r) => {
        const tr = document.createElement('tr');
        for (const v of [String(r.n), r.ms.toFixed(1), r.gflops.toFixed(2)]) {
          const td = document.createElement('td');
          td.textContent = v;
          tr.append(td);
        }
        return tr;
      }),
    );
    benchTable.hidden = false;
  } catch (e) {
    show(result, describeError(e), 'error');
  } finally {
    benchButton.disabled = false;
    benchButton.textContent = 'Measure GFLOP/s';
  }
});

void showAdapter();
startModelView(compute, shipped);
