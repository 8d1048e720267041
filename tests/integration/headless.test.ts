import 'fake-indexeddb/auto';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { matmulKernelDigest } from '../../src/gpu/matmul';
import { contribute, type HeadlessEngine } from '../../src/headless/contribute';
import { randomProblem } from '../../src/jobs/matmul-job';
import { LocalLedger } from '../../src/ledger/local';
import { Mesh } from '../../src/mesh/mesh';
import { seededRng } from '../../src/model/rng';
import { BooksPort } from '../../src/peer/books-port';
import { matmulF64 } from '../../src/reference/matmul';
import type { Relay } from '../../src/relay/relay';
import { createComputeApi } from '../../src/worker/api';
import { startPeeredRelays } from '../support/relays';

// The headless contributor against a real owner: both in Node here (Dawn + SwiftShader, WebRTC
// through node-datachannel, two relays peered with each other), and the `tessel` command itself
// in a child process. The owner is a Mesh as a tab runs it; tests/e2e covers browser owners.

const engine = createComputeApi();
const relays: Relay[] = [];
let owner: Mesh;

beforeAll(async () => {
  relays.push(...(await startPeeredRelays(2)));
  const key = await generateKeyPair('Ed25519');
  const peer = peerIdFromPrivateKey(key).toString();
  const ledger = await LocalLedger.open(key, peer, `owner-${peer}`);
  const info = await engine.info();
  owner = await Mesh.start({
    config: { relays: [relays[0]!.multiaddrs[0]!], iceServers: [] },
    privateKey: key,
    engine,
    adapter: info.identity,
    kernelDigest: await matmulKernelDigest(),
    maxBufferBytes: info.maxBindingBytes,
    contribute: false,
    ledger: new BooksPort(ledger),
  });
});

afterAll(async () => {
  await owner?.stop();
  for (const r of relays) await r.stop();
  await engine.dispose();
});

/** An engine whose matmuls take at least `ms` longer (a big shard on a slow GPU). */
const slowed = (ms: number): HeadlessEngine => ({
  ...engine,
  matmul: async (...args) => {
    await new Promise((r) => setTimeout(r, ms));
    return engine.matmul(...args);
  },
});

describe('headless contributor (programmatic)', () => {
  test('computes a job for an owner on another relay; credit survives a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tessel-headless-'));
    const lines: string[] = [];
    // It reaches the owner through the second relay only: announcements cross between relays.
    const options = {
      relays: [relays[1]!.multiaddrs[0]!],
      engine,
      gflops: 10,
      dataDir,
      market: false,
      log: (l: string) => lines.push(l),
    };
    const worker = await contribute(options);
    const p = randomProblem(128, 64, 128, seededRng(12));
    const run = await owner.submitMatmul(p, { blockRows: 64, blockCols: 64 });
    const { answer } = await run.done;
    if (answer.kind !== 'matmul') throw new Error('not a matmul');
    const exact = matmulF64(p.a, p.b, p);
    for (let i = 0; i < exact.length; i++) {
      expect(Math.abs(answer.c[i]! - exact[i]!)).toBeLessThan(1e-3);
    }
    await expect.poll(() => worker.stats().verified, { timeout: 10_000 }).toBe(4);
    const credit = worker.stats().credit;
    expect(credit).toBeGreaterThan(0);
    expect(lines.some((l) => l.includes(`job ${run.jobId}`) && l.includes('announced'))).toBe(true);
    expect(lines.filter((l) => l.includes('verified after')).length).toBe(4);
    await worker.stop();
    const file = JSON.parse(readFileSync(join(dataDir, 'ledger.json'), 'utf8'));
    expect(file.earned).toHaveLength(4);
    // Same folder, same peer id and the credit it earned, even in a fresh in-memory database.
    const again = await contribute({ ...options, log: () => {} });
    try {
      expect(again.peerId).toBe(worker.peerId);
      expect(again.stats().credit).toBe(credit);
    } finally {
      await again.stop();
    }
  });

  test('stopping gives held leases back at once, not at their deadlines', async () => {
    const worker = await contribute({
      relays: relays.map((r) => r.multiaddrs[0]!),
      engine: slowed(5_000),
      gflops: 10,
      dataDir: mkdtempSync(join(tmpdir(), 'tessel-headless-')),
      market: false,
      log: () => {},
    });
    const p = randomProblem(128, 64, 128, seededRng(13));
    const run = await owner.submitMatmul(p, { blockRows: 64, blockCols: 64 });
    const held = () => run.job.outstanding().filter((l) => l.contributor === worker.peerId).length;
    // One computing, the next already leased (double-buffering).
    await expect.poll(held, { timeout: 20_000 }).toBe(2);
    await worker.stop();
    expect(held()).toBe(0);
    await owner.cancel(run.jobId);
  });
});

describe('`tessel contribute` (the command)', () => {
  test('prints adapter, speed, shards and credit; a SIGTERM to `npx` stops it cleanly', async () => {
    // As `npx tessel contribute` runs it: npm starts `/bin/sh -c "tessel …"` and passes a
    // SIGTERM on to that shell, which dies of it; the command, orphaned, must still leave the
    // mesh cleanly (before, it contributed on, unwatched).
    const args = [
      'bin/tessel.mjs',
      'contribute',
      ...relays.flatMap((r) => ['--relay', r.multiaddrs[0]!]),
      '--budget',
      '1',
      '--data',
      mkdtempSync(join(tmpdir(), 'tessel-cli-')),
    ];
    const shell = spawn('/bin/sh', ['-c', [process.execPath, ...args].join(' ')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const out: string[] = [];
    // The output closes when the last process holding it (the contributor) has exited.
    const closed = new Promise<void>((r) => shell.stdout!.once('close', () => r()));
    createInterface({ input: shell.stdout! }).on('line', (l) => out.push(l));
    const seen = (what: string) => out.some((l) => l.includes(what));
    await expect.poll(() => seen('contributing at budget 1'), { timeout: 90_000 }).toBe(true);
    // SwiftShader is the CPU behind WebGPU: the CPU engine is lent, measured, not the adapter.
    expect(seen('WebGPU adapter google/swiftshader (software)')).toBe(true);
    expect(out.some((l) => /measured GFLOP\/s at 512³: cpu \d+/.test(l))).toBe(true);
    expect(seen('lending cpu')).toBe(true);
    expect(seen('engine cpu:wasm-')).toBe(true);
    const run = await owner.submitMatmul(randomProblem(128, 64, 128, seededRng(14)), {
      blockRows: 64,
      blockCols: 64,
    });
    await run.done;
    await expect.poll(() => out.filter((l) => l.includes('verified after')).length).toBe(4);
    // Credit in the page's unit: credits, to the µcredit.
    expect(out.some((l) => /verified after \d+ ms, \+\d+\.\d{6} credits$/.test(l))).toBe(true);
    shell.kill('SIGTERM');
    await closed;
    expect(out.at(-1)).toMatch(
      /^stopped: 4 shard\(s\) verified, 0 rejected, \d+ superseded, 0 given back this run; \d+\.\d{6} credits earned in all$/,
    );
  });

  test('Ctrl+C (SIGINT to the whole process group) stops it once, cleanly: exit 0', async () => {
    // A terminal signals its foreground group: the command and the contributor it starts.
    // The contributor must hear it once (a second SIGINT means "do not wait"), and leave.
    const cli = spawn(
      process.execPath,
      [
        'bin/tessel.mjs',
        'contribute',
        ...relays.flatMap((r) => ['--relay', r.multiaddrs[0]!]),
        '--data',
        mkdtempSync(join(tmpdir(), 'tessel-cli-')),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'], detached: true },
    );
    const out: string[] = [];
    const exited = new Promise<number | null>((r) => cli.once('exit', (code) => r(code)));
    createInterface({ input: cli.stdout! }).on('line', (l) => out.push(l));
    await expect
      .poll(() => out.some((l) => l.includes('contributing at budget')), { timeout: 90_000 })
      .toBe(true);
    process.kill(-cli.pid!, 'SIGINT');
    expect(await exited).toBe(0);
    expect(out.filter((l) => l.startsWith('stopping'))).toHaveLength(1);
    expect(out.at(-1)).toMatch(/^stopped: 0 shard\(s\) verified/);
  });

  test('bad flags: a clear message and exit code 2, before anything starts', async () => {
    for (const args of [[], ['contribute'], ['contribute', '--relay', 'nope'], ['mine']]) {
      const child = spawn(process.execPath, ['bin/tessel.mjs', ...args], { stdio: 'pipe' });
      let err = '';
      child.stderr.on('data', (d) => {
        err += d;
      });
      const code = await new Promise((r) => child.once('exit', r));
      expect(code).toBe(2);
      expect(err).toMatch(/^tessel: .+\n\nusage: tessel contribute/);
    }
    // The relay beside it (built with it) refuses a peer that is not a relay multiaddr.
    const relay = spawn(process.execPath, ['dist-relay/main.js', '--port', '0', '--peer', 'nope'], {
      stdio: 'pipe',
    });
    let err = '';
    relay.stderr.on('data', (d) => {
      err += d;
    });
    expect(await new Promise((r) => relay.once('exit', r))).toBe(2);
    expect(err).toMatch(/^--peer "nope" is not a relay multiaddr/);
  });
});
