import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { expect, type Page, test } from '@playwright/test';
import { hfCheckpointFiles } from '../support/hf-checkpoints';
import { bertWordPiece, charBpe } from '../support/tokenizer-json';

// "Try a model" as a person uses it: a checkpoint folder given to the folder picker, Load,
// Generate (a decoder) or Embed (BERT), the models kept by digest across a reload, Delete.
// Tiny random-weight checkpoints in Hugging Face's layout (tests/support/hf-checkpoints.ts),
// with small tokenizers written here; the tab lends the CPU engine (SwiftShader is software).

/** A character-level BPE tokenizer.json filling the decoder fixture's 64 ids exactly, so every
 * id the random model picks decodes. */
function charTokenizer(): object {
  const chars = [..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ ,.!?'\n01"];
  if (chars.length + 3 !== 64) throw new Error(`${chars.length + 3} ids, not 64`);
  return charBpe(chars);
}

/** A WordPiece tokenizer.json (BERT's pipeline) under the BERT fixture's 64 ids. */
function wordPieceTokenizer(): object {
  const words = 'the a cat sat on mat rug was sitting stock markets fell sharply today . !'.split(
    ' ',
  );
  return bertWordPiece(words);
}

const json = (v: unknown) => new TextEncoder().encode(`${JSON.stringify(v, null, 2)}\n`);

let root: string;
const folders = { decoder: '', bert: '', broken: '' };

function writeFolder(name: string, files: Map<string, Uint8Array>): string {
  const dir = join(root, name);
  for (const [path, bytes] of files) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), bytes);
  }
  return dir;
}

test.beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'tessel-try-model-'));
  const decoder = hfCheckpointFiles({ kind: 'llama', dtype: 'F16' });
  decoder.set('tokenizer.json', json(charTokenizer()));
  decoder.set(
    'tokenizer_config.json',
    json({
      bos_token: '<s>',
      eos_token: '</s>',
      unk_token: '<unk>',
      chat_template:
        "{% for m in messages %}<s>{{ m['role'] }}, {{ m['content'] }}\n{% endfor %}{% if add_generation_prompt %}<s>assistant, {% endif %}",
    }),
  );
  decoder.set('README.md', new TextEncoder().encode('# a tiny llama\n')); // never read
  folders.decoder = writeFolder('tiny-llama', decoder);
  const bert = hfCheckpointFiles({ kind: 'bert' });
  bert.set('tokenizer.json', json(wordPieceTokenizer()));
  bert.set('tokenizer_config.json', json({ do_lower_case: true, model_max_length: 40 }));
  folders.bert = writeFolder('tiny-bert', bert);
  // A checkpoint whose first layer lost its query projection.
  const broken = hfCheckpointFiles({
    kind: 'bert',
    edit: (ts) => ts.filter((t) => t.name !== 'encoder.layer.0.attention.self.query.weight'),
  });
  folders.broken = writeFolder('broken-bert', broken);
});

test.afterAll(() => rmSync(root, { recursive: true, force: true }));

async function loadFolder(page: Page, dir: string) {
  await page.locator('#model-folder').setInputFiles(dir);
  await page.locator('#load-picked').click();
}

test('a person loads a folder, generates and embeds, and finds the models kept after a reload', async ({
  page,
}, info) => {
  page.on('pageerror', (e) => console.log('pageerror', e));
  const modelRequests: string[] = [];
  page.on('request', (r) => {
    if (/\/models\/|\.safetensors$|\/tokenizer\.json$/.test(r.url())) modelRequests.push(r.url());
  });
  await page.goto('/');
  // Picking a folder reads nothing and runs nothing until Load is pressed.
  await page.locator('#model-folder').setInputFiles(folders.decoder);
  await expect(page.locator('#picked')).toContainText('from tiny-llama');
  await expect(page.locator('#model-info')).toHaveCount(0);
  await expect(page.locator('#cpu-work')).toHaveAttribute('data-calls', '0');
  expect(modelRequests).toEqual([]); // and downloads no model by itself
  await page.locator('#load-picked').click();
  const modelInfo = page.locator('#model-info');
  await expect(modelInfo).toHaveAttribute('data-task', 'generate', { timeout: 30_000 });
  await expect(page.locator('#model-family')).toHaveText('llama');
  await expect(modelInfo).toContainText('LlamaForCausalLM');
  const decoderDigest = await modelInfo.getAttribute('data-digest');
  expect(decoderDigest).toMatch(/^[0-9a-f]{64}$/);
  await expect(page.locator('#load-note')).toContainText('kept in this browser');

  // Through the chat template (the model has one), greedy, a few tokens.
  await expect(page.locator('#plain-text')).not.toBeChecked();
  await page.locator('#prompt').fill('hello there');
  await page.locator('#max-new-tokens').fill('6');
  await page.locator('#temperature').fill('0');
  await page.locator('#seed').fill('7');
  await page.locator('#generate-button').click();
  const generated = page.locator('#generated');
  await expect(generated).toHaveAttribute('data-finish', /^(stop|length)$/, { timeout: 30_000 });
  await expect(page.locator('#generate-stats')).toContainText('tokens/s');
  await expect(page.locator('#finish-reason')).toContainText(/stop|length/);
  const stats = (await page.locator('#generate-stats').textContent()) ?? '';
  const made = Number(/(\d+) tokens after/.exec(stats)?.[1]);
  expect(made).toBeGreaterThan(0);
  expect(made).toBeLessThanOrEqual(6);
  if ((await generated.getAttribute('data-finish')) === 'length') {
    expect(made).toBe(6);
    expect(((await generated.textContent()) ?? '').length).toBeGreaterThan(0);
  }
  // Greedy is deterministic: the same request again gives the same text.
  const chatText = await generated.textContent();
  await page.locator('#generate-button').click();
  await expect(page.locator('#generate-button')).toBeEnabled({ timeout: 30_000 });
  await expect(generated).toHaveText(chatText ?? '');

  // A broken checkpoint: a readable error naming the file and the tensor.
  await loadFolder(page, folders.broken);
  await expect(page.locator('#load-note')).toContainText(
    /CheckpointError \(missing-tensor\): model\.safetensors \(encoder\.layer\.0\.attention\.self\.query\.weight\)/,
    { timeout: 30_000 },
  );

  // An embedder: three lines, a 3 × 3 cosine matrix with 1.00 on its diagonal.
  await loadFolder(page, folders.bert);
  await expect(modelInfo).toHaveAttribute('data-task', 'embed', { timeout: 30_000 });
  await expect(page.locator('#model-family')).toHaveText('bert');
  const bertDigest = await modelInfo.getAttribute('data-digest');
  await page.locator('#embed-button').click();
  await expect(page.locator('#embed-result')).toHaveAttribute('data-dim', '32', {
    timeout: 30_000,
  });
  const cells = await page
    .locator('#similarity tbody tr')
    .evaluateAll((rows) =>
      rows.map((r) => Array.from(r.querySelectorAll('td'), (td) => Number(td.textContent))),
    );
  expect(cells).toHaveLength(3);
  for (const [i, row] of cells.entries()) {
    expect(row).toHaveLength(3);
    expect(row[i]).toBe(1);
    for (const [j, c] of row.entries()) {
      expect(Math.abs(c)).toBeLessThanOrEqual(1);
      expect(c).toBeCloseTo(cells[j]![i]!, 2);
    }
  }

  // The table, the forms and the cache list pass axe (numbers in the cells, labelled fields).
  const { violations } = await new AxeBuilder({ page })
    .include({ fromShadowDom: ['tessel-app', 'tessel-local'] })
    .analyze();
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.length})`)).toEqual([]);
  const shot = info.outputPath('try-model.png');
  await page.locator('tessel-try-model').screenshot({ path: shot });
  await info.attach('try-model', { path: shot, contentType: 'image/png' });

  // Kept by digest: after a reload both are listed, and one loads from the cache alone.
  await page.reload();
  const cached = page.locator('#model-cache tbody tr');
  await expect(cached).toHaveCount(2, { timeout: 15_000 });
  const bertRow = page.locator(`#model-cache tr[data-digest="${bertDigest}"]`);
  await expect(bertRow).toContainText('tiny-bert');
  await expect(page.locator(`#model-cache tr[data-digest="${decoderDigest}"]`)).toContainText(
    'tiny-llama',
  );
  await bertRow.locator('.load-cached').click();
  await expect(modelInfo).toHaveAttribute('data-digest', bertDigest!, { timeout: 30_000 });
  await expect(modelInfo).toContainText('from the cache');
  await page.locator('#embed-button').click();
  await expect(page.locator('#similarity tbody tr')).toHaveCount(3, { timeout: 30_000 });
  await bertRow.locator('.delete-cached').click();
  await expect(cached).toHaveCount(1);
  await expect(bertRow).toHaveCount(0);
});
