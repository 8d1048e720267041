// The adapter's float32 FMA throughput: each invocation runs 8 independent vec4 FMA chains for
// {{ITER}} steps (no memory traffic in the loop), then writes one vec4 so nothing is optimised
// away. 2 · 4 lanes · 8 chains · ITER FLOPs an invocation.
//   WG    invocations per workgroup
//   ITER  steps per chain
@group(0) @binding(0) var<storage, read_write> out: array<vec4<f32>>;

@compute @workgroup_size({{WG}})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let s = f32(gid.x) * 1e-9;
  var a0 = vec4<f32>(s, 1.0, 2.0, 3.0);
  var a1 = a0 + 0.5;
  var a2 = a0 + 0.25;
  var a3 = a0 + 0.125;
  var a4 = a0 + 0.0625;
  var a5 = a0 + 0.03125;
  var a6 = a0 + 0.015625;
  var a7 = a0 + 0.0078125;
  let m = vec4<f32>(0.9999999);
  let k = vec4<f32>(1e-7);
  for (var i = 0u; i < {{ITER}}u; i++) {
    a0 = fma(a0, m, k);
    a1 = fma(a1, m, k);
    a2 = fma(a2, m, k);
    a3 = fma(a3, m, k);
    a4 = fma(a4, m, k);
    a5 = fma(a5, m, k);
    a6 = fma(a6, m, k);
    a7 = fma(a7, m, k);
  }
  out[gid.x] = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7));
}
