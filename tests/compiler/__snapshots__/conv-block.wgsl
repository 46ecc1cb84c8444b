// ---- conv2d_0 key=73e98bc28db0d61d workgroups=1x1x1
@group(0) @binding(0) var<storage, read> in0: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> in1: array<f32>;
@group(0) @binding(2) var<storage, read> in2: array<f32>;
@group(0) @binding(3) var<storage, read_write> out0: array<f32>;
var<workgroup> ws: array<vec4<f32>, 72>;

fn epilogue(m: i32, n: i32, acc: f32) {
  let c0 = (m / 48);
  let c1 = n;
  let c2 = ((m % 48) / 8);
  let c3 = (m % 8);
  let v0 = acc;
  let v1 = (v0 + in2[c0 * 8 + c1]);
  let v2 = select(0.1 * v1, v1, v1 > 0.0);
  out0[(c1) * 48 + (c2) * 8 + (c3)] = v2;
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let g = i32(wg.x) * 64 + i32(lid);
  let gg = min(g, 5);
  let xb = gg % 1; let y = (gg / 1) % 6; let b = gg / 6;
  let o0 = i32(wg.y) * 8;
  var a0_0 = vec4<f32>();
  var a0_1 = vec4<f32>();
  var a1_0 = vec4<f32>();
  var a1_1 = vec4<f32>();
  var a2_0 = vec4<f32>();
  var a2_1 = vec4<f32>();
  var a3_0 = vec4<f32>();
  var a3_1 = vec4<f32>();
  var a4_0 = vec4<f32>();
  var a4_1 = vec4<f32>();
  var a5_0 = vec4<f32>();
  var a5_1 = vec4<f32>();
  var a6_0 = vec4<f32>();
  var a6_1 = vec4<f32>();
  var a7_0 = vec4<f32>();
  var a7_1 = vec4<f32>();
  for (var c0 = 0; c0 < 4; c0 += 4) {
    for (var e = i32(lid); e < 72; e += 64) {
      let q = e % 2; let t = (e / 2) % 9; let c = min(c0 + e / 18, 3);
      let o = o0 + q * 4;
      ws[e] = vec4<f32>(in1[(min(o + 0, 7) * 4 + c) * 9 + t], in1[(min(o + 1, 7) * 4 + c) * 9 + t], in1[(min(o + 2, 7) * 4 + c) * 9 + t], in1[(min(o + 3, 7) * 4 + c) * 9 + t]);
    }
    workgroupBarrier();
    for (var cl = 0; cl < min(4, 4 - c0); cl++) {
      let c = c0 + cl;
      for (var ky = 0; ky < 3; ky++) {
        let iy = y + ky - 1;
        if (iy < 0 || iy >= 6) { continue; }
        let base = ((b * 4 + c) * 6 + iy) * 2 + xb * 2;
        var winm1 = vec4<f32>(); if (xb * 2 + -1 >= 0 && xb * 2 + -1 < 2) { winm1 = in0[base + -1]; }
        let win0 = in0[base + 0];
        let win1 = in0[base + 1];
        var win2 = vec4<f32>(); if (xb * 2 + 2 >= 0 && xb * 2 + 2 < 2) { win2 = in0[base + 2]; }
        let sh0_0 = vec4<f32>(winm1.w, win0.x, win0.y, win0.z);
        let sh0_1 = vec4<f32>(win0.w, win1.x, win1.y, win1.z);
        let sh1_0 = vec4<f32>(win0.x, win0.y, win0.z, win0.w);
        let sh1_1 = vec4<f32>(win1.x, win1.y, win1.z, win1.w);
        let sh2_0 = vec4<f32>(win0.y, win0.z, win0.w, win1.x);
        let sh2_1 = vec4<f32>(win1.y, win1.z, win1.w, win2.x);
        let wb = (cl * 9 + ky * 3) * 2;
        let w0_0 = ws[wb + 0];
        let w0_1 = ws[wb + 1];
        let w1_0 = ws[wb + 2];
        let w1_1 = ws[wb + 3];
        let w2_0 = ws[wb + 4];
        let w2_1 = ws[wb + 5];
        a0_0 = fma(vec4<f32>(w0_0.x), sh0_0, fma(vec4<f32>(w1_0.x), sh1_0, fma(vec4<f32>(w2_0.x), sh2_0, a0_0)));
        a0_1 = fma(vec4<f32>(w0_0.x), sh0_1, fma(vec4<f32>(w1_0.x), sh1_1, fma(vec4<f32>(w2_0.x), sh2_1, a0_1)));
        a1_0 = fma(vec4<f32>(w0_0.y), sh0_0, fma(vec4<f32>(w1_0.y), sh1_0, fma(vec4<f32>(w2_0.y), sh2_0, a1_0)));
        a1_1 = fma(vec4<f32>(w0_0.y), sh0_1, fma(vec4<f32>(w1_0.y), sh1_1, fma(vec4<f32>(w2_0.y), sh2_1, a1_1)));
        a2_0 = fma(vec4<f32>(w0_0.z), sh0_0, fma(vec4<f32>(w1_0.z), sh1_0, fma(vec4<f32>(w2_0.z), sh2_0, a2_0)));
        a2_1 = fma(vec4<f32>(w0_0.z), sh0_1, fma(vec4<f32>(w1_0.z), sh1_1, fma(vec4<f32>(w2_0.z), sh2_1, a2_1)));
        a3_0 = fma(vec4<f32>(w0_0.w), sh0_0, fma(vec4<f32>(w1_0.w), sh1_0, fma(vec4<f32>(w2_0.w), sh2_0, a3_0)));
        a3_1 = fma(vec4<f32>(w0_0.w), sh0_1, fma(vec4<f32>(w1_0.w), sh1_1, fma(vec4<f32>(w2_0.w), sh2_1, a3_1)));
        a4_0 = fma(vec4<f32>(w0_1.x), sh0_0, fma(vec4<f32>(w1_1.x), sh1_0, fma(vec4<f32>(w2_1.x), sh2_0, a4_0)));
        a4_1 = fma(vec4<f32>(w0_1.x), sh0_1, fma(vec4<f32>(w1_1.x), sh1_1, fma(vec4<f32>(w2_1.x), sh2_1, a4_1)));
        a5_0 = fma(vec4<f32>(w0_1.y), sh0_0, fma(vec4<f32>(w1_1.y), sh1_0, fma(vec4<f32>(w2_1.y), sh2_0, a5_0)));
        a5_1 = fma(vec4<f32>(w0_1.y), sh0_1, fma(vec4<f32>(w1_1.y), sh1_1, fma(vec4<f32>(w2_1.y), sh2_1, a5_1)));
        a6_0 = fma(vec4<f32>(w0_1.z), sh0_0, fma(vec4<f32>(w1_1.z), sh1_0, fma(vec4<f32>(w2_1.z), sh2_0, a6_0)));
        a6_1 = fma(vec4<f32>(w0_1.z), sh0_1, fma(vec4<f32>(w1_1.z), sh1_1, fma(vec4<f32>(w2_1.z), sh2_1, a6_1)));
        a7_0 = fma(vec4<f32>(w0_1.w), sh0_0, fma(vec4<f32>(w1_1.w), sh1_0, fma(vec4<f32>(w2_1.w), sh2_0, a7_0)));
        a7_1 = fma(vec4<f32>(w0_1.w), sh0_1, fma(vec4<f32>(w1_1.w), sh1_1, fma(vec4<f32>(w2_1.w), sh2_1, a7_1)));
      }
    }
    workgroupBarrier();
  }
  if (g >= 6) { return; }
  let row = (b * 6 + y) * 8;
  if (o0 + 0 < 8) { epilogue(row + xb * 8 + 0, o0 + 0, a0_0.x); }
  if (o0 + 0 < 8) { epilogue(row + xb * 8 + 1, o0 + 0, a0_0.y); }
  if (o0 + 0 < 8) { epilogue(row + xb * 8 + 2, o0 + 0, a0_0.z); }
  if (o0 + 0 < 8) { epilogue(row + xb * 8 + 3, o0 + 0, a0_0.w); }
  if (o0 + 0 < 8) { epilogue(row + xb * 8 + 4, o0 + 0, a0_1.x); }
  if (o0 + 0 < 8) { epilogue(row + xb * 8 + 5, o0 + 0, a0_1.y); }
  if (o0 + 0 < 8) { epilogue(row + xb * 8 + 6, o0 + 0, a0_1.z); }
  if (o0 + 0 < 8) { epilogue(row + xb * 8 + 7, o0 + 0, a0_1.w); }
  if (o0 + 1 < 8) { epilogue(row + xb * 8 + 0, o0 + 1, a1_0.x); }
  if (o0 + 1 < 8) { epilogue(row + xb * 8 + 1, o0 + 1, a1_0.y); }
  if (o0 + 1 < 8) { epilogue(row + xb * 8 + 2, o0 + 1, a1_0.z); }
  if (o0 + 1 < 8) { epilogue(row + xb * 8 + 3, o0 + 1, a1_0.w); }
  if (o0 + 1 < 8) { epilogue(row + xb * 8 + 4, o0 + 1, a1_1.x); }
  if (o0 + 1 < 8) { epilogue(row + xb * 8 + 5, o0 + 1, a1_1.y); }
  if (o0 + 1 < 8) { epilogue(row + xb * 8 + 6, o0 + 1, a1_1.z); }
  if (o0 + 1 < 8) { epilogue(row + xb * 8 + 7, o0 + 1, a1_1.w); }
  if (o0 + 2 < 8) { epilogue(row + xb * 8 + 0, o0 + 2, a2_0.x); }
  if (o0 + 2 < 8) { epilogue(row + xb * 8 + 1, o0 + 2, a2_0.y); }
  if (o0 + 2 < 8) { epilogue(row + xb * 8 + 2, o0 + 2, a2_0.z); }
  if (o0 + 2 < 8) { epilogue(row + xb * 8 + 3, o0 + 2, a2_0.w); }
  if (o0 + 2 < 8) { epilogue(row + xb * 8 + 4, o0 + 2, a2_1.x); }
  if (o0 + 2 < 8) { epilogue(row + xb * 8 + 5, o0 + 2, a2_1.y); }
  if (o0 + 2 < 8) { epilogue(row + xb * 8 + 6, o0 + 2, a2_1.z); }
  if (o0 + 2 < 8) { epilogue(row + xb * 8 + 7, o0 + 2, a2_1.w); }
  if (o0 + 3 < 8) { epilogue(row + xb * 8 + 0, o0 + 3, a3_0.x); }
  if (o0 + 3 < 8) { epilogue(row + xb * 8 + 1, o0 + 3, a3_0.y); }
  if (o0 + 3 < 8) { epilogue(row + xb * 8 + 2, o0 + 3, a3_0.z); }
  if (o0 + 3 < 8) { epilogue(row + xb * 8 + 3, o0 + 3, a3_0.w); }
  if (o0 + 3 < 8) { epilogue(row + xb * 8 + 4, o0 + 3, a3_1.x); }
  if (o0 + 3 < 8) { epilogue(row + xb * 8 + 5, o0 + 3, a3_1.y); }
  if (o0 + 3 < 8) { epilogue(row + xb * 8 + 6, o0 + 3, a3_1.z); }
  if (o0 + 3 < 8) { epilogue(row + xb * 8 + 7, o0 + 3, a3_1.w); }
  if (o0 + 4 < 8) { epilogue(row + xb * 8 + 0, o0 + 4, a4_0.x); }
  if (o0 + 4 < 8) { epilogue(row + xb * 8 + 1, o0 + 4, a4_0.y); }
  if (o0 + 4 < 8) { epilogue(row + xb * 8 + 2, o0 + 4, a4_0.z); }
  if (o0 + 4 < 8) { epilogue(row + xb * 8 + 3, o0 + 4, a4_0.w); }
  if (o0 + 4 < 8) { epilogue(row + xb * 8 + 4, o0 + 4, a4_1.x); }
  if (o0 + 4 < 8) { epilogue(row + xb * 8 + 5, o0 + 4, a4_1.y); }
  if (o0 + 4 < 8) { epilogue(row + xb * 8 + 6, o0 + 4, a4_1.z); }
  if (o0 + 4 < 8) { epilogue(row + xb * 8 + 7, o0 + 4, a4_1.w); }
  if (o0 + 5 < 8) { epilogue(row + xb * 8 + 0, o0 + 5, a5_0.x); }
  if (o0 + 5 < 8) { epilogue(row + xb * 8 + 1, o0 + 5, a5_0.y); }
  if (o0 + 5 < 8) { epilogue(row + xb * 8 + 2, o0 + 5, a5_0.z); }
  if (o0 + 5 < 8) { epilogue(row + xb * 8 + 3, o0 + 5, a5_0.w); }
  if (o0 + 5 < 8) { epilogue(row + xb * 8 + 4, o0 + 5, a5_1.x); }
  if (o0 + 5 < 8) { epilogue(row + xb * 8 + 5, o0 + 5, a5_1.y); }
  if (o0 + 5 < 8) { epilogue(row + xb * 8 + 6, o0 + 5, a5_1.z); }
  if (o0 + 5 < 8) { epilogue(row + xb * 8 + 7, o0 + 5, a5_1.w); }
  if (o0 + 6 < 8) { epilogue(row + xb * 8 + 0, o0 + 6, a6_0.x); }
  if (o0 + 6 < 8) { epilogue(row + xb * 8 + 1, o0 + 6, a6_0.y); }
  if (o0 + 6 < 8) { epilogue(row + xb * 8 + 2, o0 + 6, a6_0.z); }
  if (o0 + 6 < 8) { epilogue(row + xb * 8 + 3, o0 + 6, a6_0.w); }
  if (o0 + 6 < 8) { epilogue(row + xb * 8 + 4, o0 + 6, a6_1.x); }
  if (o0 + 6 < 8) { epilogue(row + xb * 8 + 5, o0 + 6, a6_1.y); }
  if (o0 + 6 < 8) { epilogue(row + xb * 8 + 6, o0 + 6, a6_1.z); }
  if (o0 + 6 < 8) { epilogue(row + xb * 8 + 7, o0 + 6, a6_1.w); }
  if (o0 + 7 < 8) { epilogue(row + xb * 8 + 0, o0 + 7, a7_0.x); }
  if (o0 + 7 < 8) { epilogue(row + xb * 8 + 1, o0 + 7, a7_0.y); }
  if (o0 + 7 < 8) { epilogue(row + xb * 8 + 2, o0 + 7, a7_0.z); }
  if (o0 + 7 < 8) { epilogue(row + xb * 8 + 3, o0 + 7, a7_0.w); }
  if (o0 + 7 < 8) { epilogue(row + xb * 8 + 4, o0 + 7, a7_1.x); }
  if (o0 + 7 < 8) { epilogue(row + xb * 8 + 5, o0 + 7, a7_1.y); }
  if (o0 + 7 < 8) { epilogue(row + xb * 8 + 6, o0 + 7, a7_1.z); }
  if (o0 + 7 < 8) { epilogue(row + xb * 8 + 7, o0 + 7, a7_1.w); }
}

// ---- pad_1 key=d86eae2db2751b88 workgroups=3x1x1
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read_write> out0: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let stride = i32(nwg.x) * 256;
  for (var i = i32(gid.x); i < 640; i += stride) {
    let c0 = (i / 640) % 1;
    let c1 = (i / 80) % 8;
    let c2 = (i / 10) % 8;
    let c3 = (i / 1) % 10;
    var y0 = c2 - 1;
    var x0 = c3 - 1;
    var p0 = 0.0;
    y0 = abs(y0); y0 = select(y0, 10 - y0, y0 >= 6);
    x0 = abs(x0); x0 = select(x0, 14 - x0, x0 >= 8);
    if (y0 >= 0 && y0 < 6 && x0 >= 0 && x0 < 8) { p0 = in0[(c1) * 48 + (y0) * 8 + (x0)]; }
    let v0 = p0;
    out0[i] = v0;
  }
}

// ---- conv2d_2 key=1f9c153fb40a9f12 workgroups=1x1x1
@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read> in1: array<f32>;
@group(0) @binding(2) var<storage, read> in2: array<f32>;
@group(0) @binding(3) var<storage, read> in3: array<f32>;
@group(0) @binding(4) var<storage, read_write> out0: array<f32>;
var<workgroup> As: array<vec4<f32>, 512>;
var<workgroup> Bs: array<vec4<f32>, 8>;

fn loadA(m: i32, k: i32) -> f32 {
  let b = m / 48; let r = m % 48; let oy = r / 8; let ox = r % 8;
  let c = k / 9; let q = k % 9; let ky = q / 3; let kx = q % 3;
  let y = oy * 1 + ky - 0; let x = ox * 1 + kx - 0;
  if (y < 0 || y >= 8 || x < 0 || x >= 10) { return 0.0; }
  return in0[((b * 8 + c) * 8 + y) * 10 + x];
}
fn loadB(k: i32, n: i32) -> f32 {
  return in1[n * 72 + k];
}
fn epilogue(m: i32, n: i32, acc: f32) {
  let c0 = (m / 48);
  let c1 = n;
  let c2 = ((m % 48) / 8);
  let c3 = (m % 8);
  let v0 = acc;
  let v1 = (v0 + in2[c0 * 4 + c1]);
  let v2 = (v1 + in3[c0 * 192 + c1 * 48 + c2 * 8 + c3]);
  out0[(c1) * 48 + (c2) * 8 + (c3)] = v2;
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
        if (m + 0 < 48) { v[0] = loadA(m + 0, k); }
        if (m + 1 < 48) { v[1] = loadA(m + 1, k); }
        if (m + 2 < 48) { v[2] = loadA(m + 2, k); }
        if (m + 3 < 48) { v[3] = loadA(m + 3, k); }
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
  if (m0 + tm * 4 + 0 < 48 && n0 + tn * 4 + 0 < 4) { epilogue(m0 + tm * 4 + 0, n0 + tn * 4 + 0, acc0_0[0]); }
  if (m0 + tm * 4 + 0 < 48 && n0 + tn * 4 + 1 < 4) { epilogue(m0 + tm * 4 + 0, n0 + tn * 4 + 1, acc0_0[1]); }
  if (m0 + tm * 4 + 0 < 48 && n0 + tn * 4 + 2 < 4) { epilogue(m0 + tm * 4 + 0, n0 + tn * 4 + 2, acc0_0[2]); }
  if (m0 + tm * 4 + 0 < 48 && n0 + tn * 4 + 3 < 4) { epilogue(m0 + tm * 4 + 0, n0 + tn * 4 + 3, acc0_0[3]); }
  if (m0 + tm * 4 + 1 < 48 && n0 + tn * 4 + 0 < 4) { epilogue(m0 + tm * 4 + 1, n0 + tn * 4 + 0, acc1_0[0]); }
  if (m0 + tm * 4 + 1 < 48 && n0 + tn * 4 + 1 < 4) { epilogue(m0 + tm * 4 + 1, n0 + tn * 4 + 1, acc1_0[1]); }
  if (m0 + tm * 4 + 1 < 48 && n0 + tn * 4 + 2 < 4) { epilogue(m0 + tm * 4 + 1, n0 + tn * 4 + 2, acc1_0[2]); }
  if (m0 + tm * 4 + 1 < 48 && n0 + tn * 4 + 3 < 4) { epilogue(m0 + tm * 4 + 1, n0 + tn * 4 + 3, acc1_0[3]); }
  if (m0 + tm * 4 + 2 < 48 && n0 + tn * 4 + 0 < 4) { epilogue(m0 + tm * 4 + 2, n0 + tn * 4 + 0, acc2_0[0]); }
  if (m0 + tm * 4 + 2 < 48 && n0 + tn * 4 + 1 < 4) { epilogue(m0 + tm * 4 + 2, n0 + tn * 4 + 1, acc2_0[1]); }
  if (m0 + tm * 4 + 2 < 48 && n0 + tn * 4 + 2 < 4) { epilogue(m0 + tm * 4 + 2, n0 + tn * 4 + 2, acc2_0[2]); }
  if (m0 + tm * 4 + 2 < 48 && n0 + tn * 4 + 3 < 4) { epilogue(m0 + tm * 4 + 2, n0 + tn * 4 + 3, acc2_0[3]); }
  if (m0 + tm * 4 + 3 < 48 && n0 + tn * 4 + 0 < 4) { epilogue(m0 + tm * 4 + 3, n0 + tn * 4 + 0, acc3_0[0]); }
  if (m0 + tm * 4 + 3 < 48 && n0 + tn * 4 + 1 < 4) { epilogue(m0 + tm * 4 + 3, n0 + tn * 4 + 1, acc3_0[1]); }
  if (m0 + tm * 4 + 3 < 48 && n0 + tn * 4 + 2 < 4) { epilogue(m0 + tm * 4 + 3, n0 + tn * 4 + 2, acc3_0[2]); }
  if (m0 + tm * 4 + 3 < 48 && n0 + tn * 4 + 3 < 4) { epilogue(m0 + tm * 4 + 3, n0 + tn * 4 + 3, acc3_0[3]); }
}
