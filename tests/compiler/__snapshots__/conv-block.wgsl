// ---- conv2d_0 key=f99f32379dd4b41e workgroups=1x1x1
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read> in1: array<f32>;
@group(0) @binding(2) var<storage, read> in2: array<f32>;
@group(0) @binding(3) var<storage, read_write> out0: array<f32>;
var<workgroup> As: array<vec4<f32>, 512>;
var<workgroup> Bs: array<vec4<f32>, 16>;

fn loadA(m: i32, k: i32) -> f32 {
  let b = m / 36; let r = m % 36; let oy = r / 6; let ox = r % 6;
  let c = k / 9; let q = k % 9; let ky = q / 3; let kx = q % 3;
  let y = oy * 1 + ky - 1; let x = ox * 1 + kx - 1;
  if (y < 0 || y >= 6 || x < 0 || x >= 6) { return 0.0; }
  return in0[((b * 4 + c) * 6 + y) * 6 + x];
}
fn loadB(k: i32, n: i32) -> f32 {
  return in1[n * 36 + k];
}
fn epilogue(m: i32, n: i32, acc: f32) {
  let c0 = (m / 36);
  let c1 = n;
  let c2 = ((m % 36) / 6);
  let c3 = (m % 6);
  let v0 = acc;
  let v1 = (v0 + in2[c0 * 8 + c1]);
  let v2 = select(0.1 * v1, v1, v1 > 0.0);
  out0[(c1) * 36 + (c2) * 6 + (c3)] = v2;
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let tid = i32(lid);
  let tn = tid % 1;
  let tm = tid / 1;
  let m0 = i32(wg.y) * 256;
  let n0 = i32(wg.x) * 8;
  let kBegin = i32(wg.z) * 36;
  let kEnd = min(kBegin + 36, 36);
  var acc0_0 = vec4<f32>();
  var acc0_1 = vec4<f32>();
  var acc1_0 = vec4<f32>();
  var acc1_1 = vec4<f32>();
  var acc2_0 = vec4<f32>();
  var acc2_1 = vec4<f32>();
  var acc3_0 = vec4<f32>();
  var acc3_1 = vec4<f32>();
  for (var k0 = kBegin; k0 < kEnd; k0 += 8) {
    for (var e = tid; e < 512; e += 64) {
      let q = e % 64; let kk = e / 64; let k = k0 + kk; let m = m0 + q * 4;
      var v = vec4<f32>();
      if (k < kEnd) {
        if (m + 0 < 36) { v[0] = loadA(m + 0, k); }
        if (m + 1 < 36) { v[1] = loadA(m + 1, k); }
        if (m + 2 < 36) { v[2] = loadA(m + 2, k); }
        if (m + 3 < 36) { v[3] = loadA(m + 3, k); }
      }
      As[kk * 64 + q] = v;
    }
    for (var e = tid; e < 16; e += 64) {
      let q = e % 2; let kk = e / 2; let k = k0 + kk; let n = n0 + q * 4;
      var v = vec4<f32>();
      if (k < kEnd) {
        if (n + 0 < 8) { v[0] = loadB(k, n + 0); }
        if (n + 1 < 8) { v[1] = loadB(k, n + 1); }
        if (n + 2 < 8) { v[2] = loadB(k, n + 2); }
        if (n + 3 < 8) { v[3] = loadB(k, n + 3); }
      }
      Bs[kk * 2 + q] = v;
    }
    workgroupBarrier();
    for (var kk = 0; kk < 8; kk++) {
      let a = As[kk * 64 + tm];
      let b0 = Bs[kk * 2 + tn * 2 + 0];
      let b1 = Bs[kk * 2 + tn * 2 + 1];
      acc0_0 = fma(vec4<f32>(a[0]), b0, acc0_0);
      acc0_1 = fma(vec4<f32>(a[0]), b1, acc0_1);
      acc1_0 = fma(vec4<f32>(a[1]), b0, acc1_0);
      acc1_1 = fma(vec4<f32>(a[1]), b1, acc1_1);
      acc2_0 = fma(vec4<f32>(a[2]), b0, acc2_0);
      acc2_1 = fma(vec4<f32>(a[2]), b1, acc2_1);
      acc3_0 = fma(vec4<f32>(a[3]), b0, acc3_0);
      acc3_1 = fma(vec4<f32>(a[3]), b1, acc3_1);
    }
    workgroupBarrier();
  }
  if (m0 + tm * 4 + 0 < 36 && n0 + tn * 8 + 0 < 8) { epilogue(m0 + tm * 4 + 0, n0 + tn * 8 + 0, acc0_0[0]); }
  if (m0 + tm * 4 + 0 < 36 && n0 + tn * 8 + 1 < 8) { epilogue(m0 + tm * 4 + 0, n0 + tn * 8 + 1, acc0_0[1]); }
  if (m0 + tm * 4 + 0 < 36 && n0 + tn * 8 + 2 < 8) { epilogue(m0 + tm * 4 + 0, n0 + tn * 8 + 2, acc0_0[2]); }
  if (m0 + tm * 4 + 0 < 36 && n0 + tn * 8 + 3 < 8) { epilogue(m0 + tm * 4 + 0, n0 + tn * 8 + 3, acc0_0[3]); }
  if (m0 + tm * 4 + 0 < 36 && n0 + tn * 8 + 4 < 8) { epilogue(m0 + tm * 4 + 0, n0 + tn * 8 + 4, acc0_1[0]); }
  if (m0 + tm * 4 + 0 < 36 && n0 + tn * 8 + 5 < 8) { epilogue(m0 + tm * 4 + 0, n0 + tn * 8 + 5, acc0_1[1]); }
  if (m0 + tm * 4 + 0 < 36 && n0 + tn * 8 + 6 < 8) { epilogue(m0 + tm * 4 + 0, n0 + tn * 8 + 6, acc0_1[2]); }
  if (m0 + tm * 4 + 0 < 36 && n0 + tn * 8 + 7 < 8) { epilogue(m0 + tm * 4 + 0, n0 + tn * 8 + 7, acc0_1[3]); }
  if (m0 + tm * 4 + 1 < 36 && n0 + tn * 8 + 0 < 8) { epilogue(m0 + tm * 4 + 1, n0 + tn * 8 + 0, acc1_0[0]); }
  if (m0 + tm * 4 + 1 < 36 && n0 + tn * 8 + 1 < 8) { epilogue(m0 + tm * 4 + 1, n0 + tn * 8 + 1, acc1_0[1]); }
  if (m0 + tm * 4 + 1 < 36 && n0 + tn * 8 + 2 < 8) { epilogue(m0 + tm * 4 + 1, n0 + tn * 8 + 2, acc1_0[2]); }
  if (m0 + tm * 4 + 1 < 36 && n0 + tn * 8 + 3 < 8) { epilogue(m0 + tm * 4 + 1, n0 + tn * 8 + 3, acc1_0[3]); }
  if (m0 + tm * 4 + 1 < 36 && n0 + tn * 8 + 4 < 8) { epilogue(m0 + tm * 4 + 1, n0 + tn * 8 + 4, acc1_1[0]); }
  if (m0 + tm * 4 + 1 < 36 && n0 + tn * 8 + 5 < 8) { epilogue(m0 + tm * 4 + 1, n0 + tn * 8 + 5, acc1_1[1]); }
  if (m0 + tm * 4 + 1 < 36 && n0 + tn * 8 + 6 < 8) { epilogue(m0 + tm * 4 + 1, n0 + tn * 8 + 6, acc1_1[2]); }
  if (m0 + tm * 4 + 1 < 36 && n0 + tn * 8 + 7 < 8) { epilogue(m0 + tm * 4 + 1, n0 + tn * 8 + 7, acc1_1[3]); }
  if (m0 + tm * 4 + 2 < 36 && n0 + tn * 8 + 0 < 8) { epilogue(m0 + tm * 4 + 2, n0 + tn * 8 + 0, acc2_0[0]); }
  if (m0 + tm * 4 + 2 < 36 && n0 + tn * 8 + 1 < 8) { epilogue(m0 + tm * 4 + 2, n0 + tn * 8 + 1, acc2_0[1]); }
  if (m0 + tm * 4 + 2 < 36 && n0 + tn * 8 + 2 < 8) { epilogue(m0 + tm * 4 + 2, n0 + tn * 8 + 2, acc2_0[2]); }
  if (m0 + tm * 4 + 2 < 36 && n0 + tn * 8 + 3 < 8) { epilogue(m0 + tm * 4 + 2, n0 + tn * 8 + 3, acc2_0[3]); }
  if (m0 + tm * 4 + 2 < 36 && n0 + tn * 8 + 4 < 8) { epilogue(m0 + tm * 4 + 2, n0 + tn * 8 + 4, acc2_1[0]); }
  if (m0 + tm * 4 + 2 < 36 && n0 + tn * 8 + 5 < 8) { epilogue(m0 + tm * 4 + 2, n0 + tn * 8 + 5, acc2_1[1]); }
  if (m0 + tm * 4 + 2 < 36 && n0 + tn * 8 + 6 < 8) { epilogue(m0 + tm * 4 + 2, n0 + tn * 8 + 6, acc2_1[2]); }
  if (m0 + tm * 4 + 2 < 36 && n0 + tn * 8 + 7 < 8) { epilogue(m0 + tm * 4 + 2, n0 + tn * 8 + 7, acc2_1[3]); }
  if (m0 + tm * 4 + 3 < 36 && n0 + tn * 8 + 0 < 8) { epilogue(m0 + tm * 4 + 3, n0 + tn * 8 + 0, acc3_0[0]); }
  if (m0 + tm * 4 + 3 < 36 && n0 + tn * 8 + 1 < 8) { epilogue(m0 + tm * 4 + 3, n0 + tn * 8 + 1, acc3_0[1]); }
  if (m0 + tm * 4 + 3 < 36 && n0 + tn * 8 + 2 < 8) { epilogue(m0 + tm * 4 + 3, n0 + tn * 8 + 2, acc3_0[2]); }
  if (m0 + tm * 4 + 3 < 36 && n0 + tn * 8 + 3 < 8) { epilogue(m0 + tm * 4 + 3, n0 + tn * 8 + 3, acc3_0[3]); }
  if (m0 + tm * 4 + 3 < 36 && n0 + tn * 8 + 4 < 8) { epilogue(m0 + tm * 4 + 3, n0 + tn * 8 + 4, acc3_1[0]); }
  if (m0 + tm * 4 + 3 < 36 && n0 + tn * 8 + 5 < 8) { epilogue(m0 + tm * 4 + 3, n0 + tn * 8 + 5, acc3_1[1]); }
  if (m0 + tm * 4 + 3 < 36 && n0 + tn * 8 + 6 < 8) { epilogue(m0 + tm * 4 + 3, n0 + tn * 8 + 6, acc3_1[2]); }
  if (m0 + tm * 4 + 3 < 36 && n0 + tn * 8 + 7 < 8) { epilogue(m0 + tm * 4 + 3, n0 + tn * 8 + 7, acc3_1[3]); }
}

// ---- pad_1 key=6dba1736f3b52aad workgroups=2x1x1
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read_write> out0: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let stride = i32(nwg.x) * 256;
  for (var i = i32(gid.x); i < 512; i += stride) {
    let c0 = (i / 512) % 1;
    let c1 = (i / 64) % 8;
    let c2 = (i / 8) % 8;
    let c3 = (i / 1) % 8;
    var y0 = c2 - 1;
    var x0 = c3 - 1;
    var p0 = 0.0;
    y0 = abs(y0); y0 = select(y0, 10 - y0, y0 >= 6);
    x0 = abs(x0); x0 = select(x0, 10 - x0, x0 >= 6);
    if (y0 >= 0 && y0 < 6 && x0 >= 0 && x0 < 6) { p0 = in0[(c1) * 36 + (y0) * 6 + (x0)]; }
    let v0 = p0;
    out0[i] = v0;
  }
}

// ---- conv2d_2 key=26c64af2b7fcf90d workgroups=1x1x1
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read> in1: array<f32>;
@group(0) @binding(2) var<storage, read> in2: array<f32>;
@group(0) @binding(3) var<storage, read> in3: array<f32>;
@group(0) @binding(4) var<storage, read_write> out0: array<f32>;
var<workgroup> As: array<vec4<f32>, 512>;
var<workgroup> Bs: array<vec4<f32>, 8>;

fn loadA(m: i32, k: i32) -> f32 {
  let b = m / 36; let r = m % 36; let oy = r / 6; let ox = r % 6;
  let c = k / 9; let q = k % 9; let ky = q / 3; let kx = q % 3;
  let y = oy * 1 + ky - 0; let x = ox * 1 + kx - 0;
  if (y < 0 || y >= 8 || x < 0 || x >= 8) { return 0.0; }
  return in0[((b * 8 + c) * 8 + y) * 8 + x];
}
fn loadB(k: i32, n: i32) -> f32 {
  return in1[n * 72 + k];
}
fn epilogue(m: i32, n: i32, acc: f32) {
  let c0 = (m / 36);
  let c1 = n;
  let c2 = ((m % 36) / 6);
  let c3 = (m % 6);
  let v0 = acc;
  let v1 = (v0 + in2[c0 * 4 + c1]);
  let v2 = (v1 + in3[c0 * 144 + c1 * 36 + c2 * 6 + c3]);
  out0[(c1) * 36 + (c2) * 6 + (c3)] = v2;
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let tid = i32(lid);
  let tn = tid % 1;
  let tm = tid / 1;
  let m0 = i32(wg.y) * 256;
  let n0 = i32(wg.x) * 4;
  let kBegin = i32(wg.z) * 72;
  let kEnd = min(kBegin + 72, 72);
  var acc0_0 = vec4<f32>();
  var acc1_0 = vec4<f32>();
  var acc2_0 = vec4<f32>();
  var acc3_0 = vec4<f32>();
  for (var k0 = kBegin; k0 < kEnd; k0 += 8) {
    for (var e = tid; e < 512; e += 64) {
      let q = e % 64; let kk = e / 64; let k = k0 + kk; let m = m0 + q * 4;
      var v = vec4<f32>();
      if (k < kEnd) {
        if (m + 0 < 36) { v[0] = loadA(m + 0, k); }
        if (m + 1 < 36) { v[1] = loadA(m + 1, k); }
        if (m + 2 < 36) { v[2] = loadA(m + 2, k); }
        if (m + 3 < 36) { v[3] = loadA(m + 3, k); }
      }
      As[kk * 64 + q] = v;
    }
    for (var e = tid; e < 8; e += 64) {
      let q = e % 1; let kk = e / 1; let k = k0 + kk; let n = n0 + q * 4;
      var v = vec4<f32>();
      if (k < kEnd) {
        if (n + 0 < 4) { v[0] = loadB(k, n + 0); }
        if (n + 1 < 4) { v[1] = loadB(k, n + 1); }
        if (n + 2 < 4) { v[2] = loadB(k, n + 2); }
        if (n + 3 < 4) { v[3] = loadB(k, n + 3); }
      }
      Bs[kk * 1 + q] = v;
    }
    workgroupBarrier();
    for (var kk = 0; kk < 8; kk++) {
      let a = As[kk * 64 + tm];
      let b0 = Bs[kk * 1 + tn * 1 + 0];
      acc0_0 = fma(vec4<f32>(a[0]), b0, acc0_0);
      acc1_0 = fma(vec4<f32>(a[1]), b0, acc1_0);
      acc2_0 = fma(vec4<f32>(a[2]), b0, acc2_0);
      acc3_0 = fma(vec4<f32>(a[3]), b0, acc3_0);
    }
    workgroupBarrier();
  }
  if (m0 + tm * 4 + 0 < 36 && n0 + tn * 4 + 0 < 4) { epilogue(m0 + tm * 4 + 0, n0 + tn * 4 + 0, acc0_0[0]); }
  if (m0 + tm * 4 + 0 < 36 && n0 + tn * 4 + 1 < 4) { epilogue(m0 + tm * 4 + 0, n0 + tn * 4 + 1, acc0_0[1]); }
  if (m0 + tm * 4 + 0 < 36 && n0 + tn * 4 + 2 < 4) { epilogue(m0 + tm * 4 + 0, n0 + tn * 4 + 2, acc0_0[2]); }
  if (m0 + tm * 4 + 0 < 36 && n0 + tn * 4 + 3 < 4) { epilogue(m0 + tm * 4 + 0, n0 + tn * 4 + 3, acc0_0[3]); }
  if (m0 + tm * 4 + 1 < 36 && n0 + tn * 4 + 0 < 4) { epilogue(m0 + tm * 4 + 1, n0 + tn * 4 + 0, acc1_0[0]); }
  if (m0 + tm * 4 + 1 < 36 && n0 + tn * 4 + 1 < 4) { epilogue(m0 + tm * 4 + 1, n0 + tn * 4 + 1, acc1_0[1]); }
  if (m0 + tm * 4 + 1 < 36 && n0 + tn * 4 + 2 < 4) { epilogue(m0 + tm * 4 + 1, n0 + tn * 4 + 2, acc1_0[2]); }
  if (m0 + tm * 4 + 1 < 36 && n0 + tn * 4 + 3 < 4) { epilogue(m0 + tm * 4 + 1, n0 + tn * 4 + 3, acc1_0[3]); }
  if (m0 + tm * 4 + 2 < 36 && n0 + tn * 4 + 0 < 4) { epilogue(m0 + tm * 4 + 2, n0 + tn * 4 + 0, acc2_0[0]); }
  if (m0 + tm * 4 + 2 < 36 && n0 + tn * 4 + 1 < 4) { epilogue(m0 + tm * 4 + 2, n0 + tn * 4 + 1, acc2_0[1]); }
  if (m0 + tm * 4 + 2 < 36 && n0 + tn * 4 + 2 < 4) { epilogue(m0 + tm * 4 + 2, n0 + tn * 4 + 2, acc2_0[2]); }
  if (m0 + tm * 4 + 2 < 36 && n0 + tn * 4 + 3 < 4) { epilogue(m0 + tm * 4 + 2, n0 + tn * 4 + 3, acc2_0[3]); }
  if (m0 + tm * 4 + 3 < 36 && n0 + tn * 4 + 0 < 4) { epilogue(m0 + tm * 4 + 3, n0 + tn * 4 + 0, acc3_0[0]); }
  if (m0 + tm * 4 + 3 < 36 && n0 + tn * 4 + 1 < 4) { epilogue(m0 + tm * 4 + 3, n0 + tn * 4 + 1, acc3_0[1]); }
  if (m0 + tm * 4 + 3 < 36 && n0 + tn * 4 + 2 < 4) { epilogue(m0 + tm * 4 + 3, n0 + tn * 4 + 2, acc3_0[2]); }
  if (m0 + tm * 4 + 3 < 36 && n0 + tn * 4 + 3 < 4) { epilogue(m0 + tm * 4 + 3, n0 + tn * 4 + 3, acc3_0[3]); }
}
