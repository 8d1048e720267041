import { type Browser, expect, type Page, test } from '@playwright/test';
import { checkElementwise, matmulF64 } from '../../src/gpu/reference';
import { randomProblem } from '../../src/jobs/matmul-job';
import { seededRng } from '../../src/jobs/rng';
import { type Relay, startRelay } from '../../src/relay/relay';

// One relay and three tabs in separate browser contexts (separate storage, separate peer ids):
// a researcher who submits a matmul and two contributors who compute its shards.

interface PageMesh {
  peerId: string;
  settled: {
    shardId: number;
    contributor: string;
    settlement: string;
    remoteAddr: string;
    limited: boolean;
  }[];
  outcomes: { accepted: boolean }[];
  status(): { peers: number; directPeers: number };
  submitMatmul(
    p: { a: Float32Array; b: Float32Array; m: number; k: number; n: number },
    block: { blockRows: number; blockCols: number },
  ): {
    jobId: string;
    done: Promise<{
      c: Float32Array;
      report: { shards: number; accepted: number; rejected: number };
    }>;
  };
}
type Win = { tessel: { meshReady: Promise<PageMesh | undefined>; mesh: PageMesh } };

let relay: Relay;

test.beforeEach(async () => {
  relay = await startRelay({ port: 0, keyFile: 'test-results/relay-key' });
});
test.afterEach(async () => {
  await relay.stop().catch(() => {});
});

async function openTab(browser: Browser, relayAddr: string, contribute: boolean): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (e) => console.log('pageerror', e));
  page.on('console', (m) => {
    // Refused websocket redials are expected once the relay is stopped.
    if (m.text().includes('WebSocket connection to')) return;
    if (m.type() === 'warning' || m.type() === 'error')
      console.log(`[${contribute ? 'contributor' : 'researcher'}] ${m.text()}`);
  });
  await page.goto(`/?relay=${encodeURIComponent(relayAddr)}${contribute ? '' : '&contribute=0'}`);
  await expect(page.locator('#mesh-status')).toHaveAttribute('data-state', 'ready', {
    timeout: 60_000,
  });
  return page;
}

interface JobOutcome {
  c: number[];
  report: { shards: number; accepted: number; rejected: number };
  settled: PageMesh['settled'];
}

/** Submits a matmul from the researcher's tab and waits for the verified, assembled C. */
function runJob(
  page: Page,
  p: { a: Float32Array; b: Float32Array; m: number; k: number; n: number },
) {
  return page.evaluate(
    async ({ m, k, n, a, b }): Promise<JobOutcome> => {
      const mesh = (globalThis as unknown as Win).tessel.mesh;
      const before = mesh.settled.length;
      const problem = { a: Float32Array.from(a), b: Float32Array.from(b), m, k, n };
      const { done } = await mesh.submitMatmul(problem, { blockRows: 64, blockCols: 64 });
      const { c, report } = await done;
      return { c: Array.from(c), report, settled: mesh.settled.slice(before) };
    },
    { m: p.m, k: p.k, n: p.n, a: Array.from(p.a), b: Array.from(p.b) },
  );
}

function expectVerifiedOverWebRtc(
  out: JobOutcome,
  p: { a: Float32Array; b: Float32Array; m: number; k: number; n: number },
  shards: number,
) {
  // The assembled C equals the float64 reference within the fp32 bound.
  const check = checkElementwise(out.c, matmulF64(p.a, p.b, p), matmulF64(p.a, p.b, p, true), p.k);
  expect(check.ok, `worst ratio ${check.worstRatio}`).toBe(true);
  // Every shard verified and accepted, none rejected.
  expect(out.report).toMatchObject({ shards, accepted: shards, rejected: 0 });
  expect(out.settled.filter((s) => s.settlement === 'accepted')).toHaveLength(shards);
  // Shard data only ever came over direct, unlimited WebRTC connections, never the relay.
  for (const s of out.settled) {
    expect(s.limited).toBe(false);
    expect(s.remoteAddr).toContain('/webrtc');
  }
}

test('researcher + two contributors: matmuls flow tab-to-tab over WebRTC, verified, also after the relay stops', async ({
  browser,
}) => {
  const addr = relay.multiaddrs[0]!;
  const researcher = await openTab(browser, addr, false);
  const contributors = [await openTab(browser, addr, true), await openTab(browser, addr, true)];
  const contributorIds = await Promise.all(
    contributors.map((p) => p.evaluate(() => (globalThis as unknown as Win).tessel.mesh.peerId)),
  );

  // Job 1, relay up: the contributors hear the announcement through the relay's gossipsub and
  // dial the researcher; SDP goes over the relay, the shards over the direct connection.
  const p1 = randomProblem(256, 64, 512, seededRng(1)); // 32 shards of 64×64
  expectVerifiedOverWebRtc(await runJob(researcher, p1), p1, 32);

  // Both contributors now hold direct WebRTC connections to the researcher.
  await expect
    .poll(() =>
      researcher.evaluate(() =>
        (
          globalThis as unknown as {
            tessel: {
              mesh: {
                node: {
                  getConnections(): {
                    remotePeer: { toString(): string };
                    remoteAddr: { toString(): string };
                    limits?: unknown;
                  }[];
                };
              };
            };
          }
        ).tessel.mesh.node
          .getConnections()
          .filter((c) => c.remoteAddr.toString().includes('/webrtc') && c.limits == null)
          .map((c) => c.remotePeer.toString())
          .sort(),
      ),
    )
    .toEqual([...contributorIds].sort());

  // The relay goes away. A new job is announced over the direct connections (gossipsub runs
  // on them too) and computed with no relay at all.
  await relay.stop();
  const p2 = randomProblem(128, 96, 256, seededRng(2)); // 8 shards
  const out2 = await runJob(researcher, p2);
  expectVerifiedOverWebRtc(out2, p2, 8);
  expect(contributorIds).toEqual(
    expect.arrayContaining([...new Set(out2.settled.map((s) => s.contributor))]),
  );

  // The contributors saw a verdict for every shard they returned.
  const verdicts = await Promise.all(
    contributors.map((c) =>
      c.evaluate(
        () => (globalThis as unknown as Win).tessel.mesh.outcomes.filter((o) => o.accepted).length,
      ),
    ),
  );
  expect(verdicts.reduce((x, y) => x + y, 0)).toBe(40);
});
