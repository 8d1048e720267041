// The workloads bench's mesh part (scripts/bench.mjs --only workloads): a researcher (a Node
// owner running the Mesh as a tab does, on the CPU engine with one thread) submits data-set jobs
// (src/jobs/rows.ts) to 1, 2 and 4 headless contributors (bench/workloads-contributor.ts, one
// process each, one CPU-engine thread, budget 0.4), and computes the same shards alone on its
// own engine. Reports rows/s, speedup_N (rows/s with N contributors ÷ rows/s alone), and the
// owner's verification cost as time and as work.
import '../src/relay/polyfills';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import 'fake-indexeddb/auto';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { matmulKernelDigest } from '../src/gpu/matmul';
import type { InferenceWork } from '../src/jobs/codec';
import { computeInference } from '../src/jobs/inference-compute';
import { planShards, shardWork } from '../src/jobs/inference-spec';
import type { VerificationReport } from '../src/jobs/job';
import { buildRowsSpec, MODE_OF, type RowKind, rowsPerShard } from '../src/jobs/rows';
import { LocalLedger } from '../src/ledger/local';
import { Mesh } from '../src/mesh/mesh';
import { parseConfig } from '../src/model/hf/config';
import { type ModelSummary, modelSummary } from '../src/model/hf/cost';
import { seededRng } from '../src/model/rng';
import { BooksPort } from '../src/peer/books-port';
import { createComputeApi } from '../src/worker/api';
import { type BenchModelName, benchCheckpointFiles } from './models-checkpoints';
import { benchWeightsAs } from './workloads-models';

/** The contributors' share of wall time (so that four fit in two cores). */
export const CONTRIBUTOR_BUDGET = 0.4;
/** What the researcher pays (credits per GFLOP): the owner's books hold a new peer's grant
 * only (DEFAULT_PARAMS.grant, 10 credits), which at START_PRICE (1 per GFLOP) would stop the
 * first 1.4-TFLOP job after 10 GFLOP; at this price the whole bench spends under 1 credit. */
export const BENCH_TERMS = { price: 1e-4, budget: Number.POSITIVE_INFINITY };
/** Contributor counts measured. */
export const CONTRIBUTOR_COUNTS = [1, 2, 4] as const;

/** One workload: a model and rows of token ids. */
export interface Workload {
  kind: RowKind;
  model: BenchModelName;
  /** num_hidden_layers when not the repository's (29 of SmolLM2's 30: the committed figures ran
   * when a contributor's DEFAULT_MAX_MODEL_BYTES was 256 MiB, under its 269 MB; see the README). */
  layers?: number;
  rows: number;
  tokensPerRow: number;
  maxNewTokens?: number;
}

export interface WorkloadsMeshOptions {
  relay: string;
  /** The built bench/workloads-contributor.ts. */
  contributorScript: string;
  workloads: Workload[];
  /** Environment for the contributor processes (Dawn's, for the engine's adapter probe). */
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

export interface RunFigures {
  contributors: number;
  wall_ms: number;
  rows_per_s: number;
  speedup: number;
  shards: number;
  rows_checked: number;
  verify_ms: number;
  compute_ms: number;
  reported_compute_ms: number;
  /** report.verifyMs ÷ report.computeMs (the owner's time beside the contributors', lease to
   * result as the owner saw it). */
  verify_over_compute_time: number;
  /** report.checkFlops ÷ report.computeFlops. */
  verify_over_compute_work: number;
  rejected: number;
}

export interface WorkloadFigures {
  kind: RowKind;
  model: string;
  shape_of: string;
  layers: number;
  weights: string;
  rows: number;
  tokens_per_row: number;
  max_new_tokens?: number;
  per_shard: number;
  shards: number;
  check_rows_per_shard: number;
  alone: { wall_ms: number; rows_per_s: number };
  runs: RunFigures[];
  speedup_1?: number;
  speedup_2?: number;
  speedup_4?: number;
}

/** Runs every workload alone and on 1, 2 and 4 contributors; resolves with the figures. */
export async function workloadsMesh(o: WorkloadsMeshOptions): Promise<WorkloadFigures[]> {
  const log = o.log ?? (() => {});
  const engine = createComputeApi({ engine: 'cpu', cpu: { threads: 1 } });
  const info = await engine.setEngine('cpu');
  // Contributors run the same engine: the owner cuts shards for one of them.
  const gflops = (await engine.benchmark([512], 3))[0]!.gflops;
  log(`  the owner's engine: ${info.identity}, one thread, ${gflops.toFixed(1)} GFLOP/s at 512³`);
  const key = await generateKeyPair('Ed25519');
  const peer = peerIdFromPrivateKey(key).toString();
  const owner = await Mesh.start({
    config: { relays: [o.relay], iceServers: [] },
    privateKey: key,
    engine,
    adapter: info.identity,
    kernelDigest: await matmulKernelDigest(),
    maxBufferBytes: info.maxBindingBytes,
    contribute: false,
    ledger: new BooksPort(await LocalLedger.open(key, peer, `owner-${peer}`)),
  });
  try {
    const out: WorkloadFigures[] = [];
    for (const w of o.workloads) out.push(await runWorkload(w, o, owner, engine, gflops, log));
    return out;
  } finally {
    await owner.stop();
    await engine.dispose();
  }
}

async function runWorkload(
  w: Workload,
  o: WorkloadsMeshOptions,
  owner: Mesh,
  engine: ReturnType<typeof createComputeApi>,
  gflops: number,
  log: (line: string) => void,
): Promise<WorkloadFigures> {
  const { model: bench, files } = benchCheckpointFiles(w.model, 1, w.layers);
  const shipped = benchWeightsAs(files, w.model);
  // Held as a researcher's model is: checked, digested, served to contributors.
  const digest = await owner.models.add(Object.fromEntries(shipped), w.model);
  const summary = modelSummary(
    parseConfig(JSON.parse(new TextDecoder().decode(files.get('config.json')!))),
  );
  const rows = benchRows(w, summary);
  const steps = w.maxNewTokens ?? 0;
  // Shards cut as the owner cuts them for the slowest contributor it has seen.
  const perShard = rowsPerShard(
    { model: summary, mode: MODE_OF[w.kind], steps, sequences: rows },
    gflops,
  );
  const request = {
    rows,
    perShard,
    ...(w.kind === 'generate' ? { maxNewTokens: steps, temperature: 0 } : {}),
  };
  const spec = buildRowsSpec(
    w.kind,
    { ...request, modelDigest: digest, model: summary },
    seededRng(7),
  );
  const defs = planShards(spec);
  log(
    `\n  ${w.kind} on ${bench.shapeOf} (${bench.config.num_hidden_layers} layers): ${rows.length} rows × ${w.tokensPerRow} tokens${steps ? ` + ${steps} generated` : ''}, ${defs.length} shards of ≤ ${perShard}, ${spec.policy.checkRows} checked each`,
  );
  // The researcher alone: the same shards, one after another, on the owner's engine (after one
  // untimed, as the contributors' warm-up job below).
  const real = defs.filter((d) => !d.canary);
  const shard = (d: (typeof defs)[number]) =>
    computeInference(shardWork(spec, d, new Uint32Array(0)) as InferenceWork, engine);
  await shard(real[0]!);
  const t0 = performance.now();
  for (const d of real) await shard(d);
  const aloneMs = performance.now() - t0;
  const alone = { wall_ms: aloneMs, rows_per_s: (rows.length / aloneMs) * 1000 };
  log(`    alone: ${(aloneMs / 1000).toFixed(1)} s, ${alone.rows_per_s.toFixed(2)} rows/s`);
  const runs: RunFigures[] = [];
  const preload = `${w.model}${w.layers ? `:${w.layers}` : ''}`;
  for (const n of CONTRIBUTOR_COUNTS) {
    // Fresh contributors for each run: an idle one's shard stream to the owner would time out
    // (bench/README.md says what that does to the next job).
    const dir = mkdtempSync(join(tmpdir(), 'tessel-workloads-'));
    const crew = await Promise.all(
      Array.from({ length: n }, (_, i) => startContributor(o, join(dir, String(i)), preload)),
    );
    try {
      for (const c of crew) c.send('on');
      // Warm-up: each takes part once (the first dials, its engine's first run of the model).
      const warm = { ...request, rows: rows.slice(0, n * 2), perShard: 1 };
      await (await owner.submitRows(w.kind, { ...warm, model: { digest } }, BENCH_TERMS)).done;
      const t = performance.now();
      const run = await owner.submitRows(w.kind, { ...request, model: { digest } }, BENCH_TERMS);
      const watch = setInterval(() => {
        const p = run.job.progress();
        log(`      … ${JSON.stringify(p)} after ${((performance.now() - t) / 1000).toFixed(0)} s`);
      }, 60_000);
      const { report } = await run.done.finally(() => clearInterval(watch));
      const wall = performance.now() - t;
      const r = figures(n, wall, rows.length, alone.rows_per_s, report);
      runs.push(r);
      log(
        `    ${n} contributor(s): ${(wall / 1000).toFixed(1)} s, ${r.rows_per_s.toFixed(2)} rows/s, speedup ${r.speedup.toFixed(2)}, checks ${(100 * r.verify_over_compute_time).toFixed(1)}% of compute time, ${(100 * r.verify_over_compute_work).toFixed(1)}% of its FLOPs`,
      );
    } finally {
      await Promise.all(crew.map((c) => c.stop()));
    }
  }
  const speedups = Object.fromEntries(runs.map((r) => [`speedup_${r.contributors}`, r.speedup]));
  return {
    kind: w.kind,
    model: w.model,
    shape_of: bench.shapeOf,
    layers: Number(bench.config.num_hidden_layers),
    weights: w.model === 'smollm2' ? 'BF16' : 'F32',
    rows: rows.length,
    tokens_per_row: w.tokensPerRow,
    ...(steps ? { max_new_tokens: steps } : {}),
    per_shard: perShard,
    shards: defs.length,
    check_rows_per_shard: spec.policy.checkRows ?? 0,
    alone,
    runs,
    ...speedups,
  };
}

function figures(
  n: number,
  wall: number,
  rows: number,
  aloneRate: number,
  r: VerificationReport,
): RunFigures {
  const rate = (rows / wall) * 1000;
  return {
    contributors: n,
    wall_ms: wall,
    rows_per_s: rate,
    speedup: rate / aloneRate,
    shards: r.shards,
    rows_checked: r.rowsChecked,
    verify_ms: r.verifyMs,
    compute_ms: r.computeMs,
    reported_compute_ms: r.reportedComputeMs,
    verify_over_compute_time: r.computeMs > 0 ? r.verifyMs / r.computeMs : 0,
    verify_over_compute_work: r.computeFlops > 0 ? r.checkFlops / r.computeFlops : 0,
    rejected: r.rejected,
  };
}

/**
 * Rows of token ids as a tokenizer gives them: an encoder's [CLS] … [SEP] (BERT's ids 101, 102)
 * around ids from the vocabulary's word range; a decoder's prompt of ordinary ids.
 */
export function benchRows(w: Workload, model: ModelSummary): Uint32Array[] {
  const rng = seededRng(0x5eed ^ w.rows);
  const word = () => 1_000 + (rng.nextUint32() % (model.vocab - 1_000));
  return Array.from({ length: w.rows }, () => {
    const row = Uint32Array.from({ length: w.tokensPerRow }, word);
    if (model.family === 'bert') {
      row[0] = 101;
      row[row.length - 1] = 102;
    }
    return row;
  });
}

interface Contributor {
  gflops: number;
  send(line: 'on' | 'off'): void;
  /** Stops it (SIGTERM: held leases given back) and waits for its process to end. */
  stop(): Promise<void>;
}

async function startContributor(
  o: WorkloadsMeshOptions,
  data: string,
  preload: string,
): Promise<Contributor> {
  const args = [o.contributorScript, '--relay', o.relay, '--data', data];
  args.push('--budget', String(CONTRIBUTOR_BUDGET), '--preload', preload);
  const child: ChildProcess = spawn(process.execPath, args, {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, ...o.env },
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const ready = await new Promise<{ gflops: number }>((resolve, reject) => {
    void exited.then(() => reject(new Error('a contributor exited before it was ready')));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = JSON.parse(line) as { type: string; gflops: number };
      if (m.type === 'ready') resolve(m);
    });
  });
  return {
    gflops: ready.gflops,
    send: (line) => child.stdin!.write(`${line}\n`),
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}
