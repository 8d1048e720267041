// Cold start: from page load to the first shard computed, on this machine's software adapter.
// A researcher tab has a matmul job open; a volunteer's fresh tab switches Contribute on (first
// visit: the engines are measured, the choice remembered) and is closed once the job is done;
// with a second job open the volunteer comes back in a new tab of the same browser profile (a
// return visit: contributing resumes from the remembered choice, nothing measured). Times come
// from the volunteer's own clock (performance.timeOrigin = navigation start).
import { build, preview } from 'vite';

/** @param {{ browser: import('playwright-core').Browser, startRelayProcess: () => Promise<{ addr: string, stop(): void }> }} o */
export async function coldStartBench({ browser, startRelayProcess }) {
  const relay = await startRelayProcess();
  await build({ logLevel: 'warn' });
  const app = await preview({ preview: { port: 0, host: '127.0.0.1' }, logLevel: 'warn' });
  const url = `${app.resolvedUrls.local[0]}?relay=${encodeURIComponent(relay.addr)}`;
  try {
    const researcher = await (await browser.newContext()).newPage();
    let tap = false;
    if (process.env.COLD_DEBUG) {
      const t0 = performance.now();
      researcher.on(
        'console',
        (m) =>
          tap &&
          console.log(
            `  [researcher ${(performance.now() - t0).toFixed(0)}] ${m.text().slice(0, 300)}`,
          ),
      );
      await researcher.addInitScript(
        (d) => localStorage.setItem('debug', d),
        process.env.COLD_DEBUG,
      );
    }
    await researcher.goto(url);
    await researcher.evaluate(() => globalThis.tessel.join().then(() => {}));
    // 16 shards of 256 × 256 × 256: work is waiting for whoever comes.
    const submit = () =>
      researcher.evaluate(async () => {
        const n = 1024;
        const rand = () => Float32Array.from({ length: n * 256 }, () => Math.random() * 2 - 1);
        const run = await globalThis.tessel.mesh.submitMatmul(
          { m: n, k: 256, n, a: rand(), b: rand() },
          { blockRows: 256, blockCols: 256 },
          { price: 0.001, budget: Number.POSITIVE_INFINITY },
        );
        globalThis.coldRun = run;
        return run.jobId;
      });
    const context = await browser.newContext();
    let volunteer = await context.newPage();
    /** COLD_DEBUG=<debug namespaces> prints the pages' logs with the bench's clock. */
    const debug = async (page, name) => {
      if (!process.env.COLD_DEBUG) return;
      const t0 = performance.now();
      page.on('console', (m) =>
        console.log(`  [${name} ${(performance.now() - t0).toFixed(0)}] ${m.text().slice(0, 300)}`),
      );
      await page.addInitScript((d) => localStorage.setItem('debug', d), process.env.COLD_DEBUG);
    };
    await debug(volunteer, 'volunteer');
    /** ms from this page's navigation start to its mesh joined, a job heard, the first shard
     * computed. */
    const firstShard = () =>
      volunteer.evaluate(
        () =>
          new Promise((resolve) => {
            const at = {};
            const poll = setInterval(() => {
              const mesh = globalThis.tessel?.mesh;
              if (mesh && at.joined === undefined) {
                at.joined = performance.now();
                mesh.addEventListener('announced', () => (at.job_heard ??= performance.now()));
              }
              const o = mesh?.outcomes?.[0];
              if (o) {
                clearInterval(poll);
                resolve({ ...at, shard: o.computedAt - performance.timeOrigin });
              }
            }, 2);
          }),
      );
    await submit();
    await volunteer.goto(url);
    await volunteer.locator('#adapter[data-state="ready"]').waitFor({ timeout: 60_000 });
    const switchedAt = await volunteer.evaluate(() => performance.now());
    await volunteer.getByRole('switch', { name: 'Contribute my GPU' }).check();
    const first = await firstShard();
    const engine = await volunteer.evaluate(() => globalThis.tessel.compute.info());
    await researcher.evaluate(() => globalThis.coldRun.done.then(() => {}));
    await volunteer.close();
    tap = true;
    await submit();
    volunteer = await context.newPage();
    await debug(volunteer, 'volunteer again');
    await volunteer.goto(url);
    const again = await firstShard();
    const result = {
      adapter: engine.adapter?.architecture ?? 'none',
      engine: engine.identity,
      cpu: engine.cpu,
      first_visit: {
        from_load_ms: first.shard,
        from_switch_on_ms: first.shard - switchedAt,
        mesh_joined_ms: first.joined,
        job_heard_ms: first.job_heard,
      },
      return_visit: {
        from_load_ms: again.shard,
        mesh_joined_ms: again.joined,
        job_heard_ms: again.job_heard,
      },
    };
    return result;
  } finally {
    await app.close();
    relay.stop();
  }
}
