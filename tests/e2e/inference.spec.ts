import { readFileSync } from 'node:fs';
import { expect, type Page, test } from '@playwright/test';
import { parseConfig } from '../../src/model/hf/config';
import { logitErrorBound, modelSummary } from '../../src/model/hf/cost';
import { type Relay, startRelay } from '../../src/relay/relay';
import { expectQuarantined, finish, openTab, peerIdOf, type Win } from './mesh-helpers';

// Batched inference on the shipped model across real tabs: a researcher submits from the page's
// form, contributors fetch the model from the researcher when they lack it, cheaters are caught,
// and the answer equals the researcher's own forward pass.

const dir = 'public/models/kjv-char';
const FILES = [
  'config.json',
  'generation_config.json',
  'model.safetensors',
  'tokenizer.json',
  'tokenizer_config.json',
];
const summary = modelSummary(parseConfig(JSON.parse(readFileSync(`${dir}/config.json`, 'utf8'))));
/** Character → token id, from the shipped character tokenizer.json. */
const ids: Record<string, number> = JSON.parse(readFileSync(`${dir}/tokenizer.json`, 'utf8')).model
  .vocab;
const vocab: string[] = [];
for (const [ch, id] of Object.entries(ids)) vocab[id] = ch;

let relay: Relay;
test.beforeEach(async () => {
  relay = await startRelay({ port: 0, keyFile: 'test-results/relay-key' });
});
test.afterEach(async () => {
  await relay.stop().catch(() => {});
});

/** Loads the shipped checkpoint into a tab's Worker, as a tab that ran it before would hold
 * it; resolves with its digest. */
function holdModel(page: Page) {
  return page.evaluate(async (names) => {
    const files: Record<string, Uint8Array> = {};
    for (const n of names) {
      files[n] = new Uint8Array(await (await fetch(`/models/kjv-char/${n}`)).arrayBuffer());
    }
    return (await (globalThis as unknown as Win).tessel.compute.loadModel(files)).digest;
  }, FILES);
}

/** Fills the researcher's inference form and submits it; returns the new job's id. */
async function submitPrompts(
  page: Page,
  prompts: string[],
  output: { mode: 'logits' } | { mode: 'tokens'; steps: number },
): Promise<string> {
  const before = await page.evaluate(() => [
    ...(globalThis as unknown as Win).tessel.mesh.running.keys(),
  ]);
  await page.fill('#prompts', prompts.join('\n'));
  await page.selectOption('#infer-mode', output.mode);
  if (output.mode === 'tokens') {
    await page.fill('#infer-form input[name=steps]', String(output.steps));
    await page.fill('#infer-form input[name=temperature]', '0');
  }
  await page.click('#infer-button');
  await expect(page.locator('#infer-result')).toContainText('Submitted job');
  const after = await page.evaluate(() => [
    ...(globalThis as unknown as Win).tessel.mesh.running.keys(),
  ]);
  return after.find((id) => !before.includes(id))!;
}

const PROMPTS = [
  'And God said, Let there be',
  'In the beginning',
  'And the LORD spake unto Moses, saying',
  'These are the generations',
  'And Abraham',
  'Thou shalt not',
  'And it came to pass',
  'Behold,',
  'And the children of Israel',
  'Speak unto Aaron',
  'And Jacob said',
  'The earth was without form',
];

test('logits: three contributors, one fetching the model (a chunk corrupted on the way), one cheating', async ({
  browser,
}) => {
  const addr = relay.multiaddrs[0]!;
  const researcher = await openTab(browser, addr, { contribute: false, name: 'researcher' });
  // The holder lends WebGPU, the others the CPU engine (this adapter is software): copies from
  // two engines must agree within the model's bound, and count as different adapters.
  const holder = await openTab(browser, addr, {
    contribute: false,
    name: 'holder',
    engine: 'webgpu',
  });
  const cheater = await openTab(browser, addr, { contribute: false, name: 'cheater' });
  const fetcher = await openTab(browser, addr, { contribute: false, name: 'fetcher' });
  const digest = await holdModel(holder);
  expect(await holdModel(cheater)).toBe(digest);
  expect(
    await fetcher.evaluate(
      (d) => (globalThis as unknown as Win).tessel.compute.hasModel(d),
      digest,
    ),
  ).toBe(false);
  await cheater.evaluate(() =>
    (globalThis as unknown as Win).tessel.faults!.compute.setTestMode({ cheat: 'perturb' }),
  );
  // The first model chunk the researcher serves is corrupted in flight.
  await researcher.evaluate(() => {
    (globalThis as unknown as Win).tessel.faults!.mesh.corruptChunks(1);
  });
  const researcherId = await peerIdOf(researcher);
  const cheaterId = await peerIdOf(cheater);
  const fetcherId = await peerIdOf(fetcher);
  const holderId = await peerIdOf(holder);

  const jobId = await submitPrompts(researcher, PROMPTS, { mode: 'logits' });
  // The cheater works alone first: with nobody to compare with, the researcher checks its copies.
  await cheater.check('#contribute');
  await expectQuarantined(researcher, cheaterId);
  // The fetcher starts alone, so it must fetch the model and compute; the holder joins once the
  // fetcher holds the model.
  await fetcher.check('#contribute');
  await expect
    .poll(
      () =>
        fetcher.evaluate((d) => (globalThis as unknown as Win).tessel.compute.hasModel(d), digest),
      { timeout: 60_000 },
    )
    .toBe(true);
  await holder.check('#contribute');
  const out = await finish(researcher, jobId);

  // The answer is the researcher's own forward pass, within two honest runs' error bound.
  const mine = await researcher.evaluate(
    async ({ prompts, vocab, digest }) => {
      const { compute } = (globalThis as unknown as Win).tessel;
      const rows: number[] = [];
      for (const p of prompts) {
        const ids = Uint32Array.from(Array.from(p, (ch) => vocab.indexOf(ch)));
        rows.push(...(await compute.logits(digest, ids, 1, ids.length, ids.length - 1)));
      }
      return rows;
    },
    { prompts: PROMPTS, vocab, digest },
  );
  expect(out.logits).toHaveLength(PROMPTS.length * vocab.length);
  for (let s = 0; s < PROMPTS.length; s++) {
    const row = mine.slice(s * vocab.length, (s + 1) * vocab.length);
    const tol = 2 * logitErrorBound(summary, Math.max(...row.map(Math.abs)));
    for (let v = 0; v < vocab.length; v++) {
      expect(Math.abs(out.logits[s * vocab.length + v]! - row[v]!)).toBeLessThanOrEqual(tol);
    }
  }

  // The cheater was caught every time, the honest ones never; both honest tabs earned credit.
  const from = (id: string) => out.settled.filter((s) => s.contributor === id);
  expect(from(cheaterId).length).toBeGreaterThanOrEqual(2);
  expect(from(cheaterId).every((s) => s.settlement !== 'accepted')).toBe(true);
  for (const id of [holderId, fetcherId]) {
    expect(from(id).every((s) => s.settlement !== 'rejected')).toBe(true);
  }
  expect(from(fetcherId).some((s) => s.settlement === 'accepted')).toBe(true);
  expect(out.report).toMatchObject({ kind: 'inference', shards: out.report.accepted });
  expect(out.report.rejected).toBe(
    from(cheaterId).filter((s) => s.settlement === 'rejected').length,
  );

  // The fetcher got the model from the researcher, refused the corrupted chunk, and marked it.
  expect(
    await fetcher.evaluate(
      (d) => (globalThis as unknown as Win).tessel.compute.hasModel(d),
      digest,
    ),
  ).toBe(true);
  const seen = await fetcher.evaluate(
    (id) => (globalThis as unknown as Win).tessel.mesh.reputation.get(id),
    researcherId,
  );
  expect(seen.malformed).toBe(1);
  expect(seen.quarantined).toBe(false);
  // Receipts name how each shard was verified.
  const methods = await fetcher.evaluate(() =>
    (globalThis as unknown as Win).tessel.mesh.outcomes.flatMap((o) =>
      o.receipt ? [o.receipt.method] : [],
    ),
  );
  expect(methods.length).toBeGreaterThan(0);
  expect(methods.every((m) => ['redundancy', 'canary', 'spot-check'].includes(m))).toBe(true);
});

test('generated text: the form returns each prompt’s continuation; a cheater sending another shard’s tokens is caught', async ({
  browser,
}) => {
  const addr = relay.multiaddrs[0]!;
  const researcher = await openTab(browser, addr, { contribute: false, name: 'researcher' });
  const honest = await openTab(browser, addr, { contribute: false, name: 'honest' });
  const cheater = await openTab(browser, addr, { contribute: false, name: 'cheater' });
  await cheater.evaluate(() =>
    (globalThis as unknown as Win).tessel.faults!.compute.setTestMode({ cheat: 'other-shard' }),
  );
  const cheaterId = await peerIdOf(cheater);
  const prompts = PROMPTS.slice(0, 8);
  const jobId = await submitPrompts(researcher, prompts, { mode: 'tokens', steps: 12 });
  await cheater.check('#contribute');
  await expectQuarantined(researcher, cheaterId);
  await honest.check('#contribute');
  const out = await finish(researcher, jobId);
  const fromCheater = out.settled.filter((s) => s.contributor === cheaterId);
  expect(fromCheater.filter((s) => s.settlement === 'accepted')).toEqual([]);

  // Greedy generation is reproducible: the researcher's own run gives the same characters.
  const local = await researcher.evaluate(
    async ({ prompts, vocab }) => {
      const { compute, mesh } = (globalThis as unknown as Win).tessel;
      const digest = [...mesh.running.values()].at(-1)!.job.modelDigest!;
      const out: number[] = [];
      for (const p of prompts) {
        const ids = Uint32Array.from(Array.from(p, (ch) => vocab.indexOf(ch)));
        const t = await compute.generateTokens(digest, ids, 1, ids.length, {
          steps: 12,
          temperature: 0,
          seeds: new Uint32Array(0),
        });
        out.push(...t);
      }
      return out;
    },
    { prompts, vocab },
  );
  expect(out.tokens).toEqual(local);
  // The page shows each prompt with its continuation.
  const shown = researcher.locator(`#my-jobs li[data-job-id="${jobId}"] ol.generated li`);
  await expect(shown).toHaveCount(prompts.length);
  const first =
    prompts[0]! +
    local
      .slice(0, 12)
      .map((t) => vocab[t])
      .join('');
  await expect(shown.first()).toHaveText(first);
});
