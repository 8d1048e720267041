// sentence-transformers' Pooling then Normalize, one workgroup per sequence: hidden [batch, seq,
// dim], mask [batch, seq] (u32, nonzero for a real token), out [batch, dim]. Modes as Pooling.py:
// 0 mean (Σ x·m / max(Σ m, 1e−9)), 1 cls (token 0), 2 max (padded tokens count as −1e9),
// 3 lasttoken (the last real token; zeros when none). With normalize, out / max(‖out‖₂, 1e−12).
override WG: u32 = 64u; // a power of two

struct PoolDims {
  batch: u32,
  seq: u32,
  dim: u32,
  mode: u32,
  normalize: u32,
}

@group(0) @binding(0) var<storage, read> hidden: array<f32>;
@group(0) @binding(1) var<storage, read> mask: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> dims: PoolDims;

var<workgroup> red: array<f32, WG>;

const FLT_MAX: f32 = 3.4028234663852886e38;

fn reduceSum(value: f32, tid: u32) -> f32 {
  red[tid] = value;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h /= 2u) {
    if (tid < h) {
      red[tid] += red[tid + h];
    }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

fn reduceMax(value: f32, tid: u32) -> f32 {
  red[tid] = value;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h /= 2u) {
    if (tid < h) {
      red[tid] = max(red[tid], red[tid + h]);
    }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let b = wg.x;
  let seq = dims.seq;
  var count = 0.0;
  var last = 0.0; // 1 + the last real token's index, 0 when none (exact in f32 below 2^24)
  for (var t = tid; t < seq; t += WG) {
    if (mask[b * seq + t] != 0u) {
      count += 1.0;
      last = f32(t + 1u);
    }
  }
  count = reduceSum(count, tid);
  last = reduceMax(last, tid);
  var sq = 0.0;
  for (var d = tid; d < dims.dim; d += WG) {
    var value = 0.0;
    if (dims.mode == 0u) {
      for (var t = 0u; t < seq; t++) {
        value += hidden[(b * seq + t) * dims.dim + d] * select(0.0, 1.0, mask[b * seq + t] != 0u);
      }
      value /= max(count, 1e-9);
    } else if (dims.mode == 1u) {
      value = hidden[b * seq * dims.dim + d];
    } else if (dims.mode == 2u) {
      value = -FLT_MAX;
      for (var t = 0u; t < seq; t++) {
        let real = mask[b * seq + t] != 0u;
        value = max(value, select(-1e9, hidden[(b * seq + t) * dims.dim + d], real));
      }
    } else if (last > 0.0) {
      value = hidden[(b * seq + u32(last) - 1u) * dims.dim + d];
    }
    out[b * dims.dim + d] = value;
    sq += value * value;
  }
  if (dims.normalize != 0u) {
    let norm = max(sqrt(reduceSum(sq, tid)), 1e-12);
    for (var d = tid; d < dims.dim; d += WG) {
      out[b * dims.dim + d] /= norm;
    }
  }
}
