// The scale bench (`npm run bench -- --only scale` → bench/results/scale.json), on loopback:
//  1. two contributor tabs and a researcher tab: a 1024³ matmul's compute time ÷ wall time,
//     one lease at a time and double-buffered (the contributor asks for the next lease while
//     it computes), at the default budget, its idle share excluded;
//  2. one researcher tab, three relays peered with each other, about 50 headless contributors
//     (bench/scale-swarm.ts, 10 per process): announcement propagation to every contributor,
//     shards/s at the owner, the owner tab's CPU share, relay bytes beside shard bytes; a fifth
//     of the contributors (one process) killed mid-job, and one relay.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';
import { build, preview } from 'vite';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium.mjs';
import { nodeGpuEnv } from './gpu-env.mjs';

const RELAYS = 3;
const SWARMS = 5;
const PER_SWARM = 10;
/** The two-tab job: 1024³ in 256 × 256 blocks, 16 shards (8 a tab: a job, not a single round). */
const TWO_TABS_BLOCK = 256;
/** Whether the swarm's contributors run the market service (checkpoint gossip) as tabs do:
 * SCALE_MARKET=1 npm run bench -- --only scale (writes bench/results/scale-market.json). */
export const MARKET = process.env.SCALE_MARKET === '1';

/** Runs both parts with `browser` (a launched Chromium); resolves with scale.json's content. */
export async function scaleBench(browser) {
  await build({ configFile: 'vite.node.config.ts', logLevel: 'warn' });
  await build({
    configFile: false,
    publicDir: false,
    logLevel: 'warn',
    build: {
      ssr: 'bench/scale-swarm.ts',
      outDir: 'dist-bench-node',
      target: 'node20',
      emptyOutDir: true,
    },
  });
  await build({ logLevel: 'warn' });
  const app = await preview({ preview: { port: 0, host: '127.0.0.1' }, logLevel: 'warn' });
  const dir = mkdtempSync(join(tmpdir(), 'tessel-scale-'));
  const relays = [];
  const children = [];
  const second = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    for (let i = 0; i < RELAYS; i++) {
      const args = ['dist-relay/main.js', '--port', '0', '--key', join(dir, `relay-${i}`)];
      for (const r of relays) args.push('--peer', r.addr);
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(child);
      const line = await firstLine(child);
      relays.push({ child, addr: JSON.parse(line).relay[0] });
    }
    const query = relays.map((r) => `relay=${encodeURIComponent(r.addr)}`).join('&');
    const url = `${app.resolvedUrls.local[0]}?${query}`;
    // With the market on, only the swarm is measured (the two tabs run it either way).
    const twoTabs = MARKET ? null : await twoTabsBench(browser, second, url);
    const scale = await swarmBench(browser, url, relays, dir, children);
    return { twoTabs, scale };
  } finally {
    for (const c of children) c.kill('SIGKILL');
    await second.close();
    await app.close();
  }
}

async function openTab(browser, url, name) {
  const page = await (await browser.newContext()).newPage();
  page.on('console', (m) => m.type() === 'error' && console.log(`  [${name}] ${m.text()}`));
  await page.goto(url);
  await page.waitForFunction(() => globalThis.tessel !== undefined);
  return page;
}

/** Researcher + two contributor tabs (the second in a browser of its own, as a second
 * volunteer's would be): the same 1024³ job, lease by lease, then double-buffered. */
async function twoTabsBench(browser, second, url) {
  const researcher = await openTab(browser, url, 'researcher');
  await researcher.evaluate(() => globalThis.tessel.join());
  console.log('  two tabs: researcher joined');
  const tabs = [await openTab(browser, url, 'c1'), await openTab(second, url, 'c2')];
  for (const t of tabs) {
    await t.check('#contribute');
    await t.waitForFunction(() => globalThis.tessel.mesh?.snapshot().contribution.contributing);
  }
  const budget = await tabs[0].evaluate(() => globalThis.tessel.mesh.contributor.budget);
  const job = async (prefetch) => {
    for (const t of tabs) {
      await t.evaluate((on) => {
        globalThis.tessel.mesh.contributor.prefetch = on;
      }, prefetch);
    }
    const { jobId, wallMs, shards } = await researcher.evaluate(async (block) => {
      const n = 1024;
      const rand = () => Float32Array.from({ length: n * n }, () => Math.random() * 2 - 1);
      const t0 = performance.now();
      // A low price, so the researcher's grant pays for every run of the bench.
      const terms = { price: 0.001, budget: Number.POSITIVE_INFINITY };
      const run = await globalThis.tessel.mesh.submitMatmul(
        { m: n, k: n, n, a: rand(), b: rand() },
        { blockRows: block, blockCols: block },
        terms,
      );
      await run.done;
      return { jobId: run.jobId, wallMs: performance.now() - t0, shards: run.job.shardCount };
    }, TWO_TABS_BLOCK);
    const per = [];
    for (const t of tabs) {
      const mine = await t.evaluate(
        (id) =>
          globalThis.tessel.mesh.outcomes
            .filter((o) => o.jobId === id)
            .map((o) => ({ computeMs: o.computeMs, end: o.computedAt })),
        jobId,
      );
      mine.sort((x, y) => x.end - y.end);
      const computeMs = mine.reduce((s, o) => s + o.computeMs, 0);
      // The rest the budget takes after each shard; the last one's falls after the job.
      const idle = (ms) => (ms * (1 - budget)) / budget;
      const restMs = mine.slice(0, -1).reduce((s, o) => s + idle(o.computeMs), 0);
      // From its first compute's start to its last one's end: the time it had work.
      const windowMs = mine.length ? mine.at(-1).end - (mine[0].end - mine[0].computeMs) : 0;
      per.push({
        shards: mine.length,
        compute_ms: computeMs,
        window_ms: windowMs,
        rest_ms: restMs,
      });
    }
    const sum = (k) => per.reduce((s, p) => s + p[k], 0);
    return {
      prefetch,
      shards,
      wall_ms: wallMs,
      tabs: per,
      // While a tab had work: compute ÷ (its window − the budget's rest inside it).
      compute_over_wall: sum('compute_ms') / (sum('window_ms') - sum('rest_ms')),
      // The whole job, submit to verified answer, per tab: compute ÷ (wall − the budget's rest).
      compute_over_job_wall: sum('compute_ms') / (2 * wallMs - sum('rest_ms')),
    };
  };
  console.log('  two tabs: joined; warm-up job');
  await job(true); // warm-up: kernels compile, connections open
  const runs = [];
  for (let i = 0; i < 3; i++) {
    for (const prefetch of [false, true]) {
      const r = await job(prefetch);
      console.log(
        `  two tabs, ${prefetch ? 'double-buffered' : 'lease by lease'}: ${r.shards} shards in ${r.wall_ms.toFixed(0)} ms; compute ÷ wall ${(100 * r.compute_over_wall).toFixed(0)}% while working, ${(100 * r.compute_over_job_wall).toFixed(0)}% of the job's wall`,
      );
      runs.push(r);
    }
  }
  const mean = (on, key = 'compute_over_wall') => {
    const r = runs.filter((x) => x.prefetch === on);
    return r.reduce((s, x) => s + x[key], 0) / r.length;
  };
  for (const t of [researcher, ...tabs]) await t.context().close();
  return {
    budget,
    block: TWO_TABS_BLOCK,
    before: mean(false),
    after: mean(true),
    job_before: mean(false, 'compute_over_job_wall'),
    job_after: mean(true, 'compute_over_job_wall'),
    runs,
  };
}

/** One researcher tab, three relays, SWARMS × PER_SWARM headless contributors. */
async function swarmBench(browser, url, relays, dir, children) {
  const researcher = await openTab(browser, url, 'researcher');
  await researcher.evaluate(() => globalThis.tessel.join());
  const swarms = [];
  const events = [];
  let shardBytes = 0;
  const bytesBy = new Map();
  for (let s = 0; s < SWARMS; s++) {
    const child = spawn(
      process.execPath,
      [
        'dist-bench-node/scale-swarm.js',
        '--relays',
        relays.map((r) => r.addr).join(','),
        '--count',
        String(PER_SWARM),
        '--data',
        join(dir, `swarm-${s}`),
        '--market',
        MARKET ? '1' : '0',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...nodeGpuEnv(process.env) } },
    );
    children.push(child);
    const ready = new Promise((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`swarm ${s} exited (${code})`)));
      createInterface({ input: child.stdout }).on('line', (line) => {
        const e = JSON.parse(line);
        if (e.type === 'all-ready') resolve();
        else if (e.type === 'bytes') {
          bytesBy.set(s, e.shardBytes);
          shardBytes = [...bytesBy.values()].reduce((x, y) => x + y, 0);
        } else events.push({ swarm: s, ...e });
      });
    });
    swarms.push({ child, ready });
    await ready;
    console.log(`  swarm ${s + 1}/${SWARMS}: ${PER_SWARM} contributors ready`);
  }
  const contributors = events.filter((e) => e.type === 'ready');
  await new Promise((r) => setTimeout(r, 3_000)); // reservations and gossip meshes settle
  const cdp = await researcher.context().newCDPSession(researcher);
  await cdp.send('Performance.enable');
  const taskSeconds = async () =>
    (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'TaskDuration').value;
  const relayIo = () => relays.map((r) => procIo(r.child.pid));
  // At rest first: what the relays carry with 50 contributors connected and no job.
  const rest0 = relayIo();
  await new Promise((r) => setTimeout(r, 10_000));
  const restBytesPerS = relayIo().reduce((s, io, i) => s + io - rest0[i], 0) / 10;
  const io0 = relayIo();
  const bytes0 = shardBytes;
  const cpu0 = await taskSeconds();
  const spec = { m: 512, k: 4096, n: 512, block: 64 };
  // The owner's clock: the announcement is published inside submit.
  const started = researcher.evaluate(async (spec) => {
    const { m, k, n, block } = spec;
    const rand = (len) => Float32Array.from({ length: len }, () => Math.random() * 2 - 1);
    const problem = { m, k, n, a: rand(m * k), b: rand(k * n) };
    globalThis.scaleAt = Date.now();
    const run = await globalThis.tessel.mesh.submitMatmul(
      problem,
      { blockRows: block, blockCols: block },
      { price: 0.001, budget: Number.POSITIVE_INFINITY },
    );
    globalThis.scaleRun = run;
    return { jobId: run.jobId, at: globalThis.scaleAt, shards: run.job.shardCount };
  }, spec);
  const { jobId, at, shards } = await started;
  // Mid-job: a fifth of the contributors (one process) and one relay are killed outright.
  for (;;) {
    const p = await researcher.evaluate(() => globalThis.scaleRun.job.progress());
    if (p.verified >= p.shards / 4) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  console.log(`  ${(Date.now() - at) / 1000} s: a quarter verified; killing a swarm and a relay`);
  const ticker = setInterval(async () => {
    const p = await researcher
      .evaluate(() => globalThis.scaleRun.job.progress())
      .catch(() => undefined);
    if (p) console.log(`  ${((Date.now() - at) / 1000).toFixed(0)} s: ${JSON.stringify(p)}`);
  }, 5_000);
  const killedRelayIo = procIo(relays[1].child.pid); // its counters go with the process
  swarms[SWARMS - 1].child.kill('SIGKILL');
  relays[1].child.kill('SIGKILL');
  const killedAt = Date.now();
  const result = await researcher.evaluate(async () => {
    const { report } = await globalThis.scaleRun.done;
    return { wallMs: Date.now() - globalThis.scaleAt, report };
  });
  clearInterval(ticker);
  const cpu1 = await taskSeconds();
  const io1 = relayIo();
  const heard = events.filter((e) => e.type === 'heard' && e.jobId === jobId).map((e) => e.at - at);
  heard.sort((x, y) => x - y);
  const pct = (p) => heard[Math.min(heard.length - 1, Math.ceil((p / 100) * heard.length) - 1)];
  const relayBytes = io1.reduce((s, io, i) => {
    const end = i === 1 ? killedRelayIo : io;
    return s + end - io0[i];
  }, 0);
  const jobShardBytes = shardBytes - bytes0;
  return {
    relays: RELAYS,
    contributors: contributors.length,
    market: MARKET,
    killed_contributors: PER_SWARM,
    killed_relays: 1,
    killed_at_ms: killedAt - at,
    job: { ...spec, shards },
    completed: true,
    wall_ms: result.wallMs,
    shards_per_s: (shards / result.wallMs) * 1000,
    owner_cpu_share: (cpu1 - cpu0) / (result.wallMs / 1000),
    announce: {
      heard_by: heard.length,
      p50_ms: pct(50),
      p95_ms: pct(95),
      max_ms: heard.at(-1),
    },
    relay_bytes: relayBytes,
    relay_bytes_per_s_at_rest: restBytesPerS,
    shard_bytes: jobShardBytes,
    relay_bytes_over_shard_bytes: relayBytes / jobShardBytes,
    report: result.report,
  };
}

/** Bytes a process has read and written through system calls (sockets, here), Linux only. */
function procIo(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/io`, 'utf8');
    const get = (k) => Number(text.match(new RegExp(`^${k}: (\\d+)`, 'm'))[1]);
    return get('rchar') + get('wchar');
  } catch {
    return 0;
  }
}

function firstLine(child) {
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`exited (${code}) before its first line`)));
    createInterface({ input: child.stdout }).once('line', resolve);
  });
}
