// The big job (`npm run bench -- --only big-job` → bench/results/big-job.json): issue 22's
// 2048³ matmul, submitted from a researcher tab with no block size (the owner sizes its shards to
// the contributors it has seen), run twice on one local relay:
//  1. on the headless contributor alone (`bin/tessel.mjs contribute`, Dawn in Node): the peer;
//  2. on three browser volunteer tabs (the CPU engine each, as a tab on a software adapter lends).
// Reported: wall time from submit to the verified C, the shards and block size chosen, and the
// owner's reassignments. The researcher tab sees no contributor before its first job, so each
// run starts from a fresh researcher (its sizing then uses the defaults, UNKNOWN_CONTRIBUTOR)
// and then submits the job again, sized from the contributors and links it has measured.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { build, preview } from 'vite';

const N = 2048;
const VOLUNTEERS = 3;

/** @param {{ browser: import('playwright-core').Browser, startRelayProcess: () => Promise<{ addr: string, stop(): void }> }} o */
export async function bigJobBench({ browser, startRelayProcess }) {
  const relay = await startRelayProcess();
  await build({ logLevel: 'warn' });
  const app = await preview({ preview: { port: 0, host: '127.0.0.1' }, logLevel: 'warn' });
  const url = `${app.resolvedUrls.local[0]}?relay=${encodeURIComponent(relay.addr)}`;
  const runs = {};
  try {
    // 1. The headless contributor alone (its identity and ledger in a scratch folder, not the
    // user's ~/.tessel).
    const data = mkdtempSync(join(tmpdir(), 'tessel-big-job-'));
    const headless = spawn(
      process.execPath,
      ['bin/tessel.mjs', 'contribute', '--relay', relay.addr, '--budget', '1', '--data', data],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await waitForLine(headless, /joined|contributing|listening|relay/i, 120_000);
      runs.headless = await twoJobs(browser, url, 'headless contributor');
    } finally {
      headless.kill('SIGTERM');
    }
    // 2. Three browser volunteers.
    const tabs = [];
    for (let i = 0; i < VOLUNTEERS; i++) {
      const page = await (await browser.newContext()).newPage();
      page.on('console', (m) => m.type() === 'error' && console.log(`  [v${i}] ${m.text()}`));
      await page.goto(url);
      await page.check('#contribute');
      await page.waitForFunction(
        () => globalThis.tessel.mesh?.snapshot().contribution.contributing,
        null,
        {
          timeout: 120_000,
        },
      );
      await page.evaluate(() => globalThis.tessel.mesh.setBudget(1));
      tabs.push(page);
    }
    runs.browsers = await twoJobs(browser, url, `${VOLUNTEERS} browser volunteers`);
    for (const t of tabs) await t.context().close();
  } finally {
    await app.close();
    relay.stop();
  }
  return { n: N, volunteers: VOLUNTEERS, ...runs };
}

/** A fresh researcher tab submits the job twice: sized from nothing known, then from what the
 * first run measured. */
async function twoJobs(browser, url, who) {
  const researcher = await (await browser.newContext()).newPage();
  researcher.on(
    'console',
    (m) => m.type() === 'error' && console.log(`  [researcher] ${m.text()}`),
  );
  await researcher.goto(url);
  await researcher.evaluate(() => globalThis.tessel.join().then(() => {}));
  const first = await oneJob(researcher);
  console.log(`  ${who}, sized from defaults: ${summary(first)}`);
  const second = await oneJob(researcher);
  console.log(`  ${who}, sized from the mesh seen: ${summary(second)}`);
  await researcher.context().close();
  return { first, second };
}

function summary(r) {
  return `${(r.wall_ms / 1000).toFixed(1)} s, ${r.shards} shards of ${r.block_rows}×${r.block_cols} (expected ${(r.expected_ms / 1000).toFixed(1)} s each), ${r.reassignments} reassigned`;
}

async function oneJob(researcher) {
  return researcher.evaluate(async (n) => {
    const mesh = globalThis.tessel.mesh;
    const rand = () => Float32Array.from({ length: n * n }, () => Math.random() * 2 - 1);
    const problem = { m: n, k: n, n, a: rand(), b: rand() };
    const size = mesh.sizeMatmul(n, n, n);
    const t0 = performance.now();
    // A low price, so the researcher's grant pays for every run.
    const run = await mesh.submitMatmul(problem, undefined, {
      price: 0.001,
      budget: Number.POSITIVE_INFINITY,
    });
    const done = await run.done;
    return {
      wall_ms: performance.now() - t0,
      shards: run.job.shardCount,
      block_rows: size.blockRows,
      block_cols: size.blockCols,
      expected_ms: size.expectedMs,
      basis: size.basis,
      reassignments: done.report.reassignments,
      verify_ms: done.report.verifyMs,
    };
  }, N);
}

function waitForLine(child, pattern, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no line matching ${pattern} in ${ms} ms`)),
      ms,
    );
    createInterface({ input: child.stdout }).on('line', (line) => {
      console.log(`  [headless] ${line}`);
      if (pattern.test(line)) {
        clearTimeout(timer);
        resolve(line);
      }
    });
  });
}
