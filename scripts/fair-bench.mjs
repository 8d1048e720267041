// Peers measured fairly (issue 23, item 9). Inside one page, or one browser, the sides of a
// comparison share the machine: on 2 cores ORT's wasm backend ran 2–4× slower after the WebGPU
// (SwiftShader) measurements than in a page of its own. So every comparison runs each side in a
// browser launched fresh for that run, the sides alternating A B A B …, the machine idle for
// IDLE_GAP_MS before each, and reports each side's median over runs (of each run's median) with
// its min–max; ratios are taken run by run (A's run r ÷ B's run r, measured back to back) and
// summarised the same way. `busyProcesses` adds background load for a loaded pass.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** The machine's rest before each side's run: the last browser's processes are gone and
 * their caches cold, for every side alike. */
export const IDLE_GAP_MS = 2_000; // ms

/** CPU time spent and in all, in jiffies, over every core (Linux's /proc/stat); null elsewhere. */
function cpuTimes() {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1);
    const v = f.map(Number);
    const idle = v[3] + (v[4] ?? 0); // idle + iowait
    const total = v.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/**
 * Rests `ms`, and says how busy the machine was meanwhile (0–1 over every core; null where it
 * cannot tell): a rest well above 0 means something else ran, and the run after it is suspect.
 */
export async function rest(ms) {
  const a = cpuTimes();
  await sleep(ms);
  const b = cpuTimes();
  return a && b && b.total > a.total ? (b.busy - a.busy) / (b.total - a.total) : null;
}

/** How the figures were taken, for the results' JSON. */
export const FAIR_METHOD =
  'each side in a browser of its own, launched fresh for every run; sides alternating A B A B, the machine idle 2 s before each (rest_busy: the machine’s CPU use in that rest, 0–1); per side the median over runs of each run’s median (after a warm-up), with min–max over runs; ratios taken run by run';

/** The busiest rest before any run of `bySide` (see `rest`): near 0 when the machine was idle. */
export function busiestRest(bySide) {
  const all = Object.values(bySide).flatMap((runs) => runs.map((r) => r.rest_busy));
  const v = all.filter((x) => typeof x === 'number');
  return v.length ? Math.max(...v) : null;
}

/**
 * Runs every side `runs` times, each run on a fresh page of a fresh browser (`newBrowser`), in
 * the order A B … A B …, resting `gapMs` before each. `measure(side, page, run)` does one run
 * and returns its result, kept with `rest_busy` (how busy the machine was in the rest before
 * it: see `rest`). A run that throws is kept as `{ error }` and the rest go on.
 * Returns each side's results in run order.
 * @template T
 * @param {{ sides: string[], runs: number, newBrowser: () => Promise<import('playwright-core').Browser>,
 *   measure: (side: string, page: import('playwright-core').Page, run: number) => Promise<T>,
 *   gapMs?: number, label?: string }} args
 * @returns {Promise<Record<string, (T | { error: string })[]>>}
 */
export async function alternate({ sides, runs, newBrowser, measure, gapMs = IDLE_GAP_MS, label }) {
  const bySide = Object.fromEntries(sides.map((s) => [s, []]));
  for (let run = 0; run < runs; run++) {
    for (const side of sides) {
      const restBusy = await rest(gapMs);
      const t0 = performance.now();
      const browser = await newBrowser();
      try {
        const page = await browser.newPage();
        page.on('console', (m) => m.type() === 'error' && console.log(`  [${side}] ${m.text()}`));
        const result = await measure(side, page, run);
        bySide[side].push({ ...result, rest_busy: restBusy });
        const s = ((performance.now() - t0) / 1000).toFixed(1);
        const busy =
          restBusy === null ? '' : `; machine ${(100 * restBusy).toFixed(0)}% busy at rest before`;
        console.log(`  ${label ? `${label} ` : ''}run ${run + 1}/${runs} ${side}: ${s} s${busy}`);
      } catch (e) {
        console.log(`  ${label ? `${label} ` : ''}run ${run + 1}/${runs} ${side} failed: ${e}`);
        bySide[side].push({ error: String(e?.message ?? e), rest_busy: restBusy });
      } finally {
        await browser.close();
      }
    }
  }
  return bySide;
}

/**
 * Median, min and max of the finite numbers in `xs` (null when there are none); `runs`: how
 * many counted.
 * @param {(number | null | undefined)[]} xs
 */
export function spread(xs) {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = v.length >> 1;
  const median = v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
  return { median, min: v[0], max: v[v.length - 1], runs: v.length };
}

/**
 * A ÷ B run by run (run r of each, measured back to back), summarised by `spread`.
 * @param {(number | null | undefined)[]} a
 * @param {(number | null | undefined)[]} b
 */
export function pairRatios(a, b) {
  return spread(a.map((x, i) => (typeof x === 'number' && b[i] ? x / b[i] : null)));
}

/**
 * `n` busy processes (`node -e "for(;;){}"`: a volunteer's machine busy with its own work) until
 * `stop()`; they start spinning before this returns.
 * @param {number} n
 */
export async function busyProcesses(n) {
  const children = Array.from({ length: n }, () =>
    spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }),
  );
  await sleep(500);
  return {
    stop: () => {
      for (const c of children) c.kill('SIGKILL');
    },
  };
}

/**
 * Runs `pass` on an idle machine, then (when `load` > 0) again beside `load` busy processes.
 * @template T
 * @param {number} load
 * @param {(label: string) => Promise<T>} pass
 * @returns {Promise<{ idle: T, loaded?: T }>}
 */
export async function idleAndLoaded(load, pass) {
  const idle = await pass('idle');
  if (load <= 0) return { idle };
  const busy = await busyProcesses(load);
  try {
    return { idle, loaded: await pass(`beside ${load} busy`) };
  } finally {
    busy.stop();
  }
}
