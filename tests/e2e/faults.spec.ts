import { expect, test } from '@playwright/test';
import { randomProblem } from '../../src/jobs/matmul-job';
import { seededRng } from '../../src/model/rng';
import { type Relay, startRelay } from '../../src/relay/relay';
import { expectCorrect, finish, openTab, peerIdOf, submit, type Win } from './mesh-helpers';

// Jobs that survive the real world, with real tabs and a real relay: contributors vanish, lie
// and lose their GPUs, and the researcher's own tab reloads. Small sizes; each test starts its
// own relay and tabs.

let relay: Relay;
test.beforeEach(async () => {
  relay = await startRelay({ port: 0, keyFile: 'test-results/relay-key' });
});
test.afterEach(async () => {
  await relay.stop().catch(() => {});
});

test('a contributor closed mid-shard: the job completes, correct, with 0 shards lost', async ({
  browser,
}) => {
  const addr = relay.multiaddrs[0]!;
  const researcher = await openTab(browser, addr, { contribute: false, name: 'researcher' });
  const leaver = await openTab(browser, addr, { contribute: true, name: 'leaver' });
  const stayer = await openTab(browser, addr, { contribute: false, name: 'stayer' });
  const leaverId = await peerIdOf(leaver);
  // The leaver's GPU never finishes, so it is surely mid-shard when its tab closes.
  await leaver.evaluate(() =>
    (globalThis as unknown as Win).tessel.faults!.compute.setTestMode({ stall: true }),
  );

  const p = randomProblem(128, 64, 128, seededRng(11)); // 4 shards
  const jobId = await submit(researcher, p);
  const held = () =>
    researcher.evaluate(
      ([id, who]) =>
        (globalThis as unknown as Win).tessel.mesh.running
          .get(id!)!
          .job.outstanding()
          .find((l) => l.contributor === who)?.shardId,
      [jobId, leaverId],
    );
  // A loaded host may take a while to hand the contributing tab its first lease.
  await expect.poll(held, { timeout: 30_000 }).toBeDefined();
  const shardHeld = (await held())!;
  await leaver.context().close(); // the volunteer closes the tab mid-shard
  await stayer.check('#contribute');

  const out = await finish(researcher, jobId);
  expectCorrect(out.c, p);
  expect(out.report).toMatchObject({ shards: 4, accepted: 4, rejected: 0 });
  // The shard the leaver held was computed by the stayer (re-leased when the tab's connection
  // closed, or copied speculatively if the owner noticed later): nothing was lost.
  const stayerId = await peerIdOf(stayer);
  expect(out.settled.filter((s) => s.settlement === 'accepted').map((s) => s.contributor)).toEqual(
    Array(4).fill(stayerId),
  );
  expect(out.settled.some((s) => s.shardId === shardHeld && s.settlement === 'accepted')).toBe(
    true,
  );
});

test('cheating contributors are caught every time, quarantined, and the answer is still right', async ({
  browser,
}) => {
  const addr = relay.multiaddrs[0]!;
  const researcher = await openTab(browser, addr, { contribute: false, name: 'researcher' });
  const cheats = ['perturb', 'garbage', 'other-shard'] as const;
  const cheaters = [];
  for (const cheat of cheats) {
    const page = await openTab(browser, addr, { contribute: false, name: `cheater-${cheat}` });
    await page.evaluate(
      (c) => (globalThis as unknown as Win).tessel.faults!.compute.setTestMode({ cheat: c }),
      cheat,
    );
    cheaters.push(page);
  }
  const honest = await openTab(browser, addr, { contribute: false, name: 'honest' });
  const cheaterIds = await Promise.all(cheaters.map(peerIdOf));

  const p = randomProblem(256, 48, 256, seededRng(12)); // 16 shards
  const jobId = await submit(researcher, p);
  // Cheaters first, alone: each returns results until the owner quarantines it.
  for (const c of cheaters) await c.check('#contribute');
  await expect
    .poll(
      () =>
        researcher.evaluate(
          (ids) =>
            ids.map((id) =>
              (globalThis as unknown as Win).tessel.mesh.reputation.isQuarantined(id),
            ),
          cheaterIds,
        ),
      { timeout: 60_000 },
    )
    .toEqual([true, true, true]);
  await honest.check('#contribute');

  const out = await finish(researcher, jobId);
  expectCorrect(out.c, p);
  const fromCheaters = out.settled.filter((s) => cheaterIds.includes(s.contributor));
  expect(fromCheaters.length).toBeGreaterThanOrEqual(6); // two each, at least
  expect(fromCheaters.every((s) => s.settlement === 'rejected')).toBe(true); // caught every time
  const honestId = await peerIdOf(honest);
  const fromHonest = out.settled.filter((s) => s.contributor === honestId);
  expect(fromHonest.every((s) => s.settlement === 'accepted')).toBe(true); // never rejected
  expect(out.report).toMatchObject({ shards: 16, accepted: 16, rejected: fromCheaters.length });

  // Each cheater saw its verdicts, earned no receipt, and was told to stop.
  for (const c of cheaters) {
    const outcomes = await c.evaluate(() => (globalThis as unknown as Win).tessel.mesh.outcomes);
    expect(outcomes.length).toBeGreaterThanOrEqual(2);
    expect(outcomes.every((o) => !o.accepted && o.receipt === undefined)).toBe(true);
  }
  // The honest contributor holds a verified, signed receipt for every shard it computed.
  const receipts = await honest.evaluate(
    () =>
      (globalThis as unknown as Win).tessel.mesh.outcomes.filter((o) => o.receipt !== undefined)
        .length,
  );
  expect(receipts).toBe(fromHonest.length);
});

test('the researcher’s tab reloaded mid-job resumes and finishes; no accepted shard is computed again', async ({
  browser,
}) => {
  const addr = relay.multiaddrs[0]!;
  const researcher = await openTab(browser, addr, { contribute: false, name: 'researcher' });
  const worker = await openTab(browser, addr, { contribute: true, name: 'worker' });
  // A slow GPU, so the job is surely half done when the researcher reloads.
  await worker.evaluate(() =>
    (globalThis as unknown as Win).tessel.faults!.compute.setTestMode({ delayMs: 250 }),
  );

  const p = randomProblem(256, 32, 256, seededRng(13)); // 16 shards
  const jobId = await submit(researcher, p);
  await expect
    .poll(
      () => researcher.evaluate(() => (globalThis as unknown as Win).tessel.mesh.settled.length),
      {
        timeout: 60_000,
      },
    )
    .toBeGreaterThanOrEqual(4);
  await researcher.reload();
  await expect(researcher.locator('#mesh-status')).toHaveAttribute('data-state', 'ready', {
    timeout: 60_000,
  });
  const resumed = await researcher.evaluate((id) => {
    const run = (globalThis as unknown as Win).tessel.mesh.running.get(id);
    return run ? { resumed: run.resumed, restored: run.job.report().restored } : undefined;
  }, jobId);
  expect(resumed?.resumed).toBe(true);
  expect(resumed!.restored).toBeGreaterThanOrEqual(4);
  await expect(researcher.locator(`#my-jobs li[data-job-id="${jobId}"]`)).toContainText('resumed');

  const out = await finish(researcher, jobId);
  expectCorrect(out.c, p);
  expect(out.report).toMatchObject({ shards: 16, accepted: 16, restored: resumed!.restored });
  // After the reload, only the shards not yet verified were accepted…
  expect(out.settled.filter((s) => s.settlement === 'accepted')).toHaveLength(
    16 - resumed!.restored,
  );
  // …and across the whole job the contributor got exactly one accepted verdict per shard. A
  // verdict reaches the contributor after the owner's job is done (and one kept in the outbox
  // over the reload, when the contributor next connects), and its receipt is checked and stored
  // before it counts: wait for them.
  const acceptedShards = () =>
    worker.evaluate(
      (id) =>
        (globalThis as unknown as Win).tessel.mesh.outcomes
          .filter((o) => o.jobId === id && o.accepted)
          .map((o) => o.shardId),
      jobId,
    );
  await expect.poll(async () => (await acceptedShards()).length, { timeout: 30_000 }).toBe(16);
  const accepted = await acceptedShards();
  expect(new Set(accepted).size).toBe(16);
  await expect(researcher.locator(`#my-jobs li[data-job-id="${jobId}"]`)).toHaveAttribute(
    'data-state',
    'done',
  );
});

test('a contributor whose GPU is lost mid-shard reports it, recovers, and takes new work', async ({
  browser,
}) => {
  const addr = relay.multiaddrs[0]!;
  const researcher = await openTab(browser, addr, { contribute: false, name: 'researcher' });
  // The GPU engine, asked for: on this software adapter the tab would lend its CPU engine.
  const crasher = await openTab(browser, addr, {
    contribute: true,
    name: 'crasher',
    engine: 'webgpu',
  });
  await crasher.evaluate(() =>
    (globalThis as unknown as Win).tessel.faults!.compute.setTestMode({
      loseDeviceOnNext: true,
      delayMs: 50,
    }),
  );
  const p = randomProblem(192, 64, 192, seededRng(14)); // 9 shards
  const jobId = await submit(researcher, p);
  const out = await finish(researcher, jobId);
  expectCorrect(out.c, p);
  expect(out.report).toMatchObject({ shards: 9, accepted: 9, rejected: 0 });
  expect(out.report.reassignments).toBeGreaterThanOrEqual(1); // the lost shard went back out
  const crasherId = await peerIdOf(crasher);
  expect(
    out.settled.filter((s) => s.contributor === crasherId && s.settlement === 'accepted').length,
  ).toBe(9);
  expect(
    await crasher.evaluate(() =>
      (globalThis as unknown as Win).tessel.compute.info().then((i) => i.deviceLosses),
    ),
  ).toBe(1);
  // An honest GPU failure costs a little reputation, not quarantine.
  expect(
    await researcher.evaluate(
      (id) => (globalThis as unknown as Win).tessel.mesh.reputation.isQuarantined(id),
      crasherId,
    ),
  ).toBe(false);
});

test('a hung GPU: the lease runs out, the tab gives the shard back, its Worker is recycled, and it takes new work', async ({
  browser,
}) => {
  const addr = relay.multiaddrs[0]!;
  const researcher = await openTab(browser, addr, { contribute: false, name: 'researcher' });
  // Short leases, so the test need not wait minutes: 2 s between heartbeats, 4 s in all.
  await researcher.evaluate(() => {
    (globalThis as unknown as Win).tessel.faults!.mesh.leasePolicy({
      defaultWindowMs: 2_000,
      minWindowMs: 2_000,
      maxWindowMs: 2_000,
      minLifetimeMs: 4_000,
      maxLifetimeMs: 4_000,
      defaultLifetimeMs: 4_000,
    });
  });
  const worker = await openTab(browser, addr, { contribute: false, name: 'worker' });
  // Its GPU never finishes; heartbeats keep going (the tab is alive), so only the lifetime ends it.
  await worker.evaluate(() =>
    (globalThis as unknown as Win).tessel.faults!.compute.setTestMode({ stall: true }),
  );
  const p = randomProblem(128, 64, 128, seededRng(17)); // 4 shards
  const jobId = await submit(researcher, p);
  await worker.check('#contribute');

  const out = await finish(researcher, jobId);
  expectCorrect(out.c, p);
  expect(out.report).toMatchObject({ shards: 4, accepted: 4, rejected: 0 });
  const workerId = await peerIdOf(worker);
  expect(out.settled.every((s) => s.contributor === workerId)).toBe(true);
  // The page says what happened, and the Worker was replaced once. One shard or two were given
  // back: the hung one, and maybe the one asked for while it computed, whose lifetime (as
  // short as the first's here) ran out waiting behind it.
  await expect(worker.locator('#shards-abandoned')).toHaveText(/^[12]$/);
  expect(await worker.evaluate(() => (globalThis as unknown as Win).tessel.compute.recycles)).toBe(
    1,
  );
  // The owner was told (a failure, not a silent lapse) and holds nothing of it.
  const record = await researcher.evaluate(
    (id) => (globalThis as unknown as Win).tessel.mesh.reputation.get(id),
    workerId,
  );
  expect(record.failures + record.missedDeadlines).toBeGreaterThanOrEqual(1);
  expect(record.quarantined).toBe(false);
});
