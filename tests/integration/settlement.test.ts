import '../../src/relay/polyfills';
import 'fake-indexeddb/auto';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { afterAll, expect, test } from 'vitest';
import type { Output } from '../../src/jobs/codec';
import { computeInference } from '../../src/jobs/inference-compute';
import { InferenceOwnerJob } from '../../src/jobs/inference-job';
import { defaultPolicy, type InferenceSpec } from '../../src/jobs/inference-spec';
import type { OwnerJob, Receipt } from '../../src/jobs/job';
import type { JobSpec } from '../../src/jobs/kinds';
import { paidCopies } from '../../src/jobs/kinds';
import { MatmulOwnerJob, planBlocks, randomProblem } from '../../src/jobs/matmul-job';
import { creditFor } from '../../src/jobs/price';
import { largestShardFlops, Purse, Wallet } from '../../src/jobs/purse';
import { accounts, checkLog } from '../../src/ledger/audit';
import { LocalLedger } from '../../src/ledger/local';
import { openCheckpoint } from '../../src/ledger/note';
import type { LeaseMsg } from '../../src/mesh/codec';
import type { MeshNode } from '../../src/mesh/node';
import { Paymaster } from '../../src/mesh/paymaster';
import { ShardContributor } from '../../src/mesh/shard-contributor';
import { type SettledEvent, ShardOwnerService } from '../../src/mesh/shard-owner';
import { seededRng } from '../../src/model/rng';
import { matmulF64 } from '../../src/reference/matmul';
import { referenceEngine, tinyModelFiles, tinySummary } from '../support/model-fixture';
import { tcpNode } from '../support/tcp-node';

// Settlement to the last credit, over the real shard protocol (libp2p streams over loopback
// TCP): one owner whose grant pays for about two thirds of its work, several contributors
// working at once, receipts written to a real ledger that takes a while to make each durable.
// The owner's balance never goes below 0, every receipt it issued stands under the audit's
// issuance rule, and every verified shard is paid in full: its own FLOPs at the job's price.

const PRICE = 1_000; // credits per GFLOP
const nodes: MeshNode[] = [];
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
});

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });

/**
 * Runs `jobs` for an owner holding `grant` µcredits until none can lease a shard more, each
 * worked by `perJob` contributors (a peer each, as tabs work one job at a time) computing with
 * `compute`; returns the owner's books, checked as an auditor would.
 */
async function toTheLastCredit(
  grant: number,
  jobs: { job: OwnerJob; js: JobSpec }[],
  perJob: number,
  compute: (l: LeaseMsg) => Promise<Output>,
) {
  const { node: ownerNode, key } = await tcpNode();
  nodes.push(ownerNode);
  const me = peerIdFromPrivateKey(key).toString();
  const ledger = await LocalLedger.open(key, me, `settlement-${me}`);
  const wallet = new Wallet((credit) => ledger.balance(grant) >= credit);
  for (const { job, js } of jobs) {
    const terms = { price: PRICE, budget: Number.POSITIVE_INFINITY };
    wallet.open(job.id, new Purse(terms, largestShardFlops(job), paidCopies(js)));
  }
  let owner: ShardOwnerService | undefined;
  const paymaster = new Paymaster(wallet, {
    jobs: () => owner?.jobs.values() ?? [],
    // IndexedDB taking its time: payments stay owed while other results settle.
    issue: async (r: Receipt) => {
      await sleep(5 + Math.random() * 25);
      return ledger.issue(r);
    },
  });
  const hooks = paymaster.hooks();
  const seen = { leases: 0, leasesWhileOwed: 0, lowest: grant };
  // Everything paid (its receipt durable or not) and everything held: were every hold paid
  // now, the books would still be ≥ 0. The log alone lags the payments; this never does.
  const watch = () => {
    let committed = 0;
    for (const { job } of jobs)
      committed += wallet.purse(job.id)!.spent + wallet.purse(job.id)!.held;
    seen.lowest = Math.min(seen.lowest, ledger.balance(grant), grant - committed);
  };
  ledger.addEventListener('books', watch);
  owner = new ShardOwnerService(ownerNode, {
    ...hooks,
    reserve: (job, lease, work) => {
      seen.leases++;
      if (wallet.owed > 0) seen.leasesWhileOwed++;
      const ok = hooks.reserve?.(job, lease, work) ?? true;
      watch();
      return ok;
    },
  });
  const settled: SettledEvent[] = [];
  owner.addEventListener('settled', (e) => {
    settled.push(e.detail);
    watch();
  });
  for (const { job } of jobs) owner.addJob(job);
  await owner.start();

  const stop = new AbortController();
  const working: Promise<unknown>[] = [];
  for (const { job } of jobs) {
    for (let i = 0; i < perJob; i++) {
      const { node } = await tcpNode();
      nodes.push(node);
      const c = new ShardContributor(node, {
        compute: async (l) => {
          await sleep(Math.random() * 20);
          return compute(l);
        },
        maxBufferBytes: 2 ** 28,
        adapter: `adapter-${i}`,
        budget: 1,
      });
      const announcement = {
        jobId: job.id,
        owner: me,
        kind: job.kind,
        shardCount: job.shardCount,
        shardsLeft: job.shardCount,
        kernelDigest: '0'.repeat(64),
        expiresAt: Date.now() + 60_000,
        addrs: ownerNode.getMultiaddrs().map((a) => a.toString()),
        modelDigest: job.modelDigest ?? '',
        modelBytes: 0,
        price: PRICE,
        shardGflop: 0,
      };
      working.push(c.work(announcement, stop.signal).catch(() => {}));
    }
  }
  // Until no lease is out, nothing is owed, and nothing was leased or settled for 2 s: every
  // contributor asked again and no shard it could take was affordable (what is still held
  // waits for the owner's own check of copies; the books count it below).
  const end = Date.now() + 20_000;
  let activity = -1;
  for (let quietSince = Date.now(); Date.now() - quietSince < 2_000; await sleep(50)) {
    const now = seen.leases + settled.length;
    if (
      now !== activity ||
      jobs.some(({ job }) => job.outstanding().length > 0) ||
      wallet.owed > 0
    ) {
      activity = now;
      quietSince = Date.now();
    }
    if (Date.now() > end) throw new Error('the jobs did not settle');
  }
  stop.abort();
  await Promise.all(working);
  await owner.stop();

  const log = await checkLog({
    peer: me,
    checkpoint: await openCheckpoint(ledger.log.checkpoint()),
    leaves: ledger.log.entries(0, ledger.log.size),
  });
  return {
    balance: ledger.balance(grant),
    held: wallet.committed,
    books: accounts([log], { grant }).get(me)!,
    receipts: log.entries.flatMap((e) => (e.type === 'receipt' ? [e.receipt] : [])),
    accepted: settled.filter((s) => s.settlement === 'accepted'),
    ...seen,
  };
}

/** What every run must show: never below 0, to the last credit, nothing void, paid in full. */
function expectSolvent(
  r: Awaited<ReturnType<typeof toTheLastCredit>>,
  jobs: { job: OwnerJob; js: JobSpec }[],
) {
  console.log(
    `${r.accepted.length} results paid, ${r.balance} µcredits left (${r.held} held), lowest ${r.lowest}; ${r.leasesWhileOwed} leases made while payments were owed`,
  );
  expect(r.lowest).toBeGreaterThanOrEqual(0);
  expect(r.balance - r.held).toBeGreaterThanOrEqual(0);
  // To the last credit: what is free pays for less than any job's costliest shard (all the
  // copies it pays for).
  const costliest = jobs.map(
    ({ job, js }) => paidCopies(js) * creditFor(largestShardFlops(job), PRICE),
  );
  expect(r.balance - r.held).toBeLessThan(Math.min(...costliest));
  // The audit's issuance rule voids nothing and agrees with the tab's own books.
  expect(r.books.voided).toEqual([]);
  expect(BigInt(r.books.balance)).toBe(BigInt(r.balance)); // number or bigint µcredits
  // Every accepted result was paid once, in full: its shard's FLOPs at the job's price.
  expect(r.receipts).toHaveLength(r.accepted.length);
  for (const s of r.accepted) {
    const got = r.receipts.filter(
      (x) => x.jobId === s.jobId && x.shardId === s.shardId && x.contributor === s.contributor,
    );
    expect(got).toHaveLength(1);
    expect(got[0]!.credit).toBeGreaterThan(0);
    expect(got[0]!.credit).toBe(creditFor(got[0]!.flops, PRICE));
  }
}

test('two matmul jobs of one owner, blocks of two sizes, six contributors: never overdrawn', async () => {
  // 15 and 12 shards, edge blocks smaller than the rest: 313,344 µcredits against 200,000.
  const jobs = (
    [
      ['a', 72, 32, 40],
      ['b', 48, 24, 56],
    ] as const
  ).map(([id, m, k, n]) => {
    const p = randomProblem(m, k, n, seededRng(m));
    const js: JobSpec = { kind: 'matmul', spec: { ...p, blockRows: 16, blockCols: 16 } };
    return { job: new MatmulOwnerJob(id, p, planBlocks(m, n, 16, 16)) as OwnerJob, js };
  });
  const r = await toTheLastCredit(200_000, jobs, 3, async (l) => {
    if (l.work.kind !== 'matmul') throw new Error('not a matmul');
    const { a, b, m, n } = l.work;
    return { kind: 'matmul', rows: m, cols: n, c: Float32Array.from(matmulF64(a, b, l.work)) };
  });
  expectSolvent(r, jobs);
  expect(r.leasesWhileOwed).toBeGreaterThan(0); // the race a reservation closes did happen
  expect(jobs.every(({ job }) => !job.done && job.doneCount > 0)).toBe(true);
}, 30_000);

test('inference with two copies a shard, sequences of many lengths: each copy paid, never overdrawn', async () => {
  const file = tinyModelFiles(61);
  const owner = referenceEngine();
  const digest = (await owner.loadModel(file)).digest;
  const sequences = Array.from({ length: 24 }, (_, i) =>
    Uint32Array.from({ length: 2 + ((i * 7) % 15) }, (_, j) => (i * 5 + j) % tinySummary.vocab),
  );
  const spec: InferenceSpec = {
    modelDigest: digest,
    model: tinySummary,
    sequences,
    mode: 'logits',
    steps: 0,
    temperature: 0,
    seed: 8,
    perShard: 2,
    policy: { ...defaultPolicy('logits'), canaryRate: 0.25, spotCheckRate: 0 },
  };
  const job = new InferenceOwnerJob('inf', spec, { engine: owner, rng: seededRng(4) });
  const js: JobSpec = { kind: 'inference', spec };
  // Every shard paid for, two copies each (a canary one), would cost 102,161,152 µcredits.
  const r = await toTheLastCredit(60_000_000, [{ job, js }], 4, (l) => {
    if (l.work.kind !== 'inference') throw new Error('not inference');
    return computeInference(l.work, owner);
  });
  expectSolvent(r, [{ job, js }]);
  expect(job.done).toBe(false);
  // Copies that agreed were both paid: a result waits for its twin after its lease ended.
  const copies = new Map<number, number>();
  for (const s of r.accepted) copies.set(s.shardId, (copies.get(s.shardId) ?? 0) + 1);
  expect([...copies.values()].some((n) => n === 2)).toBe(true);
}, 30_000);
