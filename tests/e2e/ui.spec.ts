import { readFileSync } from 'node:fs';
import AxeBuilder from '@axe-core/playwright';
import { type Browser, expect, type Page, type TestInfo, test } from '@playwright/test';
import { serveExample } from '../../scripts/example-site.mjs';
import { readNpy, writeNpy } from '../../src/model/npy';
import { seededRng, uniform } from '../../src/model/rng';
import { checkElementwise, matmulF64 } from '../../src/reference/matmul';
import { type Relay, startRelay } from '../../src/relay/relay';
import type { PageHandle } from '../../src/ui/handle';

// Specs that use tessel as people do: through the page and the embed, never through its handle.

let relay: Relay;
test.beforeEach(async () => {
  relay = await startRelay({ port: 0, keyFile: 'test-results/relay-key' });
});
test.afterEach(async () => {
  await relay.stop().catch(() => {});
});

async function open(browser: Browser, url: string, name: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  page.on('pageerror', (e) => console.log(`[${name}] pageerror`, e));
  page.on('console', (m) => {
    if (m.text().includes('WebSocket connection to')) return;
    if (m.type() === 'warning' || m.type() === 'error') console.log(`[${name}] ${m.text()}`);
  });
  await page.goto(url);
  return page;
}

const appUrl = () => `/?relay=${encodeURIComponent(relay.multiaddrs[0]!)}`;

/** A volunteer switches Contribute on and waits until the tab is on the mesh. */
async function contribute(page: Page) {
  await page.getByRole('switch', { name: 'Contribute my GPU' }).check();
  await expect(page.locator('#contributor-status')).toHaveAttribute('data-phase', 'contributing', {
    timeout: 60_000,
  });
}

async function shoot(page: Page, info: TestInfo, element: string, name: string) {
  const path = info.outputPath(`${name}.png`);
  await page.locator(element).screenshot({ path });
  await info.attach(name, { path, contentType: 'image/png' });
}

async function expectAccessible(page: Page) {
  const { violations } = await new AxeBuilder({ page }).analyze();
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.length})`)).toEqual([]);
}

/** An .npy file of float64 values, big-endian, Fortran order: a layout numpy writes and we must read. */
function npyF64BigEndianFortran(data: Float64Array, rows: number, cols: number): Uint8Array {
  let header = `{'descr': '>f8', 'fortran_order': True, 'shape': (${rows}, ${cols}), }`;
  header += `${' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64)}\n`;
  const out = new Uint8Array(10 + header.length + data.length * 8);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  const view = new DataView(out.buffer);
  view.setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const body = 10 + header.length;
  for (let c = 0; c < cols; c++) {
    for (let r = 0; r < rows; r++)
      view.setFloat64(body + (c * rows + r) * 8, data[r * cols + c]!, false);
  }
  return out;
}

test('consent first: no GPU work and no connection until Contribute is switched on; one click stops it', async ({
  browser,
}, info) => {
  const page = await open(browser, appUrl(), 'volunteer');
  // The adapter is shown (found without dispatching anything), named as what it is.
  await expect(page.locator('#adapter')).toHaveAttribute('data-state', 'ready', {
    timeout: 30_000,
  });
  await expect(page.locator('#adapter')).toContainText('software adapter');
  await expect(page.locator('#mesh-status')).toHaveAttribute('data-state', 'off');
  await page.waitForTimeout(3_000); // time enough for anything that would start by itself
  await expect(page.locator('#gpu-work')).toHaveAttribute('data-submits', '0');
  await expect(page.locator('#cpu-work')).toHaveAttribute('data-calls', '0');
  // SwiftShader is the CPU behind WebGPU: the page says it will lend the CPU engine instead.
  await expect(page.locator('#adapter')).toHaveAttribute('data-engine', 'cpu');
  expect(relay.node.getConnections()).toHaveLength(0);
  await expect(page.locator('.badge')).toHaveCount(0);
  // A page opened without ?faults has no fault injection, in the page or in its Worker.
  expect(
    await page.evaluate(() => {
      const t = (globalThis as unknown as { tessel: PageHandle }).tessel;
      return [t.faults === undefined, t.compute.faults === undefined];
    }),
  ).toEqual([true, true]);
  await shoot(page, info, 'tessel-contributor', 'contributor-off');

  // On, from the keyboard: the switch is focusable and toggles with Space.
  await page.getByRole('switch', { name: 'Contribute my GPU' }).focus();
  await page.keyboard.press('Space');
  await expect(page.locator('#contributor-status')).toHaveAttribute('data-phase', 'contributing', {
    timeout: 60_000,
  });
  await expect(page.locator('.badge')).toBeVisible();
  await expect(page.locator('#mesh-status')).toHaveAttribute('data-state', 'ready');
  await expect(page.locator('#adapter-speed')).toContainText('GFLOP/s');
  // Measured, chosen and lent: the CPU engine on every core (the page is cross-origin isolated).
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  await expect(page.locator('#engine')).toContainText(
    `CPU · WebAssembly SIMD with FMA · ${cores} thread${cores > 1 ? 's' : ''}`,
  );
  // The view reads the Worker's counters every 2 s.
  await expect
    .poll(async () => Number(await page.locator('#cpu-work').getAttribute('data-calls')), {
      timeout: 10_000,
    })
    .toBeGreaterThan(0);
  await expect(page.locator('#gpu-work')).toHaveAttribute('data-submits', '0');
  await expect.poll(() => relay.node.getConnections().length).toBeGreaterThan(0);
  // The budget slider is live and remembered with the choice.
  await page.locator('#budget').fill('30');
  await expect(page.locator('#contributor-status')).toContainText('up to 30%');

  // Remembered for the origin: a reload comes back contributing.
  await page.reload();
  await expect(page.locator('#contributor-status')).toHaveAttribute('data-phase', 'contributing', {
    timeout: 60_000,
  });
  await expect(page.getByRole('switch', { name: 'Contribute my GPU' })).toBeChecked();

  // One click stops everything: off the mesh, no badge.
  await page.getByRole('switch', { name: 'Contribute my GPU' }).uncheck();
  await expect(page.locator('#contributor-status')).toHaveAttribute('data-phase', 'off');
  await expect(page.locator('#mesh-status')).toHaveAttribute('data-state', 'off');
  await expect(page.locator('.badge')).toHaveCount(0);
  await expect.poll(() => relay.node.getConnections().length, { timeout: 15_000 }).toBe(0);
});

test('a researcher uploads A and B, two volunteers contribute, C downloads and matches; texts from prompts; bad files refused', async ({
  browser,
}, info) => {
  const researcher = await open(browser, appUrl(), 'researcher');
  const volunteers = [
    await open(browser, appUrl(), 'volunteer-1'),
    await open(browser, appUrl(), 'volunteer-2'),
  ];
  for (const v of volunteers) await contribute(v);

  const [m, k, n] = [96, 40, 80];
  const rng = seededRng(9);
  const a = Float32Array.from({ length: m * k }, () => Math.fround(uniform(rng) * 2 - 1));
  const b = Float64Array.from({ length: k * n }, () => uniform(rng) * 2 - 1);

  // A file that is not what it claims is refused, with what and why, before anything runs.
  const aBytes = writeNpy(a, [m, k]);
  await researcher.setInputFiles('#file-a', {
    name: 'A.npy',
    mimeType: 'application/octet-stream',
    buffer: Buffer.from(aBytes.subarray(0, aBytes.length - 12)),
  });
  await researcher.setInputFiles('#file-b', {
    name: 'B.npy',
    mimeType: 'application/octet-stream',
    buffer: Buffer.from(npyF64BigEndianFortran(b, k, n)),
  });
  await researcher.click('#submit-button');
  await expect(researcher.getByRole('alert')).toContainText('A (A.npy) is refused');
  await expect(researcher.getByRole('alert')).toContainText('only 15348 follow');
  await expect(researcher.locator('#my-jobs')).toHaveCount(0);

  // The real files: A float32 C order, B float64 big-endian Fortran order.
  await researcher.setInputFiles('#file-a', {
    name: 'A.npy',
    mimeType: 'application/octet-stream',
    buffer: Buffer.from(aBytes),
  });
  // 30 small shards: enough that both volunteers, each dialing the researcher when they hear
  // of the job, get some before the first one has done them all.
  await researcher.fill('#mm-block', '16');
  await researcher.click('#submit-button');
  await expect(researcher.locator('#job-result')).toContainText('in 30 shard(s)', {
    timeout: 30_000,
  });
  const job = researcher.locator('#my-jobs > li').first();
  await expect(job).toHaveAttribute('data-state', 'done', { timeout: 90_000 });
  await expect(job).toHaveAttribute('data-accepted', '30');

  const [download] = await Promise.all([
    researcher.waitForEvent('download'),
    job.getByRole('button', { name: 'Download C (.npy)' }).click(),
  ]);
  const c = readNpy(new Uint8Array(readFileSync(await download.path())));
  expect(c.shape).toEqual([m, n]);
  const bf = Float32Array.from(b); // what the job multiplied: B as float32
  const check = checkElementwise(
    c.data,
    matmulF64(a, bf, { m, k, n }),
    matmulF64(a, bf, { m, k, n }, true),
    k,
  );
  expect(check.ok, `worst ratio ${check.worstRatio}`).toBe(true);

  // Batched inference from prompts, one a line.
  const prompts = ['And God said, ', 'In the beginning '];
  await researcher.fill('#prompts', prompts.join('\n'));
  await researcher.fill('#infer-form input[name=steps]', '8');
  await researcher.click('#infer-button');
  // Submitting stores the model and the job in IndexedDB first: on a loaded 2-core machine
  // that has taken more than the default 5 s.
  await expect(researcher.locator('#infer-result')).toContainText('Submitted job', {
    timeout: 30_000,
  });
  const texts = researcher.locator('#my-jobs > li').nth(1).locator('ol.generated li');
  await expect(texts).toHaveCount(2, { timeout: 90_000 });
  for (const [i, p] of prompts.entries()) {
    const t = (await texts.nth(i).textContent()) ?? '';
    expect(t.startsWith(p)).toBe(true);
    expect(t.length).toBe(p.length + 8);
  }
  // Every accepted shard shows on the page of the volunteer that computed it, with a receipt.
  // Which volunteer gets how many is a race (whoever's WebRTC dial lands first leases first; on
  // a loaded machine one of them can take both jobs whole), so the counts are summed:
  // mesh.spec.ts proves two contributors each take shards over their own connections.
  const accepted = async (i: number) =>
    Number(await researcher.locator('#my-jobs > li').nth(i).getAttribute('data-accepted'));
  const shards = (await accepted(0)) + (await accepted(1));
  expect(shards).toBeGreaterThan(30);
  const count = (id: string) => async () => {
    const shown = await Promise.all(volunteers.map((v) => v.locator(id).textContent()));
    return shown.map(Number);
  };
  await expect
    .poll(async () => (await count('#shards-verified')()).reduce((x, y) => x + y, 0), {
      timeout: 30_000,
    })
    .toBeGreaterThanOrEqual(shards);
  for (const [i, n] of (await count('#shards-verified')()).entries()) {
    const receipts = expect(volunteers[i]!.locator('#receipts-earned'));
    await (n > 0 ? receipts.not.toHaveText('0') : receipts.toHaveText('0'));
  }

  await shoot(researcher, info, 'tessel-researcher', 'researcher');
  await shoot(researcher, info, 'tessel-jobs', 'jobs');
  await shoot(researcher, info, 'tessel-mesh', 'mesh');
  await shoot(volunteers[0]!, info, 'tessel-contributor', 'contributor-on');
  const page = info.outputPath('page.png');
  await researcher.screenshot({ path: page, fullPage: true });
  await info.attach('page', { path: page, contentType: 'image/png' });

  // Accessible, and usable at 375 px wide.
  await expectAccessible(researcher);
  await expectAccessible(volunteers[0]!);
  await researcher.setViewportSize({ width: 375, height: 800 });
  await expectAccessible(researcher);
  expect(await researcher.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
    375,
  );
  const narrow = info.outputPath('page-375.png');
  await researcher.screenshot({ path: narrow, fullPage: true });
  await info.attach('page at 375 px', { path: narrow, contentType: 'image/png' });
});

test('the embed on another origin contributes a verified shard', async ({
  browser,
  baseURL,
}, info) => {
  const example = await serveExample({
    port: 0,
    host: '127.0.0.1', // the app is on localhost: another origin
    embedUrl: new URL('embed/tessel.js', baseURL).href,
    relay: relay.multiaddrs[0]!,
  });
  try {
    const site = await open(browser, example.url, 'embedding site');
    await expect(site.locator('#adapter')).toHaveAttribute('data-state', 'ready', {
      timeout: 30_000,
    });
    await contribute(site);
    // A stranger's site is not cross-origin isolated: the CPU engine runs on one thread there.
    await expect(site.locator('#engine')).toContainText('· 1 thread');
    await shoot(site, info, 'tessel-contributor', 'embed');

    const researcher = await open(browser, appUrl(), 'researcher');
    await researcher.getByLabel('Random, of given sizes').check();
    await researcher.fill('#mm-m', '64');
    await researcher.fill('#mm-k', '32');
    await researcher.fill('#mm-n', '64');
    await researcher.fill('#mm-block', '32');
    await researcher.click('#submit-button');
    const job = researcher.locator('#my-jobs > li').first();
    await expect(job).toHaveAttribute('data-state', 'done', { timeout: 90_000 });
    await expect(site.locator('#shards-verified')).toHaveText('4');
    await expectAccessible(site);
  } finally {
    await example.close();
  }
});
