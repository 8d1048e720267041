// The data-set kinds' verification, simulated without the mesh (scripts/bench.mjs --only
// workloads): the owner's real job (src/jobs/kinds.ts createJob, kinds embed / score /
// generate, the default policy) driven on a virtual clock by contributors computing on real
// engines: the CPU engine (src/worker's ComputeApi in Node, one thread) and the float64
// reference (tests/support/model-fixture.ts referenceEngine). The owner's own engine
// alternates between the two from job to job, so honest copies are judged across engines.
//
// Checkpoints are small (2 layers, width 64, a vocabulary of 1,024) in the layout and the
// initialisation of the real ones (bench/models-checkpoints.ts: an all-MiniLM-L6-v2-shaped
// BERT with its sentence-transformers pooling, a SmolLM2-shaped Llama), so that 10⁶ rows run in
// minutes. Jobs are cut as the mesh cuts the real-shaped models' jobs (rowsPerShard for
// all-MiniLM-L6-v2 / SmolLM2-135M at the speed the owner assumes of contributors it has not
// seen), and as it cuts a job into its fewest shards (MIN_SHARDS).
//
// A faker computes honestly and replaces FAKE_SHARE of its rows, each row independently: an
// embedding by a random unit vector, a score by a guess from the row's length (a uniform
// model's −(len − 1)·ln vocab), a generation by random tokens from its middle on.
import type { InferenceWork, Output } from '../src/jobs/codec';
import { computeInference } from '../src/jobs/inference-compute';
import { FAKE_SHARE, type InferenceSpec } from '../src/jobs/inference-spec';
import type { Engine, OwnerJob, Settlement } from '../src/jobs/job';
import { buildJobSpec, createJob } from '../src/jobs/kinds';
import { OwnerTrust } from '../src/jobs/owner-trust';
import { MODE_OF, type RowKind, rowsPerShard } from '../src/jobs/rows';
import { MIN_SHARDS } from '../src/jobs/shard-size';
import { parseConfig } from '../src/model/hf/config';
import { type ModelSummary, modelSummary } from '../src/model/hf/cost';
import { type Rng, seededRng } from '../src/model/rng';
import { createComputeApi } from '../src/worker/api';
import { referenceEngine } from '../tests/support/model-fixture';
import { realSummary, smallCheckpoint } from './workloads-models';
import { cachedCompute, fake, type RowOutput } from './workloads-rows';

/** Rows per simulated job (the floor for the catch target). */
export const CATCH_JOB_ROWS = 1_000;
/** Rounds of asking before a job counts as stuck. */
const MAX_ROUNDS = 2_000;

type EngineName = 'cpu' | 'reference';

export interface CatchOptions {
  /** Jobs per kind and cut in which a faker works alone (the catch rate per job). They share
   * one data set, so the faker's honest rows are computed once and reused (the owner's draws
   * and the faker's choice of rows are fresh in every job). */
  fakerAloneJobs: number;
  /** Jobs per kind in which a faker works beside two honest contributors, per cut (fresh rows
   * in every job). */
  mixedJobs: number[];
  /** Jobs per kind with honest contributors only (the policy's cost; honest shards), per cut. */
  honestJobs: number[];
  /** Tokens generated per row (generate). */
  steps: number;
  seed?: number;
  log?: (line: string) => void;
}

export interface CatchFigures {
  kind: RowKind;
  cut: string;
  rows_per_job: number;
  per_shard: number;
  shards: number;
  check_rows_per_shard: number;
  /** Faker alone: jobs in which it faked a row, and those in which it was caught. */
  alone_jobs: number;
  alone_caught: number;
  alone_catch_rate: number;
  /** Faker beside two honest contributors (one per engine). */
  mixed_jobs: number;
  mixed_caught: number;
  mixed_catch_rate: number;
  /** Faked rows left in verified outputs once the mixed jobs were done (target 0: a caught
   * contributor's shards are all redone). */
  faked_rows_left: number;
  /** Honest shards verified, of them judged by the other engine, and honest results rejected. */
  honest_shards: number;
  honest_shards_cross_engine: number;
  honest_rejected: number;
  /** checkFlops ÷ computeFlops and rows checked ÷ rows, over the honest-only jobs. */
  check_cost_share: number;
  rows_checked_share: number;
  /** Wall time of this kind and cut's simulation, and of its faker-alone jobs (s). */
  wall_s?: number;
  alone_wall_s?: number;
}

/** Every kind at both cuts; resolves with one row of figures each. */
export async function catchRates(o: CatchOptions): Promise<CatchFigures[]> {
  const log = o.log ?? (() => {});
  const cpu = createComputeApi({ engine: 'cpu', cpu: { threads: 1 } });
  await cpu.setEngine('cpu');
  const reference = referenceEngine();
  const engines: Record<EngineName, Engine> = { cpu, reference };
  const out: CatchFigures[] = [];
  try {
    for (const kind of ['embed', 'score', 'generate'] as const) {
      const files = smallCheckpoint(kind === 'embed' ? 'minilm' : 'smollm2');
      const digest = (await cpu.loadModel(files)).digest;
      await reference.loadModel(files);
      const summary = modelSummary(
        parseConfig(JSON.parse(new TextDecoder().decode(files['config.json']!))),
      );
      const steps = kind === 'generate' ? o.steps : 0;
      for (const [c, cut] of cuts(kind, steps).entries()) {
        const t0 = performance.now();
        const r = await runCut(kind, cut, { digest, summary, steps, engines }, o, c);
        r.wall_s = (performance.now() - t0) / 1000;
        out.push(r);
        log(
          `  ${kind.padEnd(8)} ${cut.name.padEnd(34)} ${r.shards} shards, ${r.check_rows_per_shard} checked each: faker alone caught in ${r.alone_caught}/${r.alone_jobs}, beside honest ${r.mixed_caught}/${r.mixed_jobs}; faked rows left ${r.faked_rows_left}; honest shards ${r.honest_shards} (${r.honest_shards_cross_engine} cross-engine), rejected ${r.honest_rejected}; checks ${(100 * r.check_cost_share).toFixed(2)}% of the FLOPs (${r.wall_s.toFixed(0)} s, faker alone ${r.alone_wall_s?.toFixed(0)} s)`,
        );
      }
    }
  } finally {
    await cpu.dispose();
  }
  return out;
}

interface Cut {
  name: string;
  perShard: number;
}

/** The mesh's cut of a real-shaped model's job at the speed assumed of unseen contributors,
 * and a job's fewest shards. */
function cuts(kind: RowKind, steps: number): Cut[] {
  const real = realSummary(kind === 'embed' ? 'minilm' : 'smollm2');
  const sequences = Array.from({ length: CATCH_JOB_ROWS }, () => new Uint32Array(24));
  const mesh = rowsPerShard({ model: real, mode: MODE_OF[kind], steps, sequences });
  return [
    { name: `real shape, unseen contributors`, perShard: mesh },
    { name: `${MIN_SHARDS} shards (the fewest)`, perShard: Math.ceil(CATCH_JOB_ROWS / MIN_SHARDS) },
  ];
}

interface Model {
  digest: string;
  summary: ModelSummary;
  steps: number;
  engines: Record<EngineName, Engine>;
}

interface Peer {
  id: string;
  engine: EngineName;
  /** Share of rows faked (0: honest). */
  fakes: number;
}

async function runCut(
  kind: RowKind,
  cut: Cut,
  m: Model,
  o: CatchOptions,
  c: number,
): Promise<CatchFigures> {
  const rng = seededRng((o.seed ?? 1) ^ (cut.perShard * 7919) ^ kind.length);
  const trust = new OwnerTrust();
  const honest: Peer[] = [
    { id: 'honest-cpu', engine: 'cpu', fakes: 0 },
    { id: 'honest-reference', engine: 'reference', fakes: 0 },
  ];
  const f: CatchFigures = {
    kind,
    cut: cut.name,
    rows_per_job: CATCH_JOB_ROWS,
    per_shard: cut.perShard,
    shards: 0,
    check_rows_per_shard: 0,
    alone_jobs: 0,
    alone_caught: 0,
    alone_catch_rate: 0,
    mixed_jobs: 0,
    mixed_caught: 0,
    mixed_catch_rate: 0,
    faked_rows_left: 0,
    honest_shards: 0,
    honest_shards_cross_engine: 0,
    honest_rejected: 0,
    check_cost_share: 0,
    rows_checked_share: 0,
  };
  let checkFlops = 0;
  let computeFlops = 0;
  let rowsChecked = 0;
  let rowsDone = 0;
  const plan = [
    ...Array.from({ length: o.fakerAloneJobs }, () => 'alone' as const),
    ...Array.from({ length: o.mixedJobs[c] ?? 0 }, () => 'mixed' as const),
    ...Array.from({ length: o.honestJobs[c] ?? 0 }, () => 'honest' as const),
  ];
  // The faker-alone jobs' one data set (greedy), and its honest rows by engine once computed.
  const shared = rowsOf(m, rng);
  const cache: Record<EngineName, Map<string, RowOutput>> = {
    cpu: new Map(),
    reference: new Map(),
  };
  const t0 = performance.now();
  for (const [j, scenario] of plan.entries()) {
    if (j === o.fakerAloneJobs) f.alone_wall_s = (performance.now() - t0) / 1000;
    // The owner alternates engines, except with a faker alone: there it is the CPU engine, so
    // that the whole shards it recomputes after a catch take milliseconds (the faker still
    // computes on either engine, so its honest rows are judged across engines half the time).
    const ownerEngine: EngineName = j % 2 && scenario !== 'alone' ? 'reference' : 'cpu';
    const faker: Peer = {
      id: `faker-${j}`,
      engine: rng.nextUint32() % 2 ? 'reference' : 'cpu',
      fakes: FAKE_SHARE,
    };
    const peers =
      scenario === 'alone' ? [faker] : scenario === 'mixed' ? [...honest, faker] : honest;
    const alone = scenario === 'alone';
    const rows = alone ? shared : rowsOf(m, rng);
    const spec = jobSpec(kind, m, cut.perShard, rng, rows, !alone && j % 4 === 3);
    const job = createJob(
      `job-${j}`,
      { kind, spec },
      {
        engine: m.engines[ownerEngine],
        rng: seededRng(rng.nextUint32()),
        trust,
      },
    );
    f.shards = job.shardCount;
    f.check_rows_per_shard = spec.policy.checkRows ?? 0;
    const out = await drive(job, peers, m, rng, faker.id, alone ? cache : undefined);
    if (out.faked > 0 && scenario !== 'honest') {
      const caught = out.revoked.has(faker.id);
      if (scenario === 'alone') {
        f.alone_jobs++;
        if (caught) f.alone_caught++;
      } else {
        f.mixed_jobs++;
        if (caught) f.mixed_caught++;
      }
    }
    if (scenario === 'mixed') f.faked_rows_left += out.fakedLeft;
    f.honest_rejected += out.honestRejected;
    f.honest_shards += out.honestAccepted;
    f.honest_shards_cross_engine +=
      out.honestAcceptedBy.get(ownerEngine === 'cpu' ? 'reference' : 'cpu') ?? 0;
    if (scenario === 'honest') {
      const r = job.report();
      checkFlops += r.checkFlops;
      computeFlops += r.computeFlops;
      rowsChecked += r.rowsChecked;
      rowsDone += spec.sequences.length;
    }
    job.close?.();
  }
  // An honest contributor caught once counts once more (its later shards are refused).
  for (const h of honest) if (trust.isCaught(h.id)) f.honest_rejected++;
  f.alone_catch_rate = f.alone_jobs ? f.alone_caught / f.alone_jobs : 0;
  f.mixed_catch_rate = f.mixed_jobs ? f.mixed_caught / f.mixed_jobs : 0;
  f.check_cost_share = computeFlops ? checkFlops / computeFlops : 0;
  f.rows_checked_share = rowsDone ? rowsChecked / rowsDone : 0;
  return f;
}

/** CATCH_JOB_ROWS rows of 8 to 24 tokens. */
function rowsOf(m: Model, rng: Rng): Uint32Array[] {
  const { vocab } = m.summary;
  return Array.from({ length: CATCH_JOB_ROWS }, () =>
    Uint32Array.from(
      { length: 8 + (rng.nextUint32() % 17) },
      () => 3 + (rng.nextUint32() % (vocab - 3)),
    ),
  );
}

/** A job over `rows`, built as the mesh builds it (default policy); a generation samples when
 * `sampled` (seeded; a quarter of the mixed and honest jobs), else it is greedy. */
function jobSpec(
  kind: RowKind,
  m: Model,
  perShard: number,
  rng: Rng,
  rows: Uint32Array[],
  sampled: boolean,
): InferenceSpec {
  const js = buildJobSpec(
    kind,
    {
      modelDigest: m.digest,
      model: m.summary,
      rows,
      perShard,
      ...(kind === 'generate'
        ? { maxNewTokens: m.steps, temperature: sampled ? 0.8 : 0, stopTokens: [] }
        : {}),
    },
    rng,
  );
  return js.spec as InferenceSpec;
}

interface Driven {
  revoked: Set<string>;
  faked: number;
  fakedLeft: number;
  honestRejected: number;
  honestAccepted: number;
  honestAcceptedBy: Map<EngineName, number>;
}

/** Contributors take turns (a fresh random order each round) on a virtual clock until the job
 * is done, or until nobody is left who may work on it. */
async function drive(
  job: OwnerJob,
  peers: Peer[],
  m: Model,
  rng: Rng,
  fakerId: string,
  cache?: Record<EngineName, Map<string, RowOutput>>,
): Promise<Driven> {
  const revoked = new Set<string>();
  const fakedIn = new Map<Output, number>();
  const final = new Map<number, Output>();
  const engineOf = new Map(peers.map((p) => [p.id, p.engine]));
  const d: Driven = {
    revoked,
    faked: 0,
    fakedLeft: 0,
    honestRejected: 0,
    honestAccepted: 0,
    honestAcceptedBy: new Map(),
  };
  job.onSettled = (s: Settlement) => {
    for (const x of s.revoke ?? []) revoked.add(x.contributor);
    if (s.shard) final.set(s.shard.shardId, s.shard.output);
    for (const v of s.verdicts) {
      if (v.contributor === fakerId) continue;
      if (v.settlement === 'rejected') d.honestRejected++;
      if (v.settlement === 'accepted') {
        d.honestAccepted++;
        const e = engineOf.get(v.contributor)!;
        d.honestAcceptedBy.set(e, (d.honestAcceptedBy.get(e) ?? 0) + 1);
      }
    }
  };
  let t = 0;
  for (let round = 0; round < MAX_ROUNDS && !job.done; round++) {
    const order = peers.filter((p) => !revoked.has(p.id));
    if (order.length === 0) break;
    for (let i = order.length - 1; i > 0; i--) {
      const k = rng.nextUint32() % (i + 1);
      [order[i], order[k]] = [order[k]!, order[i]!];
    }
    for (const p of order) {
      const info = {
        id: p.id,
        gflops: 1,
        bytesPerSec: 0,
        maxBufferBytes: 2 ** 30,
        adapter: p.engine,
      };
      const offer = job.offer(info, t);
      if (offer.kind !== 'lease') continue;
      const work = offer.work as InferenceWork;
      let output = cache
        ? await cachedCompute(work, m.engines[p.engine], m.summary.hidden, cache[p.engine])
        : await computeInference(work, m.engines[p.engine]);
      if (p.fakes > 0) {
        const faked = fake(output, work, m.summary, p.fakes, rng);
        output = faked.output;
        d.faked += faked.rows;
        if (faked.rows) fakedIn.set(output, faked.rows);
      }
      await job.submit(offer.lease.leaseId, p.id, output, 1, t);
    }
    t += 250;
    job.expire(t);
    await new Promise((r) => setTimeout(r, 0)); // owner re-checks started by a revocation
  }
  for (const out of final.values()) d.fakedLeft += fakedIn.get(out) ?? 0;
  return d;
}
