import { adapterIdentity } from '../gpu/device';
import { matmulKernelDigest } from '../gpu/matmul';
import { randomProblem } from '../jobs/matmul-job';
import { ReceiptStore } from '../ledger/store';
import { loadIdentity } from '../mesh/identity';
import { type InferenceRequest, Mesh, type RunningJob } from '../mesh/mesh';
import { IdbModelCache } from '../mesh/model-store';
import { OwnerStore } from '../mesh/store';
import { cryptoRng } from '../model/rng';
import type { ComputeClient } from '../worker/client';
import { loadMeshConfig } from './config';
import { describeError, readInt } from './format';
import { ContributionGate } from './gate';
import { encodeText, type ShippedModel } from './shipped-model';

const $ = <T extends HTMLElement>(sel: string) => document.querySelector(sel) as T;

/** Joins the mesh (if a relay is configured) and wires the Mesh and Submit sections. */
export async function startMeshView(
  compute: ComputeClient,
  url: URL,
  shipped: () => Promise<ShippedModel>,
): Promise<Mesh | undefined> {
  const status = $<HTMLParagraphElement>('#mesh-status');
  const setStatus = (text: string, state: string) => {
    status.textContent = text;
    status.dataset.state = state;
  };
  const gate = new ContributionGate();
  let mesh: Mesh;
  let receipts: ReceiptStore;
  try {
    const config = await loadMeshConfig(url);
    if (!config) {
      setStatus(
        'No relay configured: run `npm start`, or open this page with ?relay=<multiaddr>.',
        'off',
      );
      return undefined;
    }
    const [privateKey, info, kernelDigest, ownerStore, receiptStore, modelCache] =
      await Promise.all([
        loadIdentity(),
        compute.info(),
        matmulKernelDigest(),
        OwnerStore.open(),
        ReceiptStore.open(),
        IdbModelCache.open(),
      ]);
    receipts = receiptStore;
    // One quick measurement, so owners can give this tab deadlines that fit its speed.
    const [speed] = await compute.benchmark([256], 1).catch(() => [undefined]);
    const contribute = $<HTMLInputElement>('#contribute');
    if (url.searchParams.get('contribute') === '0') contribute.checked = false;
    const budget = $<HTMLSelectElement>('#budget');
    mesh = await Mesh.start({
      config,
      privateKey,
      kernelDigest,
      engine: compute,
      adapter: adapterIdentity(info.adapter),
      contribute: contribute.checked,
      maxBufferBytes: info.adapter.limits.maxStorageBufferBindingSize,
      ownerStore,
      modelCache,
      issueReceipt: (r) => receipts.issue(privateKey, r),
      acceptReceipt: (signed, expect) => receipts.accept(signed, expect),
      budget: Number(budget.value),
      ...(speed ? { gflops: speed.gflops } : {}),
      gate: () => gate.wait(),
    });
    contribute.addEventListener('change', () => mesh.setContributing(contribute.checked));
    budget.addEventListener('change', () => {
      mesh.contributor.budget = Number(budget.value);
    });
    const pauseHidden = $<HTMLInputElement>('#pause-hidden');
    pauseHidden.addEventListener('change', () => {
      gate.pauseWhenHidden = pauseHidden.checked;
      gate.changed();
    });
  } catch (e) {
    setStatus(`Not connected: ${describeError(e)}`, 'error');
    return undefined;
  }

  let earned = 0;
  const render = async () => {
    const s = mesh.status();
    const paused = s.contributing ? gate.reason() : undefined;
    setStatus(
      `Online as ${s.peerId.slice(0, 8)}…${s.peerId.slice(-6)} · ${s.peers} peer(s), ${s.directPeers} direct` +
        (paused ? ` · contributing paused (${paused})` : ''),
      'ready',
    );
    const ok = mesh.outcomes.filter((o) => o.accepted).length;
    const bad = mesh.outcomes.length - ok;
    earned = (await receipts.list('earned')).length;
    $('#contributions').textContent =
      mesh.outcomes.length || earned
        ? `This session: ${ok} shards verified, ${bad} rejected. Signed receipts kept: ${earned}.`
        : '';
    $('#job-list').replaceChildren(
      ...s.jobs.map((j) => {
        const li = document.createElement('li');
        const mine = j.owner === s.peerId ? ' (yours)' : '';
        li.textContent = `${j.kind} job ${j.jobId}${mine}: ${j.shardCount - j.shardsLeft}/${j.shardCount} shards done`;
        return li;
      }),
    );
    renderMyJobs(mesh);
  };
  mesh.addEventListener('change', () => void render());
  setInterval(() => void render(), 2_000);
  void render();
  wireSubmit(mesh, shipped);
  return mesh;
}

const finished = new Map<string, { seconds: number }>();
/** Prompts of this session's inference jobs, to show them beside what was generated. */
const prompts = new Map<string, { texts: string[]; vocab: string[] }>();

function renderMyJobs(mesh: Mesh) {
  $('#my-jobs').replaceChildren(
    ...[...mesh.running.entries()].map(([id, run]) => {
      const r = run.job.report();
      const li = document.createElement('li');
      li.dataset.jobId = id;
      li.dataset.state = run.job.done ? 'done' : 'running';
      li.dataset.accepted = String(r.accepted);
      const head = `${run.job.kind} job ${id}${run.resumed ? ' (resumed after a reload)' : ''}: `;
      const checks =
        r.kind === 'inference'
          ? `; ${r.spotChecks} owner checks, ${r.canaries} canaries, ${r.disagreements} disagreements, redundancy ${(100 * r.redundancyOverhead).toFixed(0)}%`
          : '';
      const counts =
        `${r.accepted}/${r.shards} shards verified` +
        (r.restored ? ` (${r.restored} from before the reload)` : '') +
        `, ${r.rejected} rejected, ${r.reassignments} reassigned${checks}`;
      const f = finished.get(id);
      li.textContent = run.job.done
        ? `${head}done${f ? ` in ${f.seconds.toFixed(1)} s` : ''}: ${counts}; verification cost ${(100 * r.verifyOverCompute).toFixed(2)}% of compute.`
        : `${head}${counts}…`;
      li.className = run.job.done ? 'ok' : '';
      const answer = run.job.answer();
      const asked = prompts.get(id);
      if (run.job.done && answer.kind === 'inference' && asked && answer.tokens.length) {
        const steps = answer.tokens.length / asked.texts.length;
        const ol = document.createElement('ol');
        ol.className = 'generated';
        asked.texts.forEach((p, i) => {
          const item = document.createElement('li');
          const gen = Array.from(
            answer.tokens.subarray(i * steps, (i + 1) * steps),
            (t) => asked.vocab[t] ?? '?',
          );
          item.textContent = p + gen.join('');
          ol.append(item);
        });
        li.append(ol);
      }
      return li;
    }),
  );
}

function watch(mesh: Mesh, id: string, run: RunningJob, t0: number) {
  void run.done.then(() => {
    finished.set(id, { seconds: (performance.now() - t0) / 1000 });
    renderMyJobs(mesh);
  });
}

function show(el: HTMLElement, text: string, kind: 'ok' | 'error' | '' = '') {
  el.textContent = text;
  el.className = kind;
}

function wireSubmit(mesh: Mesh, shipped: () => Promise<ShippedModel>) {
  for (const [id, run] of mesh.running) watch(mesh, id, run, performance.now());
  const form = $<HTMLFormElement>('#submit-form');
  const button = $<HTMLButtonElement>('#submit-button');
  const result = $<HTMLParagraphElement>('#job-result');
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const dims = ['m', 'k', 'n'].map((f) => readInt(form, f, 1, 16_384));
    const bad = dims.find((d) => 'error' in d);
    if (bad && 'error' in bad) return show(result, bad.error, 'error');
    const [m, k, n] = dims.map((d) => ('value' in d ? d.value : 0)) as [number, number, number];
    button.disabled = true;
    show(result, '');
    try {
      const t0 = performance.now();
      const run = await mesh.submitMatmul(randomProblem(m, k, n, cryptoRng()));
      watch(mesh, run.jobId, run, t0);
      show(
        result,
        `Submitted job ${run.jobId}: waiting for contributors. It is saved in this browser and resumes if you reload.`,
      );
    } catch (e) {
      show(result, describeError(e), 'error');
    } finally {
      button.disabled = false;
    }
  });

  const inferForm = $<HTMLFormElement>('#infer-form');
  const inferButton = $<HTMLButtonElement>('#infer-button');
  const inferResult = $<HTMLParagraphElement>('#infer-result');
  let digest: string | undefined;
  inferForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const field = (name: string) =>
      (inferForm.elements.namedItem(name) as HTMLInputElement | HTMLTextAreaElement).value;
    const texts = field('prompts')
      .split('\n')
      .filter((line) => line.length > 0);
    const mode = field('mode') === 'logits' ? 'logits' : 'tokens';
    const steps = Number(field('steps'));
    const temperature = Number(field('temperature'));
    inferButton.disabled = true;
    show(inferResult, '');
    try {
      const model = await shipped();
      const longest = Math.max(0, ...texts.map((t) => t.length));
      const maxSteps = model.maxSeq - longest + 1;
      const problem =
        texts.length === 0 || texts.length > 1_024
          ? 'Type 1 to 1,024 prompts, one a line.'
          : longest > model.maxSeq
            ? `A prompt is longer than the model's context of ${model.maxSeq} characters.`
            : mode === 'tokens' && !(Number.isInteger(steps) && steps >= 1 && steps <= maxSteps)
              ? `Characters to generate must be a whole number from 1 to ${maxSteps} for these prompts.`
              : !(temperature >= 0 && temperature <= 2)
                ? 'Temperature must be a number from 0 to 2.'
                : undefined;
      if (problem) return show(inferResult, problem, 'error');
      const sequences: Uint32Array[] = [];
      for (const t of texts) {
        const ids = encodeText(model.vocab, t);
        if ('unknown' in ids) {
          return show(
            inferResult,
            `The model has never seen ${ids.unknown.map((c) => JSON.stringify(c)).join(', ')}: use plain letters and punctuation.`,
            'error',
          );
        }
        sequences.push(ids);
      }
      const request: InferenceRequest = {
        model: digest ? { digest } : { file: model.file, config: model.config },
        sequences,
        output: mode === 'logits' ? { mode } : { mode, steps, temperature },
      };
      const t0 = performance.now();
      const run = await mesh.submitInference(request);
      digest = run.job.modelDigest;
      prompts.set(run.jobId, { texts, vocab: model.vocab });
      watch(mesh, run.jobId, run, t0);
      show(
        inferResult,
        `Submitted job ${run.jobId}: ${texts.length} sequence(s) in ${run.job.shardCount} shard(s). Contributors without the model fetch it from this tab.`,
      );
    } catch (e) {
      show(inferResult, describeError(e), 'error');
    } finally {
      inferButton.disabled = false;
    }
  });
}
