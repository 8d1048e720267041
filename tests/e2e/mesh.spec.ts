import { expect, type Page, test } from '@playwright/test';
import type { MatmulProblem } from '../../src/jobs/freivalds';
import { randomProblem } from '../../src/jobs/matmul-job';
import { seededRng } from '../../src/model/rng';
import { type Relay, startRelay } from '../../src/relay/relay';
import { expectCorrect, finish, openTab, peerIdOf, submit, type Win } from './mesh-helpers';

// One relay and three tabs in separate browser contexts (separate storage, separate peer ids):
// a researcher who submits matmuls and two contributors who compute their shards.

let relay: Relay;

test.beforeEach(async () => {
  relay = await startRelay({ port: 0, keyFile: 'test-results/relay-key' });
});
test.afterEach(async () => {
  await relay.stop().catch(() => {});
});

async function runJob(page: Page, p: MatmulProblem, shards: number) {
  const out = await finish(page, await submit(page, p));
  expectCorrect(out.c, p); // C equals the float64 reference within the fp32 bound
  // Every shard verified and accepted, none rejected.
  expect(out.report).toMatchObject({ shards, accepted: shards, rejected: 0 });
  expect(out.settled.filter((s) => s.settlement === 'accepted')).toHaveLength(shards);
  // Shard data only ever came over direct, unlimited WebRTC connections, never the relay.
  for (const s of out.settled) {
    expect(s.limited).toBe(false);
    expect(s.remoteAddr).toContain('/webrtc');
  }
  return out;
}

test('researcher + two contributors: matmuls flow tab-to-tab over WebRTC, verified, also after the relay stops', async ({
  browser,
}) => {
  const addr = relay.multiaddrs[0]!;
  const researcher = await openTab(browser, addr, { contribute: false, name: 'researcher' });
  const contributors = [
    await openTab(browser, addr, { contribute: true, name: 'contributor-1' }),
    await openTab(browser, addr, { contribute: true, name: 'contributor-2' }),
  ];
  const contributorIds = await Promise.all(contributors.map(peerIdOf));

  // Job 1, relay up: the contributors hear the announcement through the relay's gossipsub and
  // dial the researcher; SDP goes over the relay, the shards over the direct connection.
  await runJob(researcher, randomProblem(256, 64, 512, seededRng(1)), 32);

  // Both contributors now hold direct WebRTC connections to the researcher.
  await expect
    .poll(() =>
      researcher.evaluate(() =>
        (globalThis as unknown as Win).tessel.mesh.node
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
  const out2 = await runJob(researcher, randomProblem(128, 96, 256, seededRng(2)), 8);
  expect(contributorIds).toEqual(
    expect.arrayContaining([...new Set(out2.settled.map((s) => s.contributor))]),
  );

  // The contributors saw a verdict, with a signed receipt, for every shard they returned (the
  // last ones when they next read their stream: after the rest their budget takes).
  const verdicts = () =>
    Promise.all(
      contributors.map((c) =>
        c.evaluate(
          () =>
            (globalThis as unknown as Win).tessel.mesh.outcomes.filter(
              (o) => o.accepted && o.receipt,
            ).length,
        ),
      ),
    ).then((n) => n.reduce((x, y) => x + y, 0));
  await expect.poll(verdicts, { timeout: 10_000 }).toBe(40);
});
