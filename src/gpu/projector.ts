import abrWgsl from '../../shaders/freivalds-abr.wgsl?raw';
import brWgsl from '../../shaders/freivalds-br.wgsl?raw';
import crWgsl from '../../shaders/freivalds-cr.wgsl?raw';
import { MIN_NORMAL_F32, U_F32 } from '../reference/matmul';
import type { GpuContext } from './context';
import { GpuError } from './errors';
import {
  type MatmulProblem,
  type ProjectionRequest,
  type Projections,
  projectJs,
} from './projection';
import { readBack, upload, uploadPadded } from './transfer';

// Freivalds' projections for the owner of a matmul job, on WebGPU: three dispatches in one
// command buffer (shaders/freivalds-br.wgsl, -cr.wgsl, -abr.wgsl) and one read-back. A and B stay
// on the device between shards of the same problem; only the weights and the claimed block are
// uploaded per check.
//
// WGSL has no float64, so everything is float32 and the answer says so (`unitRoundoff` 2⁻²⁴).
// What the verdict (src/jobs/freivalds.ts) may then rely on, in any summation order, with or
// without FMA contraction (Higham's γₙ holds for every order):
// - |abr − A·(B_g·r_g)| ≤ 1.5·γ(k+w)·Σₚ|aᵢₚ|·Σ_{j∈g}|bₚⱼ| ≤ 1.5·γ(k+w)·absAB (B_g·r_g: γ_w, then
//   the k-term dot product: γ_k; γ_w + γ_k + γ_wγ_k ≤ γ(k+w); |r| < 1.5),
// - |cr − Ĉ_g·r_g| ≤ 1.5·γ_w·Σ_{j∈g}|ĉᵢⱼ| ≤ 1.5·γ_w·√(w·cSq),
// so within the 1.5·γ(k+gw+2)·(absAB + √(w·cSq)) that the verdict widens by. The sums that feed
// bounds come back rounded up, never under their exact values: absAB, sqAB and cSq are multiplied
// by 1 + 2γ(k+gw+2) (a float32 sum of non-negative terms is at least (1 − γ) of the exact one),
// and what flushing subnormals to zero may lose (an adapter may; at most 2⁻¹²⁶ an operation) is
// added on top, to cSq directly and to absAB scaled so the verdict's widening covers it.
// Overflow is ruled out before a result is trusted: from the largest |a|, |b| (per problem) and
// |ĉ| (measured by the kernel), every partial sum stays below 2¹²⁰; otherwise — a contributor
// picks ĉ, and 1e30 would make Σĉ² infinite and every bound with it — the request is projected
// by `projectJs` in float64, as are requests too large for the adapter's limits.

/** Problems whose A and B a projector keeps on the device (least recently used goes first). */
export const PROJECTOR_RESIDENT_PROBLEMS = 2;
/** Invocations per workgroup of the three kernels. */
const WG = 64;
/** Largest partial sum (in magnitude) the kernels may form: far below float32's 2¹²⁸. */
const SAFE = 2 ** 120;
/** Largest weight |r| the error bounds allow (the verdict's weights are below it). */
const WEIGHT_MAX = 1.5;
/** What one flushed subnormal can cost. */
const FLUSH = MIN_NORMAL_F32;

/** The owner's projector on a WebGPU device: a `Projector` with a cache to manage. */
export interface GpuProjector {
  (req: ProjectionRequest): Promise<Projections>;
  /** Frees `problem`'s A and B on the device (after checks in flight finish). */
  release(problem: MatmulProblem): void;
  /** Frees everything; later calls throw GpuError('invalid-argument'). */
  dispose(): void;
  /** Checks projected on the device, those projected in float64 JavaScript instead (values
   * that could overflow float32, sizes past the adapter's limits), and A/B uploads. */
  readonly stats: { projected: number; fallbacks: number; uploads: number };
}

interface Resident {
  problem: MatmulProblem;
  a: Float32Array;
  b: Float32Array;
  bufA: GPUBuffer; // m × kp, K padded with zeros to a multiple of 4
  bufB: GPUBuffer; // k × n, rows padded with zeros to whole vec4s
  users: number;
  dropped: boolean;
}

/**
 * Freivalds' projections on `ctx`'s device (see the notes at the top of this file). A and B of
 * the last `residentProblems` problems stay on the device, keyed by the problem object; a
 * problem whose `a` or `b` is replaced by another array is uploaded again, but one changed in
 * place is not noticed (nor is its largest |a|, |b|, kept per array): treat them as immutable.
 */
export function gpuProjector(
  ctx: GpuContext,
  residentProblems = PROJECTOR_RESIDENT_PROBLEMS,
): GpuProjector {
  const resident: Resident[] = []; // least recently used first
  const maxima = new WeakMap<Float32Array, number>();
  const stats = { projected: 0, fallbacks: 0, uploads: 0 };
  let disposed = false;

  const free = (e: Resident) => {
    e.dropped = true;
    const at = resident.indexOf(e);
    if (at >= 0) resident.splice(at, 1);
    if (e.users === 0) for (const buf of [e.bufA, e.bufB]) ctx.buffers.release(buf);
  };

  /** `problem`'s buffers, uploaded if they are not on the device; counted as in use. */
  const acquire = (problem: MatmulProblem, kp: number): Resident => {
    const { a, b, m, k, n } = problem;
    let e = resident.find((x) => x.problem === problem);
    if (e && (e.a !== a || e.b !== b)) {
      free(e); // the problem's arrays were replaced: upload the new ones
      e = undefined;
    }
    if (e) {
      resident.splice(resident.indexOf(e), 1);
    } else {
      const S = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
      const bufA = uploadPadded(ctx, a, m, k, m, kp, S, 'freivalds A');
      const bufB = uploadPadded(ctx, b, k, n, k, roundUp4(n), S, 'freivalds B');
      stats.uploads++;
      e = { problem, a, b, bufA, bufB, users: 0, dropped: false };
      while (resident.length >= Math.max(1, residentProblems)) free(resident[0]!);
    }
    resident.push(e);
    e.users++;
    return e;
  };

  const maxAbs = (x: Float32Array): number => {
    let v = maxima.get(x);
    if (v === undefined) {
      v = 0;
      for (let i = 0; i < x.length; i++) {
        const y = Math.abs(x[i]!);
        if (!(y <= v)) v = y; // NaN sticks: the problem is then never projected here
      }
      maxima.set(x, v);
    }
    return v;
  };

  const fallback = (req: ProjectionRequest): Projections => {
    stats.fallbacks++;
    return projectJs(req);
  };

  const project = async (req: ProjectionRequest): Promise<Projections> => {
    if (disposed) throw new GpuError('invalid-argument', 'the projector was disposed');
    checkRequest(req);
    const { problem, block, groupCols: gw } = req;
    const { k } = problem;
    const { rows, cols } = block;
    const w = Math.min(gw, cols);
    const mA = maxAbs(problem.a);
    const mB = maxAbs(problem.b);
    const inputs = [1.5 * w * k * mA * mB, w * k * (mA * mB) ** 2, mA * mA, w * mB * mB];
    const plan = layout(req);
    if (!inputs.every((x) => x <= SAFE) || !fits(ctx, req, plan)) return fallback(req);
    const pipelines = await Promise.all([
      ctx.pipelines.get('freivalds-br', brWgsl, { WG }),
      ctx.pipelines.get('freivalds-cr', crWgsl, { WG }),
      ctx.pipelines.get('freivalds-abr', abrWgsl, { WG }),
    ] as const);
    if (disposed) throw new GpuError('invalid-argument', 'the projector was disposed');
    const res = acquire(problem, plan.kp);
    const used: GPUBuffer[] = [];
    try {
      const raw = await dispatch(ctx, req, plan, res, pipelines, used);
      const out = assemble(req, plan, raw);
      if (!out || !(1.5 * w * out.maxC <= SAFE && w * out.maxC ** 2 <= SAFE)) {
        return fallback(req);
      }
      stats.projected++;
      // Bounds' inputs, rounded up (see the notes at the top). The flushes' cost F, in the
      // abr − cr difference and in absAB itself, is added to absAB so that the verdict's
      // 1.5·γ(k+gw+2)·absAB widening covers it twice over.
      const G = gamma(k + gw + 2);
      const up = 1 + 2 * G;
      const F = 4 * FLUSH * (k * w * (mA + mB) + k + w);
      const absExtra = (2 * F) / (1.5 * (k + gw + 2) * U_F32);
      const sqExtra = 4 * FLUSH * k * (w * (mA * mA + mB * mB) + 1);
      const p = out.proj;
      for (let i = 0; i < rows; i++) {
        p.absAB[i] = p.absAB[i]! * up + absExtra;
        p.sqAB[i] = p.sqAB[i]! * up + sqExtra;
      }
      for (let i = 0; i < p.cSq.length; i++) p.cSq[i] = p.cSq[i]! * up + 2 * w * FLUSH;
      return p;
    } finally {
      for (const buf of used) ctx.buffers.release(buf);
      res.users--;
      if (res.dropped && res.users === 0) free(res);
    }
  };

  return Object.assign(project, {
    release(problem: MatmulProblem) {
      for (const e of resident.filter((x) => x.problem === problem)) free(e);
    },
    dispose() {
      disposed = true;
      for (const e of [...resident]) free(e);
    },
    stats,
  });
}

const roundUp4 = (x: number) => Math.ceil(x / 4) * 4;

/** γₙ for float32. */
const gamma = (len: number) => (len * U_F32) / (1 - len * U_F32);

/** Sizes of one check's buffers. */
interface Plan {
  groups: number;
  vg: number; // projections a row: kv · groups
  chunks: number; // of 8 projections (pass 3)
  stride: number; // floats per row p of br: 8 · chunks
  kp: number; // K padded to a multiple of 4
  outFloats: number; // pass 3's rows × (stride + 4), then pass 2's rows × groups × (kv + 2)
}

function layout({ problem, block, vectors: kv, groupCols: gw }: ProjectionRequest): Plan {
  const groups = Math.ceil(block.cols / gw);
  const vg = kv * groups;
  const chunks = Math.ceil(vg / 8);
  const stride = 8 * chunks;
  const kp = Math.ceil(problem.k / 4) * 4;
  const outFloats = block.rows * (stride + 4) + block.rows * groups * (kv + 2);
  return { groups, vg, chunks, stride, kp, outFloats };
}

/** True when every buffer and dispatch of the check fits the adapter's limits. */
function fits(ctx: GpuContext, { problem, block }: ProjectionRequest, plan: Plan): boolean {
  const lim = ctx.device.limits;
  const bytes = [
    problem.m * plan.kp,
    problem.k * roundUp4(problem.n),
    plan.kp * plan.stride,
    plan.outFloats,
    block.rows * roundUp4(block.cols),
  ].map((f) => f * 4);
  const maxBytes = Math.min(lim.maxStorageBufferBindingSize, lim.maxBufferSize);
  const invocations = [
    problem.k * plan.groups,
    block.rows * plan.groups,
    Math.ceil(block.rows / 8) * (plan.chunks + 1),
  ];
  const maxGroups = lim.maxComputeWorkgroupsPerDimension;
  return (
    bytes.every((b) => b <= maxBytes) &&
    invocations.every((n) => Math.ceil(n / WG) <= maxGroups * maxGroups) &&
    plan.outFloats < 2 ** 32
  );
}

/** A 1-D count of invocations folded onto a 2-D grid of workgroups. */
function grid(ctx: GpuContext, invocations: number): [number, number] {
  const groups = Math.max(1, Math.ceil(invocations / WG));
  const x = Math.min(groups, ctx.device.limits.maxComputeWorkgroupsPerDimension);
  return [x, Math.ceil(groups / x)];
}

/** Encodes the three passes, submits them and reads the output buffer back. */
async function dispatch(
  ctx: GpuContext,
  req: ProjectionRequest,
  plan: Plan,
  res: Resident,
  [brPipe, crPipe, abrPipe]: readonly [GPUComputePipeline, GPUComputePipeline, GPUComputePipeline],
  used: GPUBuffer[],
): Promise<Float32Array> {
  const { problem, block, claimed, vectors: kv, groupCols: gw } = req;
  const { k, n } = problem;
  const { row0, rows, col0, cols } = block;
  const { groups, chunks, stride, kp, outFloats } = plan;
  const take = (b: GPUBuffer) => {
    used.push(b);
    return b;
  };
  const S = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
  // The weights twice, as floats (exact: ±(1 + q/512)): for pass 1 shifted by col0 mod 4 so
  // that weight j shares a vec4 lane with column col0 + j of B, for pass 2 as ĉ's rows are.
  const shift = col0 % 4;
  const rsB = roundUp4(shift + cols);
  const cp = roundUp4(cols);
  // The kernels take vectors in pairs: an odd count gets a zero vector.
  const kvEven = kv + (kv % 2);
  const rB = new Float32Array(kvEven * rsB);
  const rC = new Float32Array(kvEven * cp);
  for (let v = 0; v < kv; v++) {
    for (let j = 0; j < cols; j++) {
      const x = req.r[v * cols + j]!;
      rB[v * rsB + shift + j] = x;
      rC[v * cp + j] = x;
    }
  }
  const bufRB = take(upload(ctx, rB, 'freivalds r for B'));
  const bufRC = take(upload(ctx, rC, 'freivalds r for C'));
  const bufC = take(uploadPadded(ctx, claimed, rows, cols, rows, cp, S, 'freivalds claimed'));
  const bufBr = take(ctx.buffers.acquire(kp * stride * 4, S, 'freivalds br'));
  const bufMax = take(ctx.buffers.acquire(kp * 8, S, 'freivalds max'));
  const bufOut = take(
    ctx.buffers.acquire(outFloats * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, 'out'),
  );
  const uniform = (words: number[]) => {
    const usage = GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST;
    const u = take(ctx.buffers.acquire(words.length * 4, usage));
    ctx.device.queue.writeBuffer(u, 0, new Uint32Array(words));
    return u;
  };
  const gBr = grid(ctx, k * groups);
  const gCr = grid(ctx, rows * groups);
  const tiles = Math.ceil(rows / 8);
  const gAbr = grid(ctx, tiles * (chunks + 1));
  const dimsBr = [k, roundUp4(n) / 4, Math.floor(col0 / 4), shift, gw, groups, kv, rsB / 4];
  const passes: [GPUComputePipeline, GPUBuffer[], [number, number]][] = [
    [brPipe, [res.bufB, bufRB, bufBr, bufMax, uniform([...dimsBr, cols, stride, gBr[0], 0])], gBr],
    [
      crPipe,
      [
        bufC,
        bufRC,
        bufOut,
        uniform([rows, cols, cp / 4, gw, groups, kv, rows * (stride + 4), gCr[0]]),
      ],
      gCr,
    ],
    [
      abrPipe,
      [
        res.bufA,
        bufBr,
        bufMax,
        bufOut,
        uniform([row0, rows, kp / 4, chunks, tiles, gAbr[0], 0, 0]),
      ],
      gAbr,
    ],
  ];
  const enc = ctx.device.createCommandEncoder();
  // Pass 3 reads br's padding rows (p ≥ k) and max sums: they must be zero.
  enc.clearBuffer(bufBr, 0, kp * stride * 4);
  enc.clearBuffer(bufMax, 0, kp * 8);
  const pass = enc.beginComputePass();
  for (const [pipeline, buffers, workgroups] of passes) {
    pass.setPipeline(pipeline);
    pass.setBindGroup(
      0,
      ctx.device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
      }),
    );
    pass.dispatchWorkgroups(...workgroups);
  }
  pass.end();
  return new Float32Array(await readBack(ctx, bufOut, outFloats * 4, enc));
}

/** The raw float32 sums as `Projections` (not yet rounded up), or undefined if any is not
 * finite; and the largest |ĉ|. */
function assemble(
  { block, vectors: kv }: ProjectionRequest,
  { groups, vg, stride }: Plan,
  f: Float32Array,
): { proj: Projections; maxC: number } | undefined {
  const { rows } = block;
  const abr = new Float64Array(rows * vg);
  const cr = new Float64Array(rows * vg);
  const absAB = new Float64Array(rows);
  const sqAB = new Float64Array(rows);
  const cSq = new Float64Array(rows * groups);
  const os = stride + 4;
  let finite = true;
  for (let i = 0; i < rows; i++) {
    const o = i * os;
    for (let t = 0; t < vg; t++) abr[i * vg + t] = f[o + t]!;
    absAB[i] = f[o + stride]!;
    sqAB[i] = f[o + stride + 1]!;
    finite &&= Number.isFinite(absAB[i]! + sqAB[i]!);
  }
  const base = rows * os;
  const per = kv + 2;
  let maxC = 0;
  for (let i = 0; i < rows; i++) {
    for (let g = 0; g < groups; g++) {
      const o = base + (i * groups + g) * per;
      for (let v = 0; v < kv; v++) cr[i * vg + v * groups + g] = f[o + v]!;
      cSq[i * groups + g] = f[o + kv]!;
      maxC = Math.max(maxC, f[o + kv + 1]!);
    }
  }
  for (const x of [abr, cr, cSq])
    for (let i = 0; i < x.length; i++) finite &&= Number.isFinite(x[i]!);
  if (!finite || !Number.isFinite(maxC)) return undefined;
  return { proj: { abr, cr, absAB, sqAB, cSq, unitRoundoff: U_F32 }, maxC };
}

/** Throws GpuError('invalid-argument') unless the request is well formed. */
function checkRequest({ problem, block, claimed, r, vectors, groupCols }: ProjectionRequest) {
  const { a, b, m, k, n } = problem;
  const { row0, rows, col0, cols } = block;
  const ints = [m, k, n, rows, cols, vectors, groupCols].every(
    (v) => Number.isSafeInteger(v) && v >= 1,
  );
  const ok =
    ints &&
    Number.isSafeInteger(row0) &&
    Number.isSafeInteger(col0) &&
    row0 >= 0 &&
    col0 >= 0 &&
    row0 + rows <= m &&
    col0 + cols <= n &&
    a.length === m * k &&
    b.length === k * n &&
    claimed.length === rows * cols &&
    r.length === vectors * cols &&
    r.every((x) => Math.abs(x) <= WEIGHT_MAX); // the error bounds assume |r| ≤ 1.5 (NaN fails)
  if (!ok) {
    throw new GpuError(
      'invalid-argument',
      `projection request does not fit its problem: ${JSON.stringify({ m, k, n, ...block, vectors, groupCols })}`,
    );
  }
}
