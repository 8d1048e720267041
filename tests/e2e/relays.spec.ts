import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect, test } from '@playwright/test';
import { randomProblem } from '../../src/jobs/matmul-job';
import { seededRng } from '../../src/model/rng';
import type { Relay } from '../../src/relay/relay';
import { startPeeredRelays } from '../support/relays';
import { expectCorrect, finish, openTab, peerIdOf, submit, type Win } from './mesh-helpers';

// Three relays peered with each other; a researcher tab on two of them, a contributor tab on
// two others, and a headless contributor (the `tessel` command, Node + Dawn) on the third only.

const relays: Relay[] = [];

test.beforeEach(async () => {
  relays.push(...(await startPeeredRelays(3)));
});
test.afterEach(async () => {
  for (const r of relays.splice(0)) await r.stop().catch(() => {});
});

test('several relays: a job crosses them to a tab and a GPU server, and losing a relay mid-job changes nothing', async ({
  browser,
}) => {
  test.setTimeout(240_000);
  const [a, b, c] = relays.map((r) => r.multiaddrs[0]!) as [string, string, string];
  const researcher = await openTab(browser, [a, b], { contribute: false, name: 'researcher' });
  // The volunteer joins now and switches Contribute on later.
  const volunteer = await openTab(browser, [b, c], { contribute: false, name: 'volunteer' });
  // The researcher is reachable through both its relays, and says so.
  await expect(researcher.locator('#relay-status')).toContainText(
    '2 of 2 connected, reachable through 2',
  );

  // A GPU server, on relay C only: it hears the researcher's jobs through the relays' peering.
  const server = spawn(
    process.execPath,
    ['bin/tessel.mjs', 'contribute', '--relay', c, '--budget', '1'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, HOME: mkdtempSync(join(tmpdir(), 'tessel-home-')) },
    },
  );
  const lines: string[] = [];
  createInterface({ input: server.stdout! }).on('line', (l) => lines.push(l));
  const exited = new Promise<number | null>((r) => server.once('exit', (code) => r(code)));
  await expect
    .poll(() => lines.some((l) => l.startsWith('contributing')), { timeout: 120_000 })
    .toBe(true);
  const serverId = /peer (\S+),/.exec(lines.find((l) => / peer \S+, reachable/.test(l))!)![1]!;

  // Job 1, the server alone: announced on A and B, heard on C, computed over a direct WebRTC
  // connection dialled through a relay the server was never told of.
  const p = randomProblem(256, 96, 256, seededRng(21));
  const first = await finish(researcher, await submit(researcher, p, 32)); // 64 shards
  expectCorrect(first.c, p);
  expect(first.report).toMatchObject({ shards: 64, accepted: 64, rejected: 0 });
  expect(new Set(first.settled.map((s) => s.contributor))).toEqual(new Set([serverId]));
  for (const s of first.settled) expect(s.remoteAddr).toContain('/webrtc');

  // Job 2, the volunteer too. Once a few shards are in, relay B — the only one researcher and
  // volunteer share — dies.
  await volunteer.check('#contribute');
  const q = randomProblem(256, 96, 256, seededRng(22));
  const jobId = await submit(researcher, q, 32);
  await expect
    .poll(
      () =>
        researcher.evaluate(
          (id) =>
            (globalThis as unknown as Win).tessel.mesh.running.get(id)!.job.progress().verified,
          jobId,
        ),
      { timeout: 60_000 },
    )
    .toBeGreaterThanOrEqual(4);
  await relays[1]!.stop();
  const second = await finish(researcher, jobId);
  expectCorrect(second.c, q);
  expect(second.report).toMatchObject({ shards: 64, accepted: 64, rejected: 0 });
  const allowed = [await peerIdOf(volunteer), serverId];
  for (const s of second.settled) expect(allowed).toContain(s.contributor);
  await expect(researcher.locator('#relay-status')).toContainText('1 of 2 connected');

  // Job 3 is announced through relay A alone and still reaches everyone.
  const r = randomProblem(128, 64, 128, seededRng(23));
  const third = await finish(researcher, await submit(researcher, r, 64));
  expectCorrect(third.c, r);

  // Ctrl+C: the server stops cleanly and counts what it did.
  server.kill('SIGINT');
  expect(await exited).toBe(0);
  expect(lines.at(-1)).toMatch(/^stopped: [1-9]\d* shard\(s\) verified, 0 rejected/);
});
