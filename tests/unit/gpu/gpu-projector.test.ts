import { describe, expect, test } from 'vitest';
import { isGpuError } from '../../../src/gpu/errors';
import { Matmul } from '../../../src/gpu/matmul';
import {
  type Block,
  type MatmulProblem,
  type ProjectionRequest,
  type Projections,
  type Projector,
  projectJs,
} from '../../../src/gpu/projection';
import { gpuProjector } from '../../../src/gpu/projector';
import { drawWeights, type FreivaldsOptions, verifyBlock } from '../../../src/jobs/freivalds';
import { type Rng, seededRng } from '../../../src/model/rng';
import { matmulF64, U_F32 } from '../../../src/reference/matmul';
import { randomMatrix, useGpu } from '../../support/gpu-fixture';
import { type Inputs, inputs, oneElementOff, toHalf } from '../../support/structured-inputs';

// The WebGPU projector (src/gpu/projector.ts) on Dawn + SwiftShader: its float32 projections are
// within the error it declares of the float64 reference (projectJs) on random, structured, tiny
// and odd-shaped inputs, the sums that feed bounds are never under the reference's, values that
// could overflow float32 go to float64, and verdicts with it accept honest GPU products and
// reject the cheats of tests/unit/jobs/verdicts.test.ts.

const gpu = useGpu();

const gamma = (len: number) => (len * U_F32) / (1 - len * U_F32);

function request(
  problem: MatmulProblem,
  block: Block,
  claimed: Float32Array,
  rng: Rng,
  vectors = 2,
  groupCols = 64,
): ProjectionRequest {
  const r = drawWeights(rng, vectors * block.cols);
  return { problem, block, claimed, r, vectors, groupCols };
}

/** The claimed block of an exact product, rounded to float32 (an honest-looking result). */
function exactBlock(p: MatmulProblem, { row0, rows, col0, cols }: Block): Float32Array {
  const c = matmulF64(p.a, p.b, p);
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) out[i * cols + j] = c[(row0 + i) * p.n + col0 + j]!;
  }
  return out;
}

/**
 * What the verdict relies on: each of abr and cr within the float32 error the projector declares,
 * 1.5·γ(k+gw+2)·(absAB + √(w·cSq)), of the float64 reference (judged with the GPU's own bound
 * inputs, as the verdict does); absAB, sqAB, cSq never under the reference, and only slightly over.
 */
function expectWithinDeclared(
  req: ProjectionRequest,
  got: Projections,
  want: Projections,
  slack = 1e-30,
) {
  const { k } = req.problem;
  const { rows, cols } = req.block;
  const gw = req.groupCols;
  const groups = Math.ceil(cols / gw);
  const vg = req.vectors * groups;
  expect(got.unitRoundoff).toBe(U_F32);
  const G = gamma(k + gw + 2);
  const over = (x: number, ref: number, what: string) => {
    expect(x, what).toBeGreaterThanOrEqual(ref);
    expect(x, what).toBeLessThanOrEqual(ref * (1 + 8 * G) + slack);
  };
  let worst = 0;
  for (let i = 0; i < rows; i++) {
    over(got.absAB[i]!, want.absAB[i]!, `absAB ${i}`);
    over(got.sqAB[i]!, want.sqAB[i]!, `sqAB ${i}`);
    for (let g = 0; g < groups; g++) {
      const w = Math.min(gw, cols - g * gw);
      const cSq = got.cSq[i * groups + g]!;
      over(cSq, want.cSq[i * groups + g]!, `cSq ${i},${g}`);
      for (let v = 0; v < req.vectors; v++) {
        const t = i * vg + v * groups + g;
        const errAbr = Math.abs(got.abr[t]! - want.abr[t]!);
        const errCr = Math.abs(got.cr[t]! - want.cr[t]!);
        const bound = 1.5 * G * (got.absAB[i]! + Math.sqrt(w * cSq));
        expect(errAbr + errCr, `row ${i} projection ${t}`).toBeLessThanOrEqual(bound);
        if (bound > 0) worst = Math.max(worst, (errAbr + errCr) / bound);
      }
    }
  }
  return worst;
}

async function compare(
  project: Projector,
  p: MatmulProblem,
  block: Block,
  seed: number,
  vectors = 2,
  groupCols = 64,
  slack?: number,
) {
  const req = request(p, block, exactBlock(p, block), seededRng(seed), vectors, groupCols);
  return expectWithinDeclared(req, await project(req), projectJs(req), slack);
}

const random = (m: number, k: number, n: number, seed: number): MatmulProblem => ({
  a: randomMatrix(m * k, seed),
  b: randomMatrix(k * n, seed + 1),
  m,
  k,
  n,
});

describe('GPU projections match the float64 reference within their declared error', () => {
  test.each([
    // m, k, n, block, vectors, groupCols: rows/k/cols off the workgroup and vec4 multiples,
    // cols not a multiple of groupCols, blocks away from the origin, groups wider than the block
    [37, 53, 70, { row0: 3, rows: 29, col0: 5, cols: 61 }, 2, 16],
    [37, 53, 70, { row0: 0, rows: 37, col0: 0, cols: 70 }, 3, 7],
    [1, 1, 1, { row0: 0, rows: 1, col0: 0, cols: 1 }, 2, 64],
    [5, 3, 9, { row0: 4, rows: 1, col0: 8, cols: 1 }, 2, 1],
    [130, 257, 200, { row0: 65, rows: 63, col0: 17, cols: 183 }, 2, 64],
    [66, 131, 300, { row0: 1, rows: 65, col0: 0, cols: 300 }, 4, 5],
    [20, 9, 23, { row0: 2, rows: 17, col0: 3, cols: 19 }, 2, 6],
    [20, 9, 23, { row0: 2, rows: 17, col0: 6, cols: 17 }, 3, 4],
  ] as const)('%i×%i×%i %j, %i vectors, groups of %i', async (m, k, n, block, kv, gw) => {
    const project = gpuProjector(gpu.ctx);
    const worst = await compare(project, random(m, k, n, m + k + n), block, k, kv, gw);
    expect(worst).toBeLessThan(1);
    expect(project.stats).toMatchObject({ projected: 1, fallbacks: 0 });
    project.dispose();
  });

  test('structured inputs (tests/support/structured-inputs.ts)', async () => {
    const rng = seededRng(5);
    const project = gpuProjector(gpu.ctx);
    const kinds: Inputs[] = ['uniform', 'positive', 'constant', 'ill-conditioned', 'dynamic-range'];
    for (const kind of kinds) {
      const p = inputs(kind, 40, 130, 96, rng);
      await compare(project, p, { row0: 2, rows: 37, col0: 3, cols: 93 }, 7);
    }
    expect(project.stats.fallbacks).toBe(0);
    project.dispose();
  });

  test('values down at the subnormal range: what flushing to zero loses is still covered', async () => {
    const project = gpuProjector(gpu.ctx);
    for (const scale of [2 ** -64, 2 ** -70]) {
      const p = random(24, 40, 33, 9);
      p.a = p.a.map((x) => x * scale);
      p.b = p.b.map((x) => x * scale);
      // Products ≈ 2⁻¹²⁸ may be flushed: absAB carries the most that can lose, far over its
      // exact value here (≈ 10⁻³⁶), so the over-estimate check gets that much slack.
      await compare(project, p, { row0: 0, rows: 24, col0: 0, cols: 33 }, 3, 2, 16, 1e-26);
    }
    project.dispose();
  });
});

describe("the projector's rounding noise stays inside the verdict's model of it", () => {
  // The verdict flags a row whose residual passes λ·σ, with the projector's own noise modelled
  // as E[r²]·u²·(0.09·k·sqAB + 0.09·w·cSq) (src/jobs/freivalds.ts). One long float32 chain over
  // K has heavy tails (rows whose partial sums run large err 8σ): flagged honest rows, each
  // recomputed in JavaScript. The kernel sums K in blocks; this holds it to the model.
  test('n = 512, groups of 64: rms within the model, no error past 4σ', async () => {
    const n = 512;
    const p = random(n, n, n, 41);
    const block = { row0: 0, rows: n, col0: 0, cols: n };
    const claimed = randomMatrix(n * n, 43).map((x) => 16 * x);
    const req = request(p, block, claimed, seededRng(44));
    const project = gpuProjector(gpu.ctx);
    const [got, want] = [await project(req), projectJs(req)];
    project.dispose();
    let meanSq = 0;
    for (let q = 0; q < 256; q++) meanSq += (1 + q / 512) ** 2 / 256;
    const groups = n / 64;
    const vg = 2 * groups;
    const unit = meanSq * U_F32 ** 2 * 0.09;
    let sum = 0;
    let worst = 0;
    for (let i = 0; i < n; i++) {
      for (let t = 0; t < vg; t++) {
        const zAbr =
          (got.abr[i * vg + t]! - want.abr[i * vg + t]!) ** 2 / (unit * n * want.sqAB[i]!);
        const zCr =
          (got.cr[i * vg + t]! - want.cr[i * vg + t]!) ** 2 /
          (unit * 64 * want.cSq[i * groups + (t % groups)]!);
        sum += zAbr + zCr;
        worst = Math.max(worst, zAbr, zCr);
      }
    }
    expect(sum / (2 * n * vg)).toBeLessThan(1);
    expect(Math.sqrt(worst)).toBeLessThan(4);
  });
});

describe('values that could overflow float32 are projected in float64', () => {
  // 1e30: Σĉ² is infinite in float32 (and every bound with it); 2⁶²: finite, but 64 of them
  // would not be, so the kernel's max |ĉ| sends it to float64 before any sum is trusted.
  test.each([1e30, 2 ** 62])(
    'a claimed element of %d: the reference answer, and rejected',
    async (x) => {
      const project = gpuProjector(gpu.ctx);
      const p = random(32, 48, 40, 21);
      const block = { row0: 0, rows: 32, col0: 0, cols: 40 };
      const claimed = exactBlock(p, block);
      claimed[5 * 40 + 7] = x;
      const req = request(p, block, claimed, seededRng(1));
      expect(await project(req)).toEqual(projectJs(req));
      expect(project.stats).toMatchObject({ projected: 0, fallbacks: 1 });
      const v = await verifyBlock(p, block, claimed, { projector: project, rng: seededRng(2) });
      expect(v).toMatchObject({ accepted: false, reason: 'residual' });
      project.dispose();
    },
  );

  test('inputs whose squares overflow float32', async () => {
    const project = gpuProjector(gpu.ctx);
    const p = random(8, 8, 8, 3);
    p.a[0] = 3e19; // a² = 9e38 > float32's 3.4e38
    const block = { row0: 0, rows: 8, col0: 0, cols: 8 };
    const req = request(p, block, exactBlock(p, block), seededRng(1));
    expect(await project(req)).toEqual(projectJs(req));
    expect(project.stats.fallbacks).toBe(1);
    project.dispose();
  });
});

describe('the projector keeps a problem on the device', () => {
  test('A and B are uploaded once per problem; release, replacement and eviction re-upload', async () => {
    const project = gpuProjector(gpu.ctx, 2);
    const [p1, p2, p3] = [random(16, 20, 24, 1), random(16, 20, 24, 2), random(16, 20, 24, 3)];
    const run = (p: MatmulProblem, row0: number) =>
      compare(project, p, { row0, rows: 8, col0: 4, cols: 8 }, row0);
    await run(p1, 0);
    await run(p1, 8);
    expect(project.stats.uploads).toBe(1);
    const created = gpu.ctx.buffers.created;
    await run(p1, 4);
    expect(gpu.ctx.buffers.created).toBe(created); // per-check buffers come from the pool
    await run(p2, 0);
    await run(p1, 0);
    expect(project.stats.uploads).toBe(2);
    await run(p3, 0); // evicts p2, the least recently used
    await run(p1, 0);
    expect(project.stats.uploads).toBe(3);
    await run(p2, 0);
    expect(project.stats.uploads).toBe(4);
    project.release(p1);
    await run(p1, 0);
    expect(project.stats.uploads).toBe(5);
    p1.b = p1.b.map((x) => -x); // a new B for the same problem object: never the stale one
    await run(p1, 0);
    expect(project.stats.uploads).toBe(6);
    // Concurrent checks of one problem share one upload.
    const p4 = random(16, 20, 24, 4);
    await Promise.all([run(p4, 0), run(p4, 8), run(p4, 4)]);
    expect(project.stats.uploads).toBe(7);
    project.dispose();
    const err = await project(
      request(p1, { row0: 0, rows: 1, col0: 0, cols: 1 }, new Float32Array(1), seededRng(1)),
    ).catch((e: unknown) => e);
    expect(isGpuError(err, 'invalid-argument')).toBe(true);
  });

  test('malformed requests are typed errors', async () => {
    const project = gpuProjector(gpu.ctx);
    const p = random(4, 4, 4, 1);
    const good = request(
      p,
      { row0: 0, rows: 4, col0: 0, cols: 4 },
      new Float32Array(16),
      seededRng(1),
    );
    const bad: ProjectionRequest[] = [
      { ...good, block: { row0: 1, rows: 4, col0: 0, cols: 4 } },
      { ...good, claimed: new Float32Array(15) },
      { ...good, r: good.r.subarray(1) },
      { ...good, r: good.r.map(() => 2) },
      { ...good, groupCols: 0 },
      { ...good, problem: { ...p, k: 5 } },
    ];
    for (const req of bad) {
      const err = await Promise.resolve(project(req)).catch((e: unknown) => e);
      expect(isGpuError(err, 'invalid-argument'), JSON.stringify(req.block)).toBe(true);
    }
    project.dispose();
  });
});

describe('verdicts with the GPU projector at n = 256', () => {
  const n = 256;
  const whole = { row0: 0, rows: n, col0: 0, cols: n };

  /** As an owner decides: an `unresolved` result is checked again with every flagged row. */
  async function verdict(
    p: MatmulProblem,
    block: Block,
    c: Float32Array,
    options: FreivaldsOptions & { projector: Projector },
  ) {
    const v = await verifyBlock(p, block, c, options);
    if (v.reason !== 'unresolved') return v;
    return verifyBlock(p, block, c, { ...options, maxRecomputeRows: Infinity });
  }

  test('honest GPU products are accepted, whole and in shards off the origin', async () => {
    const rng = seededRng(31);
    const projector = gpuProjector(gpu.ctx);
    const mm = new Matmul(gpu.ctx);
    const kinds: Inputs[] = ['uniform', 'positive', 'constant', 'ill-conditioned', 'dynamic-range'];
    for (const kind of kinds) {
      const p = inputs(kind, n, n, n, rng);
      const c = await mm.run(p.a, p.b, p);
      const v = await verdict(p, whole, c, { projector, rng });
      expect(v.accepted, `${kind}: ${JSON.stringify(v)}`).toBe(true);
      const shard = { row0: 64, rows: 128, col0: 96, cols: 160 };
      const part = new Float32Array(shard.rows * shard.cols);
      for (let i = 0; i < shard.rows; i++) {
        part.set(
          c.subarray(
            (shard.row0 + i) * n + shard.col0,
            (shard.row0 + i) * n + shard.col0 + shard.cols,
          ),
          i * shard.cols,
        );
      }
      const vs = await verdict(p, shard, part, { projector, rng });
      expect(vs.accepted, `${kind} shard: ${JSON.stringify(vs)}`).toBe(true);
    }
    expect(projector.stats.fallbacks).toBe(0);
    projector.dispose();
  });

  test('cheats are rejected: f16/bf16 inputs, scaled by 1 ± 10⁻⁴, one element 100× off', async () => {
    const rng = seededRng(32);
    const projector = gpuProjector(gpu.ctx);
    const mm = new Matmul(gpu.ctx);
    for (const kind of ['uniform', 'positive', 'constant', 'ill-conditioned'] as const) {
      const p = inputs(kind, n, n, n, rng);
      const honest = await mm.run(p.a, p.b, p);
      const cheats: [string, Float32Array][] = [];
      if (kind === 'uniform' || kind === 'positive') {
        for (const mantissa of [10, 7]) {
          const half = (x: Float32Array) => x.map((v) => toHalf(v, mantissa));
          cheats.push([`mantissa ${mantissa}`, await mm.run(half(p.a), half(p.b), p)]);
        }
      }
      // An ill-conditioned C is a remainder far below |A||B|: 10⁻⁴ of it is honest noise.
      for (const s of kind === 'ill-conditioned' ? [] : [1 + 1e-4, 1 - 1e-4]) {
        cheats.push([`× ${s}`, honest.map((x) => x * s)]);
      }
      const exact = matmulF64(p.a, p.b, p);
      for (let trial = 0; trial < 6; trial++) {
        const at: [number, number] = [rng.nextUint32() % n, rng.nextUint32() % n];
        cheats.push([`element ${at}`, oneElementOff(honest, exact, n, at, trial & 1 ? 100 : -100)]);
      }
      for (const [what, c] of cheats) {
        const v = await verdict(p, whole, c, { projector, rng });
        expect(v.accepted, `${kind} ${what}: ${JSON.stringify(v)}`).toBe(false);
      }
    }
    projector.dispose();
  });
});
