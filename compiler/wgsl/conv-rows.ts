// Stride-1 "same" convolutions for lavapipe, with every lane working on whole vec4s of a feature-map row.
//
// llvmpipe turns each lane-divergent load into a scalar loop, so speed comes from how many FMAs each load feeds
// (docs/bench.md, "What lavapipe allows"). In NCHW with W % 4 == 0 a vec4 of a row is 4 neighbouring pixels: one load
// brings 4 taps, and the kx shifts of a 3x3 kernel are the same vec4 with a neighbour's edge lane swapped in.
// - `renderRowConv` (conv2d, and conv2d_bwd_x as the same conv with flipped weights): a lane owns P vec4s of one
//   output row for R output channels; the workgroup stages its R channels' weights as vec4s in workgroup memory.
// - `renderWeightGrad` (conv2d_bwd_w): a workgroup owns one input channel and RO output channels; each lane sums
//   dot(dy vec4, shifted x vec4) over a strided share of the row vec4s, then the workgroup adds the 64 lane sums
//   in a fixed order (deterministic, no atomics, no second kernel).
// Measured here (4 x 32 x 64 x 64, 3x3): forward 8-11 GFLOP/s and weight gradient 5.5 against 1.9 and 1.1 for the
// tiled implicit GEMM (gemm.ts), which stays the form for strided convs and widths that are not a multiple of 4.

/** A stride-1 convolution whose output has the input's size: k odd, pad (k - 1) / 2, W % 4 == 0. */
export interface SameConvShape {
  readonly B: number;
  /** Channels read (the input of the conv a row kernel computes; x's channels for the weight gradient). */
  readonly C: number;
  /** Channels written (dy's channels for the weight gradient). */
  readonly O: number;
  readonly H: number;
  readonly W: number;
  readonly k: number;
}

export interface RowConvSpec extends SameConvShape {
  /** Index of the weight multiplying input channel `c` into output channel `o` at tap t = ky * k + kx. */
  weight(o: string, c: string, t: string): string;
  /** The feature map, read as vec4s. */
  readonly inBuf: string;
  readonly wBuf: string;
}

/** dw[o, c, ky, kx] = sum over (b, y, x) of dy[b, o, y, x] x[b, c, y + ky - p, x + kx - p]. */
export interface WeightGradSpec extends SameConvShape {
  readonly xBuf: string;
  readonly dyBuf: string;
}

const WG = 64;
const LANES = "xyzw";

/** Whether a convolution can take the row forms: stride 1, odd k with same padding, rows of whole vec4s. */
export function rowConvApplies(stride: number, k: number, pad: number, width: number): boolean {
  return stride === 1 && k % 2 === 1 && 2 * pad === k - 1 && width % 4 === 0;
}

/** Output channels per lane (R) and vec4s per lane (P) of the row conv. */
export function rowConvTiles(s: RowConvSpec): { R: number; P: number; CC: number } {
  const R = s.O > 4 ? 8 : 4;
  const P = (s.W / 4) % 2 === 0 ? 2 : 1;
  // Input channels staged per pass: at most 16 KiB of workgroup memory.
  const CC = Math.min(s.C, Math.max(1, Math.floor(4096 / (s.k * s.k * R))));
  return { R, P, CC };
}

export function rowConvGrid(s: RowConvSpec): [number, number, number] {
  const { R, P } = rowConvTiles(s);
  return [Math.ceil((s.B * s.H * (s.W / 4 / P)) / WG), Math.ceil(s.O / R), 1];
}

/**
 * The vec4s of one input row a lane needs for P output vec4s and taps -p..p: loads `win{j}` for quads
 * j = -A .. P - 1 + A (zero outside the row), then `sh{kx}_{j}` = the row shifted by kx - p at output quad j.
 */
export function rowWindow(
  s: { W: number; k: number },
  P: number,
  xq: string,
  rowBase: string,
  buf: string,
  rowOk = "",
): string[] {
  const p = (s.k - 1) / 2;
  const A = Math.ceil(p / 4);
  const W4 = s.W / 4;
  const lines: string[] = [];
  const win = (j: number) => `win${j < 0 ? `m${-j}` : j}`;
  for (let j = -A; j < P + A; j++) {
    const conds = [rowOk, ...(j >= 0 && j < P ? [] : [`${xq} + ${j} >= 0`, `${xq} + ${j} < ${W4}`])].filter((c) => c);
    const load = `${buf}[${rowBase} + ${j}]`;
    lines.push(
      conds.length === 0
        ? `let ${win(j)} = ${load};`
        : `var ${win(j)} = vec4<f32>(); if (${conds.join(" && ")}) { ${win(j)} = ${load}; }`,
    );
  }
  for (let kx = 0; kx < s.k; kx++)
    for (let j = 0; j < P; j++) {
      const comps = [0, 1, 2, 3].map((e) => {
        const pos = 4 * j + e + kx - p; // position relative to quad 0's first pixel
        const q = Math.floor(pos / 4);
        return `${win(q)}.${LANES[pos - 4 * q]}`;
      });
      lines.push(`let sh${kx}_${j} = vec4<f32>(${comps.join(", ")});`);
    }
  return lines;
}

/** Renders the row conv; `decls` must bind `inBuf` as array<vec4<f32>> and define `epilogue(m, n, acc)`. */
export function renderRowConv(s: RowConvSpec, decls: string, epilogue: string): string {
  const { R, P, CC } = rowConvTiles(s);
  const KK = s.k * s.k;
  const R4 = R / 4;
  const XB = s.W / 4 / P;
  const lanes = s.B * s.H * XB;
  const p = (s.k - 1) / 2;
  const accs: string[] = [];
  for (let r = 0; r < R; r++) for (let j = 0; j < P; j++) accs.push(`a${r}_${j}`);
  const wAt = (r: number) => s.weight(`min(o + ${r}, ${s.O - 1})`, "c", "t");
  const body: string[] = [];
  for (let kx = 0; kx < s.k; kx++) for (let q = 0; q < R4; q++) body.push(`let w${kx}_${q} = ws[wb + ${kx * R4 + q}];`);
  for (let r = 0; r < R; r++)
    for (let j = 0; j < P; j++) {
      let e = `a${r}_${j}`;
      for (let kx = s.k - 1; kx >= 0; kx--) e = `fma(vec4<f32>(w${kx}_${r >> 2}.${LANES[r & 3]}), sh${kx}_${j}, ${e})`;
      body.push(`a${r}_${j} = ${e};`);
    }
  const stores: string[] = [];
  for (let r = 0; r < R; r++)
    for (let j = 0; j < P; j++)
      for (let e = 0; e < 4; e++)
        stores.push(
          `if (o0 + ${r} < ${s.O}) { epilogue(row + xb * ${4 * P} + ${4 * j + e}, o0 + ${r}, a${r}_${j}.${LANES[e]}); }`,
        );
  return [
    decls,
    `var<workgroup> ws: array<vec4<f32>, ${CC * KK * R4}>;`,
    "",
    `fn epilogue(m: i32, n: i32, acc: f32) {\n${epilogue}\n}`,
    "",
    `@compute @workgroup_size(${WG})`,
    "fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {",
    `  let g = i32(wg.x) * ${WG} + i32(lid);`,
    `  let gg = min(g, ${lanes - 1});`,
    `  let xb = gg % ${XB}; let y = (gg / ${XB}) % ${s.H}; let b = gg / ${XB * s.H};`,
    `  let o0 = i32(wg.y) * ${R};`,
    ...accs.map((a) => `  var ${a} = vec4<f32>();`),
    `  for (var c0 = 0; c0 < ${s.C}; c0 += ${CC}) {`,
    // Stage ws[(cl * KK + t) * R4 + q] = weights of channels o0 + 4q .. + 3 for input channel c0 + cl, tap t.
    `    for (var e = i32(lid); e < ${CC * KK * R4}; e += ${WG}) {`,
    `      let q = e % ${R4}; let t = (e / ${R4}) % ${KK}; let c = min(c0 + e / ${KK * R4}, ${s.C - 1});`,
    `      let o = o0 + q * 4;`,
    `      ws[e] = vec4<f32>(${s.wBuf}[${wAt(0)}], ${s.wBuf}[${wAt(1)}], ${s.wBuf}[${wAt(2)}], ${s.wBuf}[${wAt(3)}]);`,
    "    }",
    "    workgroupBarrier();",
    `    for (var cl = 0; cl < min(${CC}, ${s.C} - c0); cl++) {`,
    "      let c = c0 + cl;",
    `      for (var ky = 0; ky < ${s.k}; ky++) {`,
    `        let iy = y + ky - ${p};`,
    `        if (iy < 0 || iy >= ${s.H}) { continue; }`,
    `        let base = ((b * ${s.C} + c) * ${s.H} + iy) * ${s.W / 4} + xb * ${P};`,
    ...rowWindow(s, P, `xb * ${P}`, "base", s.inBuf).map((l) => `        ${l}`),
    `        let wb = (cl * ${KK} + ky * ${s.k}) * ${R4};`,
    ...body.map((l) => `        ${l}`),
    "      }",
    "    }",
    "    workgroupBarrier();",
    "  }",
    `  if (g >= ${lanes}) { return; }`,
    `  let row = (b * ${s.H} + y) * ${s.W};`,
    ...stores.map((l) => `  ${l}`),
    "}",
  ].join("\n");
}

/** Output channels per workgroup of the weight gradient. */
const RO = 4;

/** Whether the weight-gradient form fits: its lane sums (64 x RO x k^2 floats) must fit 16 KiB of workgroup memory. */
export function weightGradApplies(k: number): boolean {
  return WG * RO * k * k * 4 <= 16384;
}

export function weightGradGrid(s: WeightGradSpec): [number, number, number] {
  return [s.C * Math.ceil(s.O / RO), 1, 1];
}

/** Renders the weight gradient; `decls` binds x and dy as array<vec4<f32>> and defines `epilogue(m, n, acc)`. */
export function renderWeightGrad(s: WeightGradSpec, decls: string, epilogue: string): string {
  const KK = s.k * s.k;
  const OB = Math.ceil(s.O / RO);
  const W4 = s.W / 4;
  const quads = s.B * s.H * W4;
  const p = (s.k - 1) / 2;
  const accs: string[] = [];
  for (let r = 0; r < RO; r++) for (let t = 0; t < KK; t++) accs.push(`a${r}_${t}`);
  const rows: string[] = [];
  for (let ky = 0; ky < s.k; ky++) {
    rows.push(
      "{",
      `  let iy = y + ${ky - p}; let ok = iy >= 0 && iy < ${s.H};`,
      `  let base = ((b * ${s.C} + c) * ${s.H} + clamp(iy, 0, ${s.H - 1})) * ${W4} + xq;`,
      ...rowWindow(s, 1, "xq", "base", s.xBuf, "ok").map((l) => `  ${l}`),
      ...Array.from({ length: RO }, (_, r) =>
        Array.from({ length: s.k }, (_, kx) => `  a${r}_${ky * s.k + kx} += dot(d${r}, sh${kx}_0);`).join(" "),
      ),
      "}",
    );
  }
  return [
    decls,
    `var<workgroup> red: array<f32, ${WG * RO * KK}>;`,
    "",
    `fn epilogue(m: i32, n: i32, acc: f32) {\n${epilogue}\n}`,
    "",
    `@compute @workgroup_size(${WG})`,
    "fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {",
    `  let c = i32(wg.x) / ${OB}; let o0 = (i32(wg.x) % ${OB}) * ${RO};`,
    ...accs.map((a) => `  var ${a} = 0.0;`),
    `  for (var q = i32(lid); q < ${quads}; q += ${WG}) {`,
    `    let xq = q % ${W4}; let y = (q / ${W4}) % ${s.H}; let b = q / ${W4 * s.H};`,
    ...Array.from(
      { length: RO },
      (_, r) => `    let d${r} = ${s.dyBuf}[((b * ${s.O} + min(o0 + ${r}, ${s.O - 1})) * ${s.H} + y) * ${W4} + xq];`,
    ),
    ...rows.map((l) => `    ${l}`),
    "  }",
    ...accs.map((a, i) => `  red[${i * WG} + i32(lid)] = ${a};`),
    "  workgroupBarrier();",
    `  for (var e = i32(lid); e < ${RO * KK}; e += ${WG}) {`,
    "    var sum = 0.0;",
    `    for (var i = 0; i < ${WG}; i++) { sum += red[e * ${WG} + i]; }`,
    `    let o = o0 + e / ${KK};`,
    `    if (o < ${s.O}) { epilogue(o, c * ${KK} + e % ${KK}, sum); }`,
    "  }",
    "}",
  ].join("\n");
}
