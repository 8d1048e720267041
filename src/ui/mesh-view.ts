import { matmulKernelDigest } from '../gpu/matmul';
import { randomProblem } from '../jobs/matmul-job';
import { cryptoRng } from '../jobs/rng';
import { loadIdentity } from '../mesh/identity';
import { Mesh } from '../mesh/mesh';
import type { ComputeClient } from '../worker/client';
import { loadMeshConfig } from './config';
import { describeError, readInt } from './format';

const $ = <T extends HTMLElement>(sel: string) => document.querySelector(sel) as T;

/** Joins the mesh (if a relay is configured) and wires the Mesh and Submit sections. */
export async function startMeshView(compute: ComputeClient, url: URL): Promise<Mesh | undefined> {
  const status = $<HTMLParagraphElement>('#mesh-status');
  const setStatus = (text: string, state: string) => {
    status.textContent = text;
    status.dataset.state = state;
  };
  let mesh: Mesh;
  try {
    const config = await loadMeshConfig(url);
    if (!config) {
      setStatus(
        'No relay configured: run `npm start`, or open this page with ?relay=<multiaddr>.',
        'off',
      );
      return undefined;
    }
    const [privateKey, info, kernelDigest] = await Promise.all([
      loadIdentity(),
      compute.info(),
      matmulKernelDigest(),
    ]);
    const contribute = $<HTMLInputElement>('#contribute');
    if (url.searchParams.get('contribute') === '0') contribute.checked = false;
    mesh = await Mesh.start({
      config,
      privateKey,
      kernelDigest,
      contribute: contribute.checked,
      maxBufferBytes: info.adapter.limits.maxStorageBufferBindingSize,
      // Copies of the lease's tensors are not needed afterwards, so they are transferred.
      compute: (lease) => compute.matmul(lease.a, lease.b, { m: lease.m, k: lease.k, n: lease.n }),
    });
    contribute.addEventListener('change', () => mesh.setContributing(contribute.checked));
  } catch (e) {
    setStatus(`Not connected: ${describeError(e)}`, 'error');
    return undefined;
  }

  const render = () => {
    const s = mesh.status();
    setStatus(
      `Online as ${s.peerId.slice(0, 8)}…${s.peerId.slice(-6)} · ${s.peers} peer(s), ${s.directPeers} direct`,
      'ready',
    );
    const ok = mesh.outcomes.filter((o) => o.accepted).length;
    const bad = mesh.outcomes.length - ok;
    $('#contributions').textContent = mesh.outcomes.length
      ? `Your shards: ${ok} verified, ${bad} rejected.`
      : '';
    $('#job-list').replaceChildren(
      ...s.jobs.map((j) => {
        const li = document.createElement('li');
        const mine = j.owner === s.peerId ? ' (yours)' : '';
        li.textContent = `${j.kind} job ${j.jobId}${mine}: ${j.shardCount - j.shardsLeft}/${j.shardCount} shards done`;
        return li;
      }),
    );
  };
  mesh.addEventListener('change', render);
  setInterval(render, 2_000);
  render();
  wireSubmit(mesh);
  return mesh;
}

function wireSubmit(mesh: Mesh) {
  const form = $<HTMLFormElement>('#submit-form');
  const button = $<HTMLButtonElement>('#submit-button');
  const progress = $<HTMLProgressElement>('#job-progress');
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
    result.className = '';
    try {
      const t0 = performance.now();
      const { jobId, done } = mesh.submitMatmul(randomProblem(m, k, n, cryptoRng()));
      const job = mesh.owner.jobs.get(jobId)!;
      progress.hidden = false;
      progress.max = job.blocks.length;
      const tick = () => {
        const r = job.report();
        progress.value = r.accepted;
        result.textContent = `Job ${jobId}: ${r.accepted}/${r.shards} shards verified, ${r.rejected} rejected, ${r.reassignments} reassigned. Waiting for contributors…`;
      };
      mesh.owner.addEventListener('settled', tick);
      tick();
      const { report } = await done;
      mesh.owner.removeEventListener('settled', tick);
      progress.value = report.shards;
      const s = ((performance.now() - t0) / 1000).toFixed(1);
      result.textContent =
        `Done in ${s} s: C (${m}×${n}) assembled from ${report.shards} shards, every one verified ` +
        `(${report.rejected} rejected, ${report.reassignments} reassigned; verification cost ` +
        `${(100 * report.verifyOverCompute).toFixed(2)}% of compute).`;
      result.className = 'ok';
    } catch (e) {
      result.textContent = describeError(e);
      result.className = 'error';
    } finally {
      button.disabled = false;
    }
  });
}
