import { matmulKernelDigest } from '../gpu/matmul';
import { randomProblem } from '../jobs/matmul-job';
import { cryptoRng } from '../jobs/rng';
import { ReceiptStore } from '../ledger/store';
import { loadIdentity } from '../mesh/identity';
import { Mesh, type RunningJob } from '../mesh/mesh';
import { OwnerStore } from '../mesh/store';
import type { ComputeClient } from '../worker/client';
import { loadMeshConfig } from './config';
import { describeError, readInt } from './format';
import { ContributionGate } from './gate';

const $ = <T extends HTMLElement>(sel: string) => document.querySelector(sel) as T;

/** Joins the mesh (if a relay is configured) and wires the Mesh and Submit sections. */
export async function startMeshView(compute: ComputeClient, url: URL): Promise<Mesh | undefined> {
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
    const [privateKey, info, kernelDigest, ownerStore, receiptStore] = await Promise.all([
      loadIdentity(),
      compute.info(),
      matmulKernelDigest(),
      OwnerStore.open(),
      ReceiptStore.open(),
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
      contribute: contribute.checked,
      maxBufferBytes: info.adapter.limits.maxStorageBufferBindingSize,
      ownerStore,
      receipts,
      budget: Number(budget.value),
      ...(speed ? { gflops: speed.gflops } : {}),
      gate: () => gate.wait(),
      // The lease's tensors are not needed afterwards, so they are transferred, not copied.
      compute: (lease) => compute.matmul(lease.a, lease.b, { m: lease.m, k: lease.k, n: lease.n }),
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
  wireSubmit(mesh);
  return mesh;
}

const finished = new Map<string, { seconds: number }>();

function renderMyJobs(mesh: Mesh) {
  $('#my-jobs').replaceChildren(
    ...[...mesh.running.entries()].map(([id, run]) => {
      const r = run.job.report();
      const li = document.createElement('li');
      li.dataset.jobId = id;
      li.dataset.state = run.job.done ? 'done' : 'running';
      li.dataset.accepted = String(r.accepted);
      const head = `Job ${id}${run.resumed ? ' (resumed after a reload)' : ''}: `;
      const counts =
        `${r.accepted}/${r.shards} shards verified` +
        (r.restored ? ` (${r.restored} from before the reload)` : '') +
        `, ${r.rejected} rejected, ${r.reassignments} reassigned`;
      const f = finished.get(id);
      li.textContent = run.job.done
        ? `${head}done${f ? ` in ${f.seconds.toFixed(1)} s` : ''}: ${counts}; verification cost ${(100 * r.verifyOverCompute).toFixed(2)}% of compute.`
        : `${head}${counts}…`;
      li.className = run.job.done ? 'ok' : '';
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

function wireSubmit(mesh: Mesh) {
  for (const [id, run] of mesh.running) watch(mesh, id, run, performance.now());
  const form = $<HTMLFormElement>('#submit-form');
  const button = $<HTMLButtonElement>('#submit-button');
  const result = $<HTMLParagraphElement>('#job-result');
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const dims = ['m', 'k', 'n'].map((f) => readInt(form, f, 1, 16_384));
    const bad = dims.find((d) => 'error' in d);
    if (bad && 'error' in bad) {
      result.textContent = bad.error;
      result.className = 'error';
      return;
    }
    const [m, k, n] = dims.map((d) => ('value' in d ? d.value : 0)) as [number, number, number];
    button.disabled = true;
    result.textContent = '';
    result.className = '';
    try {
      const t0 = performance.now();
      const run = await mesh.submitMatmul(randomProblem(m, k, n, cryptoRng()));
      watch(mesh, run.jobId, run, t0);
      result.textContent = `Submitted job ${run.jobId}: waiting for contributors. It is saved in this browser and resumes if you reload.`;
    } catch (e) {
      result.textContent = describeError(e);
      result.className = 'error';
    } finally {
      button.disabled = false;
    }
  });
}
