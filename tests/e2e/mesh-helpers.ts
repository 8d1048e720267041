import { type Browser, expect, type Page } from '@playwright/test';
import type { MatmulProblem } from '../../src/jobs/freivalds';
import type { Mesh } from '../../src/mesh/mesh';
import { checkElementwise, matmulF64 } from '../../src/reference/matmul';
import type { PageHandle } from '../../src/ui/handle';

/** What a spec sees of a tab: its real handle, after the tab has joined the mesh. */
export type Win = { tessel: PageHandle & { mesh: Mesh } };

/**
 * Opens the app in a fresh browser context (its own storage, so its own peer id) on one relay or
 * several, and brings it
 * onto the mesh: a contributor by switching Contribute on as a volunteer would, any other tab by
 * joining as the owner of jobs (what submitting one does).
 */
export async function openTab(
  browser: Browser,
  relayAddr: string | string[],
  {
    contribute,
    name,
    engine,
  }: {
    contribute: boolean;
    name: string /** `?engine=`: lend this one */;
    engine?: 'webgpu' | 'cpu';
  },
): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (e) => console.log(`[${name}] pageerror`, e));
  page.on('console', (m) => {
    // Refused websocket redials are expected once the relay is stopped.
    if (m.text().includes('WebSocket connection to')) return;
    if (m.type() === 'warning' || m.type() === 'error') console.log(`[${name}] ${m.text()}`);
  });
  const relays = [relayAddr].flat();
  const params = relays.map((r) => `relay=${encodeURIComponent(r)}`);
  if (engine) params.push(`engine=${engine}`);
  params.push('faults'); // these tabs may play cheats and crashes (window.tessel.faults)
  await page.goto(`/?${params.join('&')}`);
  if (contribute) await page.check('#contribute');
  else await page.evaluate(() => (globalThis as unknown as Win).tessel.join().then(() => {}));
  await expect(page.locator('#mesh-status')).toHaveAttribute('data-state', 'ready', {
    timeout: 60_000,
  });
  return page;
}

export const peerIdOf = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as Win).tessel.mesh.peerId);

/** Starts a job on the researcher's tab; returns its id without waiting for it. */
export function submit(page: Page, p: MatmulProblem, block = 64): Promise<string> {
  return page.evaluate(
    async ({ m, k, n, a, b, block }) => {
      const mesh = (globalThis as unknown as Win).tessel.mesh;
      const problem = { a: Float32Array.from(a), b: Float32Array.from(b), m, k, n };
      const { jobId } = await mesh.submitMatmul(problem, { blockRows: block, blockCols: block });
      return jobId;
    },
    { m: p.m, k: p.k, n: p.n, a: Array.from(p.a), b: Array.from(p.b), block },
  );
}

/** Waits for a job of the researcher's tab to finish; returns its answer, report and settlements. */
export function finish(page: Page, jobId: string) {
  return page.evaluate(async (jobId) => {
    const mesh = (globalThis as unknown as Win).tessel.mesh;
    const { answer, report } = await mesh.running.get(jobId)!.done;
    return {
      c: answer.kind === 'matmul' ? Array.from(answer.c) : [],
      logits: answer.kind === 'inference' ? Array.from(answer.logits) : [],
      tokens: answer.kind === 'inference' ? Array.from(answer.tokens) : [],
      report,
      settled: mesh.settled.filter((s) => s.jobId === jobId),
    };
  }, jobId);
}

/** Waits until the researcher's tab has quarantined `peer` (60 s at most). */
export async function expectQuarantined(researcher: Page, peer: string) {
  await expect
    .poll(
      () =>
        researcher.evaluate(
          (id) => (globalThis as unknown as Win).tessel.mesh.reputation.isQuarantined(id),
          peer,
        ),
      { timeout: 60_000 },
    )
    .toBe(true);
}

export function expectCorrect(c: number[], p: MatmulProblem) {
  const check = checkElementwise(c, matmulF64(p.a, p.b, p), matmulF64(p.a, p.b, p, true), p.k);
  expect(check.ok, `worst ratio ${check.worstRatio}`).toBe(true);
}
