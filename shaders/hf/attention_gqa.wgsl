// Attention of q [batch, tokens, heads, headDim] over a KV cache k, v [batch, capacity, kvHeads,
// headDim], as eager_attention_forward in modeling_llama.py: softmax(q·kᵀ·scale + mask)·v, with
// grouped-query heads (head h reads kv head h / (heads/kvHeads), repeat_kv) and the additive mask
// taken as a range: query token t sits at cache slot past + t and sees slot j when
// valid[2b] ≤ j < valid[2b+1] (the sequence's real tokens: a left-padded batch starts later),
// j ≤ past + t when causal, and past + t − j < window when window > 0 (sliding window). A masked
// slot gets weight exactly 0, as finfo.min does after exp; a query that sees no slot gets zeros.
//
// One workgroup per (token, head, sequence). The visible slots are taken WG at a time: each
// invocation scores one, the chunk's max and sum are reduced in workgroup memory, and the output
// (invocation i owns dims i, i+WG, ... < headDim, at most PER_THREAD of them) is rescaled online
// (running max and sum), so scores never touch memory.
override WG: u32 = 64u; // a power of two; headDim ≤ PER_THREAD · WG
const PER_THREAD: u32 = 4u;

struct AttentionDims {
  tokens: u32,
  heads: u32,
  kvHeads: u32,
  headDim: u32,
  capacity: u32, // cache slots per sequence
  past: u32, // cache slot of this call's first token
  window: u32, // 0: no sliding window
  causal: u32, // 0: every valid slot (an encoder)
  scale: f32,
}

@group(0) @binding(0) var<storage, read> q: array<f32>;
@group(0) @binding(1) var<storage, read> k: array<f32>;
@group(0) @binding(2) var<storage, read> v: array<f32>;
@group(0) @binding(3) var<storage, read> valid: array<u32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<uniform> dims: AttentionDims;

var<workgroup> qs: array<f32, PER_THREAD * WG>;
var<workgroup> probs: array<f32, WG>;
var<workgroup> red: array<f32, WG>;

const FLT_MAX: f32 = 3.4028234663852886e38;

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

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let t = wg.x;
  let h = wg.y;
  let b = wg.z;
  let hd = dims.headDim;
  let kvh = h / (dims.heads / dims.kvHeads);
  let qBase = ((b * dims.tokens + t) * dims.heads + h) * hd;
  for (var d = tid; d < hd; d += WG) {
    qs[d] = q[qBase + d];
  }
  workgroupBarrier();

  let slot = dims.past + t;
  var lo = valid[2u * b];
  var hi = min(valid[2u * b + 1u], dims.capacity);
  if (dims.causal != 0u) {
    hi = min(hi, slot + 1u);
    if (dims.window > 0u && slot + 1u > dims.window) {
      lo = max(lo, slot + 1u - dims.window);
    }
  }
  let seqBase = b * dims.capacity;
  var m = -FLT_MAX;
  var l = 0.0;
  var acc: array<f32, PER_THREAD>;
  for (var c = lo; c < hi; c += WG) {
    let j = c + tid;
    var s = -FLT_MAX;
    if (j < hi) {
      let kBase = ((seqBase + j) * dims.kvHeads + kvh) * hd;
      var dot = 0.0;
      for (var d = 0u; d < hd; d++) {
        dot += qs[d] * k[kBase + d];
      }
      s = dot * dims.scale;
    }
    let mNew = max(m, reduceMax(s, tid));
    let correction = exp(m - mNew);
    let p = select(0.0, exp(s - mNew), j < hi);
    probs[tid] = p;
    l = l * correction + reduceSum(p, tid); // its barriers publish probs too
    let count = min(WG, hi - c);
    for (var e = 0u; e < PER_THREAD; e++) {
      let d = tid + e * WG;
      if (d < hd) {
        var a = acc[e] * correction;
        for (var kk = 0u; kk < count; kk++) {
          a += probs[kk] * v[((seqBase + c + kk) * dims.kvHeads + kvh) * hd + d];
        }
        acc[e] = a;
      }
    }
    m = mNew;
    workgroupBarrier(); // probs are read before the next chunk writes them
  }
  for (var e = 0u; e < PER_THREAD; e++) {
    let d = tid + e * WG;
    if (d < hd) {
      out[qBase + d] = select(0.0, acc[e] / l, l > 0.0);
    }
  }
}
