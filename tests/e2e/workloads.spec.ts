import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { expect, type Page, test } from '@playwright/test';
import { readNpy } from '../../src/model/npy';
import { type Relay, startRelay } from '../../src/relay/relay';
import { hfCheckpointFiles } from '../support/hf-checkpoints';
import { bertWordPiece, charBpe } from '../support/tokenizer-json';
import { openTab, type Win } from './mesh-helpers';

// Data-set jobs from the researcher's page (src/ui/workloads-view.ts) across real tabs: a tiny
// random-weight BERT embeds a 2,000-row JSONL on two volunteers, and the downloaded .npy equals
// the researcher's own local embedding within the bound the job's report states; a tiny Llama
// generates over a CSV column and the .jsonl has one line per row.

const WORDS = 'the a cat sat on mat rug was sitting stock markets fell sharply today'.split(' ');
const ROWS = 2_000;
/** Row i: 3 to 9 words, drawn from i, so rows differ. */
const texts = Array.from({ length: ROWS }, (_, i) =>
  Array.from(
    { length: 3 + (i % 7) },
    (_, j) => WORDS[(i * 7 + j * 3 + (i >> 3)) % WORDS.length],
  ).join(' '),
);
const PROMPTS = [
  'hello there',
  'the cat sat',
  'once upon a time',
  'Why, said he',
  'a b c',
  'What is 10',
];

const json = (v: unknown) => new TextEncoder().encode(`${JSON.stringify(v)}\n`);
let root: string;
const paths = { bert: '', llama: '', jsonl: '', csv: '', long: '' };

function writeFolder(name: string, files: Map<string, Uint8Array>): string {
  const dir = join(root, name);
  for (const [path, bytes] of files) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), bytes);
  }
  return dir;
}

test.beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'tessel-workloads-'));
  const bert = hfCheckpointFiles({ kind: 'bert' });
  bert.set('tokenizer.json', json(bertWordPiece(WORDS)));
  bert.set('tokenizer_config.json', json({ do_lower_case: true, model_max_length: 40 }));
  paths.bert = writeFolder('tiny-bert', bert);
  const llama = hfCheckpointFiles({ kind: 'llama' });
  // 61 characters + 3 specials fill the fixture's 64 ids: every id the random model picks decodes.
  llama.set(
    'tokenizer.json',
    json(charBpe([..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ ,.!?'\n01"])),
  );
  llama.set(
    'tokenizer_config.json',
    json({ bos_token: '<s>', eos_token: '</s>', unk_token: '<unk>' }),
  );
  paths.llama = writeFolder('tiny-llama', llama);
  paths.jsonl = join(root, 'corpus.jsonl');
  writeFileSync(paths.jsonl, texts.map((text, id) => JSON.stringify({ id, text })).join('\n'));
  paths.long = join(root, 'long.jsonl');
  const long = ['the cat', 'a mat', WORDS.join(' ').repeat(3), 'the rug'];
  writeFileSync(paths.long, long.map((text) => JSON.stringify({ text })).join('\n'));
  paths.csv = join(root, 'prompts.csv');
  writeFileSync(paths.csv, `id,prompt\n${PROMPTS.map((p, i) => `${i},"${p}"`).join('\n')}\n`);
});
test.afterAll(() => rmSync(root, { recursive: true, force: true }));

let relay: Relay;
test.beforeEach(async () => {
  relay = await startRelay({ port: 0, keyFile: 'test-results/relay-key' });
});
test.afterEach(async () => {
  await relay.stop().catch(() => {});
});

/** Picks a checkpoint folder in the data-set form's model picker and waits for it to load. */
async function chooseModel(page: Page, dir: string, task: 'embed' | 'generate') {
  await page.locator('tessel-workloads #wl-choose-model').click();
  await page.locator('tessel-workloads #model-folder').setInputFiles(dir);
  await page.locator('tessel-workloads #load-picked').click();
  await expect(page.locator('tessel-workloads #wl-model')).toHaveAttribute('data-task', task, {
    timeout: 20_000,
  });
}

/** Submits the form; waits for the job to finish on the mesh; returns its id. */
async function submitAndFinish(page: Page): Promise<string> {
  await page.locator('tessel-workloads #wl-submit').click();
  const result = page.locator('tessel-workloads #wl-result');
  await expect(result).toContainText('Submitted job', { timeout: 20_000 });
  const jobId = /Submitted job ([A-Za-z0-9_-]+):/.exec((await result.textContent()) ?? '')![1]!;
  const item = page.locator(`#my-jobs > li[data-job-id="${jobId}"]`);
  await expect(item).toHaveAttribute('data-state', 'done', { timeout: 40_000 });
  return jobId;
}

/** Builds the job's results file from its item's download button and saves it; its bytes. */
async function download(page: Page, jobId: string, name: string): Promise<Buffer> {
  const item = page.locator(`#my-jobs > li[data-job-id="${jobId}"]`);
  await item.locator('.download').click();
  const link = item.locator('a.results-link');
  await expect(link).toHaveAttribute('download', name, { timeout: 20_000 });
  const [file] = await Promise.all([page.waitForEvent('download'), link.click()]);
  expect(file.suggestedFilename()).toBe(name);
  return readFileSync((await file.path())!);
}

/**
 * Downloads a finished embed job's .npy and compares it with the tab's own embedding of
 * `rows`; returns the largest |difference| ÷ (bound × the row's scale).
 */
async function compareWithLocal(page: Page, jobId: string, rows: string[], bound: number) {
  const npy = readNpy(new Uint8Array(await download(page, jobId, `embeddings-${jobId}.npy`)));
  const digest = await page.locator('tessel-workloads #wl-model').getAttribute('data-digest');
  const local = await page.evaluate(
    async ({ digest, rows }) => {
      const { compute } = (globalThis as unknown as Win).tessel;
      const out: number[] = [];
      for (let at = 0; at < rows.length; at += 250) {
        for (const v of await compute.embed(digest!, { texts: rows.slice(at, at + 250) }))
          out.push(...v);
      }
      return out;
    },
    { digest, rows },
  );
  const dim = npy.shape[1]!;
  expect(npy.shape).toEqual([rows.length, dim]);
  expect(local).toHaveLength(rows.length * dim);
  expect(npy.data.some((v) => v !== 0)).toBe(true);
  let worst = 0;
  for (let r = 0; r < rows.length; r++) {
    const row = npy.data.subarray(r * dim, (r + 1) * dim);
    const mine = local.slice(r * dim, (r + 1) * dim);
    const scale = Math.max(1, ...mine.map(Math.abs), ...Array.from(row, Math.abs));
    for (let j = 0; j < dim; j++)
      worst = Math.max(worst, Math.abs(row[j]! - mine[j]!) / (bound * scale));
  }
  return worst;
}

test('a researcher embeds a 2,000-row JSONL on two volunteers and generates over a CSV column', async ({
  browser,
}) => {
  test.setTimeout(90_000);
  const addr = relay.multiaddrs[0]!;
  const researcher = await openTab(browser, addr, { contribute: false, name: 'researcher' });
  const volunteers = await Promise.all(
    // One volunteer lends WebGPU (SwiftShader), one the CPU engine: the owner's sampled checks
    // and the bound below compare rows computed on different engines.
    (['webgpu', 'cpu'] as const).map((engine) =>
      openTab(browser, addr, { contribute: true, name: `v-${engine}`, engine }),
    ),
  );

  // A row longer than the model's 40 positions, with "refuse": a typed refusal naming it.
  await chooseModel(researcher, paths.bert, 'embed');
  await researcher.locator('tessel-workloads #wl-dataset').setInputFiles(paths.long);
  // The preview is read before the form can submit it.
  await expect(researcher.locator('tessel-workloads #wl-preview tbody tr')).toHaveCount(4);
  await researcher.locator('tessel-workloads #wl-overlong').selectOption('refuse');
  await researcher.locator('tessel-workloads #wl-submit').click();
  await expect(researcher.locator('tessel-workloads #wl-result[role=alert]')).toContainText(
    'DatasetError (row-too-long): long.jsonl, row 3, field "text": the text has',
  );
  await researcher.locator('tessel-workloads #wl-overlong').selectOption('truncate');

  // Embeddings: the data set with its preview and field, the estimate, submit.
  await researcher.locator('tessel-workloads #wl-dataset').setInputFiles(paths.jsonl);
  await expect(researcher.locator('tessel-workloads #wl-preview tbody tr')).toHaveCount(5);
  await expect(researcher.locator('tessel-workloads #wl-field')).toHaveValue('text');
  await expect(researcher.locator('tessel-workloads #wl-estimate')).toContainText(
    /^\s*2,000 rows, (about )?[\d,]+ tokens, (about )?[\d.,]+ GFLOP.*Time: /,
    { timeout: 20_000 },
  );
  await expect(researcher.locator('#rows-estimate')).toContainText('Estimated total');
  const shot = test.info().outputPath('workloads.png');
  await researcher.locator('tessel-workloads').screenshot({ path: shot });
  await test.info().attach('workloads', { path: shot, contentType: 'image/png' });
  // 20 shards, and the CPU volunteer slowed: the WebGPU one surely takes some.
  await researcher.locator('tessel-workloads #wl-per-shard').fill('100');
  await volunteers[1]!.evaluate(() =>
    (globalThis as unknown as Win).tessel.faults!.compute.setTestMode({ delayMs: 200 }),
  );
  const jobId = await submitAndFinish(researcher);
  await researcher.locator('tessel-workloads #wl-per-shard').fill('');
  const item = researcher.locator(`#my-jobs > li[data-job-id="${jobId}"]`);
  await expect(item.locator('.rows')).toHaveAttribute('data-rows-verified', String(ROWS));
  // The form, its preview and the job's rows and report pass the page's accessibility bar.
  await item.locator('.row-report summary').click();
  const { violations } = await new AxeBuilder({ page: researcher }).analyze();
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.length})`)).toEqual([]);
  const jobShot = test.info().outputPath('row-job.png');
  await item.screenshot({ path: jobShot });
  await test.info().attach('row-job', { path: jobShot, contentType: 'image/png' });
  const bound = Number(await item.locator('.embed-bound').getAttribute('data-bound'));
  expect(bound).toBeGreaterThan(0);
  expect(bound).toBeLessThan(1e-3);

  // Both volunteers' work counts toward it (contributions verified by this owner).
  const verified = await Promise.all(
    volunteers.map((v) =>
      v.evaluate(() => (globalThis as unknown as Win).tessel.mesh.snapshot().contribution.verified),
    ),
  );
  expect(verified.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);

  const worst = await compareWithLocal(researcher, jobId, texts, bound);
  test.info().annotations.push({
    type: 'embeddings',
    description: `worst |difference| ÷ bound ${worst.toExponential(2)}; volunteers verified ${verified.join(' + ')} shard(s)`,
  });
  expect(worst, 'largest difference ÷ the stated bound').toBeLessThanOrEqual(1);

  // Generations over a CSV column: one .jsonl line per row, in order.
  await chooseModel(researcher, paths.llama, 'generate');
  await researcher.locator('tessel-workloads #wl-dataset').setInputFiles(paths.csv);
  await expect(researcher.locator('tessel-workloads #wl-field')).toHaveValue('prompt');
  await researcher.locator('tessel-workloads #wl-kind').selectOption('generate');
  await researcher.locator('tessel-workloads #wl-max-new-tokens').fill('5');
  const genId = await submitAndFinish(researcher);
  const lines = (await download(researcher, genId, `generations-${genId}.jsonl`))
    .toString('utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l));
  expect(lines.map((l) => l.row)).toEqual(PROMPTS.map((_, i) => i));
  lines.forEach((l, i) => {
    expect(l.input).toBe(PROMPTS[i]);
    expect(typeof l.output).toBe('string');
    expect(l.tokens).toBeGreaterThanOrEqual(1);
    expect(l.tokens).toBeLessThanOrEqual(5);
    expect(['stop', 'length']).toContain(l.finish_reason);
  });
});

test('a data-set job survives the researcher’s reload: verified rows are kept, the rest finish', async ({
  browser,
}) => {
  test.setTimeout(90_000);
  const addr = relay.multiaddrs[0]!;
  const researcher = await openTab(browser, addr, { contribute: false, name: 'researcher' });
  const volunteer = await openTab(browser, addr, { contribute: true, name: 'volunteer' });
  // A slow engine, so the job is surely part done when the researcher reloads.
  await volunteer.evaluate(() =>
    (globalThis as unknown as Win).tessel.faults!.compute.setTestMode({ delayMs: 300 }),
  );
  const rows = texts.slice(0, 300);
  const file = join(root, 'reload.jsonl');
  writeFileSync(file, rows.map((text) => JSON.stringify({ text })).join('\n'));

  await chooseModel(researcher, paths.bert, 'embed');
  await researcher.locator('tessel-workloads #wl-dataset').setInputFiles(file);
  await expect(researcher.locator('tessel-workloads #wl-preview tbody tr')).toHaveCount(5);
  await researcher.locator('tessel-workloads #wl-per-shard').fill('15'); // 20 shards
  await researcher.locator('tessel-workloads #wl-submit').click();
  const result = researcher.locator('tessel-workloads #wl-result');
  await expect(result).toContainText('Submitted job', { timeout: 20_000 });
  const jobId = /Submitted job ([A-Za-z0-9_-]+):/.exec((await result.textContent()) ?? '')![1]!;
  const settled = () =>
    researcher.evaluate(() => (globalThis as unknown as Win).tessel.mesh.settled.length);
  await expect.poll(settled, { timeout: 40_000 }).toBeGreaterThanOrEqual(4);

  await researcher.reload();
  await expect(researcher.locator('#mesh-status')).toHaveAttribute('data-state', 'ready', {
    timeout: 40_000,
  });
  const resumed = await researcher.evaluate((id) => {
    const run = (globalThis as unknown as Win).tessel.mesh.running.get(id);
    return run && { resumed: run.resumed, progress: run.job.progress(), kind: run.job.kind };
  }, jobId);
  expect(resumed).toMatchObject({ resumed: true, kind: 'embed' });
  expect(resumed!.progress.rowsVerified).toBeGreaterThanOrEqual(4 * 15);
  const item = researcher.locator(`#my-jobs > li[data-job-id="${jobId}"]`);
  await expect(item).toContainText('resumed');
  await expect(item).toHaveAttribute('data-state', 'done', { timeout: 60_000 });
  const report = await researcher.evaluate(
    (id) => (globalThis as unknown as Win).tessel.mesh.running.get(id)!.job.report(),
    jobId,
  );
  expect(report).toMatchObject({ shards: 20, accepted: 20 });
  expect(report.restored).toBeGreaterThanOrEqual(4);

  // The model came back from the tab's cache; the file has every row, the restored ones too.
  await chooseModel(researcher, paths.bert, 'embed');
  const bound = Number(await item.locator('.embed-bound').getAttribute('data-bound'));
  expect(await compareWithLocal(researcher, jobId, rows, bound)).toBeLessThanOrEqual(1);
});
