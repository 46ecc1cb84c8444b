// Grouped and depthwise convolution (conv2d_grouped and its two adjoints), in two forms.
// - Gathers (every schedule, every shape): one thread per output element loops over the taps of its group; the
//   code generator's pointwise kernel runs them and fuses the bias (and any other elementwise consumer) into them.
//   Local names avoid the `c<i>` of the output coordinates.
// - Depthwise rows (the `rows` schedule; one input channel per output channel, stride 1, same padding, W % 4 == 0:
//   every depthwise 3x3 of Restormer, PromptIR and Uformer's LeFF): a gather does 9 multiply-adds against 18 loads,
//   and lavapipe pays per load (docs/bench.md, "What lavapipe allows"), so these kernels read rows as vec4s, as the
//   dense row convs (conv-rows.ts) do. The forward and the input gradient (the same depthwise conv with the kernel
//   flipped) give a lane P vec4s of one output row of one channel; the weight gradient gives a workgroup one
//   channel, each lane sums a strided share of the row vec4s, and the workgroup adds the 64 lane sums in a fixed
//   order (deterministic, no atomics; a blocked sum, more accurate than one sequential loop over B·H·W terms).
import type { Node } from "../ir/node.js";
import { num, nums } from "../ir/ops.js";
import { rowConvApplies, rowWindow } from "./conv-rows.js";
import type { GatherCode, GatherCtx, GatherForm, WgslRule } from "./rules.js";

type Dims4 = [number, number, number, number];
const shapeOf = (n: Node, i: number): Dims4 => (n.src[i]?.shape ?? [0, 0, 0, 0]) as Dims4;

/** The geometry every rule reads: input channels per group, output channels per group, stride and padding. */
function geometry(n: Node, xs: Dims4, ws: Dims4) {
  const groups = num(n.attrs, "groups");
  return { cpg: xs[1] / groups, opg: ws[0] / groups, s: num(n.attrs, "stride"), p: num(n.attrs, "pad") };
}

/** y[b, o, oy, ox] = sum over the group's channels and the taps of x[b, c, oy·s + ky − p, ox·s + kx − p] w[o, cl, ky, kx]. */
function forward(ctx: GatherCtx, n: Node): GatherCode {
  const xs = shapeOf(n, 0);
  const ws = shapeOf(n, 1);
  const { cpg, opg, s, p } = geometry(n, xs, ws);
  const [b, o, oy, ox] = ctx.c as [string, string, string, string];
  const [acc, cl, c, ky, kx, iy, ix] = ["acc", "cl", "ch", "ky", "kx", "iy", "ix"].map((v) => ctx.fresh(v)) as string[];
  return {
    stmts: [
      `var ${acc} = 0.0;`,
      `for (var ${cl} = 0; ${cl} < ${cpg}; ${cl}++) {`,
      `  let ${c} = (${o} / ${opg}) * ${cpg} + ${cl};`,
      `  for (var ${ky} = 0; ${ky} < ${ws[2]}; ${ky}++) {`,
      `    let ${iy} = ${oy} * ${s} + ${ky} - ${p};`,
      `    if (${iy} < 0 || ${iy} >= ${xs[2]}) { continue; }`,
      `    for (var ${kx} = 0; ${kx} < ${ws[3]}; ${kx}++) {`,
      `      let ${ix} = ${ox} * ${s} + ${kx} - ${p};`,
      `      if (${ix} < 0 || ${ix} >= ${xs[3]}) { continue; }`,
      `      ${acc} = fma(${ctx.load(0, [b, c as string, iy as string, ix as string])}, ${ctx.load(1, [o, cl as string, ky as string, kx as string])}, ${acc});`,
      "    }",
      "  }",
      "}",
    ],
    value: acc as string,
  };
}

/** dx[b, c, y, x] = sum over the group's output channels o and the taps with y + p − ky = oy·s of dy[b, o, oy, ox] w[o, c % cpg, ky, kx]. */
function inputGrad(ctx: GatherCtx, n: Node): GatherCode {
  const ds = shapeOf(n, 0);
  const ws = shapeOf(n, 1);
  const { cpg, opg, s, p } = geometry(n, nums(n.attrs, "xshape") as Dims4, ws);
  const [b, c, y, x] = ctx.c as [string, string, string, string];
  const [acc, ol, o, ky, kx, ty, tx] = ["acc", "ol", "o", "ky", "kx", "ty", "tx"].map((v) => ctx.fresh(v)) as string[];
  const [oy, ox] = [`(${ty} / ${s})`, `(${tx} / ${s})`];
  const strided = (t: string) => (s === 1 ? "" : ` || ${t} % ${s} != 0`);
  return {
    stmts: [
      `var ${acc} = 0.0;`,
      `for (var ${ol} = 0; ${ol} < ${opg}; ${ol}++) {`,
      `  let ${o} = (${c} / ${cpg}) * ${opg} + ${ol};`,
      `  for (var ${ky} = 0; ${ky} < ${ws[2]}; ${ky}++) {`,
      `    let ${ty} = ${y} + ${p} - ${ky};`,
      `    if (${ty} < 0${strided(ty as string)} || ${oy} >= ${ds[2]}) { continue; }`,
      `    for (var ${kx} = 0; ${kx} < ${ws[3]}; ${kx}++) {`,
      `      let ${tx} = ${x} + ${p} - ${kx};`,
      `      if (${tx} < 0${strided(tx as string)} || ${ox} >= ${ds[3]}) { continue; }`,
      `      ${acc} = fma(${ctx.load(0, [b, o as string, oy, ox])}, ${ctx.load(1, [o as string, `(${c} % ${cpg})`, ky as string, kx as string])}, ${acc});`,
      "    }",
      "  }",
      "}",
    ],
    value: acc as string,
  };
}

/** dw[o, cl, ky, kx] = sum over (b, oy, ox) of dy[b, o, oy, ox] x[b, group(o)·cpg + cl, oy·s + ky − p, ox·s + kx − p]. */
function weightGrad(ctx: GatherCtx, n: Node): GatherCode {
  const xs = shapeOf(n, 0);
  const ds = shapeOf(n, 1);
  const { cpg, opg, s, p } = geometry(n, xs, [ds[1], 0, 0, 0]);
  const [o, cl, ky, kx] = ctx.c as [string, string, string, string];
  const [acc, c, b, oy, ox, iy, ix] = ["acc", "ch", "bi", "oy", "ox", "iy", "ix"].map((v) => ctx.fresh(v)) as string[];
  return {
    stmts: [
      `var ${acc} = 0.0;`,
      `let ${c} = (${o} / ${opg}) * ${cpg} + ${cl};`,
      `for (var ${b} = 0; ${b} < ${ds[0]}; ${b}++) {`,
      `  for (var ${oy} = 0; ${oy} < ${ds[2]}; ${oy}++) {`,
      `    let ${iy} = ${oy} * ${s} + ${ky} - ${p};`,
      `    if (${iy} < 0 || ${iy} >= ${xs[2]}) { continue; }`,
      `    for (var ${ox} = 0; ${ox} < ${ds[3]}; ${ox}++) {`,
      `      let ${ix} = ${ox} * ${s} + ${kx} - ${p};`,
      `      if (${ix} < 0 || ${ix} >= ${xs[3]}) { continue; }`,
      `      ${acc} = fma(${ctx.load(1, [b as string, o, oy as string, ox as string])}, ${ctx.load(0, [b as string, c as string, iy as string, ix as string])}, ${acc});`,
      "    }",
      "  }",
      "}",
    ],
    value: acc as string,
  };
}

/** A depthwise map's shape: batch, channels, rows, columns, and the square kernel's size. */
interface DepthwiseShape {
  readonly B: number;
  readonly C: number;
  readonly H: number;
  readonly W: number;
  readonly k: number;
}

/** The shape when the op is a depthwise conv the row forms take (see the header), else undefined. */
function depthwiseShape(n: Node, xs: Dims4, ws: Dims4): DepthwiseShape | undefined {
  const { cpg, opg, s, p } = geometry(n, xs, ws);
  const ok = cpg === 1 && opg === 1 && ws[2] === ws[3] && rowConvApplies(s, ws[2], p, xs[3]);
  return ok ? { B: xs[0], C: xs[1], H: xs[2], W: xs[3], k: ws[2] } : undefined;
}

const WG = 64;
/** Grid-stride loops keep the grid inside one dimension's 65,535 workgroups. */
const MAX_GROUPS = 4096;

/**
 * y[b, c, y, x] = sum over taps of x[b, c, y + ky − p, x + kx − p] · w[tap(c, ky, kx)]: the forward with `tap` the
 * weight's own index, the input gradient with the flipped one. Source 0 is the map, source 1 the kernel.
 */
function depthwiseRows(d: DepthwiseShape, flipped: boolean): GatherForm {
  const P = (d.W / 4) % 2 === 0 ? 2 : 1;
  const XB = d.W / 4 / P;
  const lanes = d.B * d.C * d.H * XB;
  const p = (d.k - 1) / 2;
  const tap = (ky: string, kx: number) =>
    flipped ? `(${d.k - 1} - ${ky}) * ${d.k} + ${d.k - 1 - kx}` : `${ky} * ${d.k} + ${kx}`;
  return {
    vec4Sources: [0],
    workgroups: [Math.max(1, Math.min(Math.ceil(lanes / WG), MAX_GROUPS)), 1, 1],
    flops: 2 * d.k * d.k * d.B * d.C * d.H * d.W,
    render: (decls, buf, epilogue) => {
      const [xBuf, wBuf] = [buf(0), buf(1)];
      const accs = Array.from({ length: P }, (_, j) => `a${j}`);
      const taps: string[] = [];
      for (let kx = 0; kx < d.k; kx++) {
        taps.push(`let w${kx} = vec4<f32>(${wBuf}[c * ${d.k * d.k} + ${tap("ky", kx)}]);`);
        for (let j = 0; j < P; j++) taps.push(`a${j} = fma(w${kx}, sh${kx}_${j}, a${j});`);
      }
      const stores = accs.flatMap((a, j) =>
        [0, 1, 2, 3].map((e) => `epilogue(row + xb * ${4 * P} + ${4 * j + e}, ${a}.${"xyzw"[e]});`),
      );
      return [
        decls,
        "",
        `fn epilogue(i: i32, acc: f32) {\n${epilogue}\n}`,
        "",
        `@compute @workgroup_size(${WG})`,
        "fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {",
        `  for (var g = i32(gid.x); g < ${lanes}; g += i32(nwg.x) * ${WG}) {`,
        `    let xb = g % ${XB}; let y = (g / ${XB}) % ${d.H}; let bc = g / ${XB * d.H}; let c = bc % ${d.C};`,
        ...accs.map((a) => `    var ${a} = vec4<f32>();`),
        `    for (var ky = 0; ky < ${d.k}; ky++) {`,
        `      let iy = y + ky - ${p};`,
        `      if (iy < 0 || iy >= ${d.H}) { continue; }`,
        `      let base = (bc * ${d.H} + iy) * ${d.W / 4} + xb * ${P};`,
        ...rowWindow(d, P, `xb * ${P}`, "base", xBuf).map((l) => `      ${l}`),
        ...taps.map((l) => `      ${l}`),
        "    }",
        `    let row = (bc * ${d.H} + y) * ${d.W};`,
        ...stores.map((l) => `    ${l}`),
        "  }",
        "}",
      ].join("\n");
    },
  };
}

/** dw[c, 0, ky, kx] = sum over (b, y, x) of dy[b, c, y, x] x[b, c, y + ky − p, x + kx − p], a workgroup per channel. */
function depthwiseWeightGrad(d: DepthwiseShape): GatherForm {
  const KK = d.k * d.k;
  const W4 = d.W / 4;
  const quads = d.B * d.H * W4;
  const p = (d.k - 1) / 2;
  return {
    vec4Sources: [0, 1],
    workgroups: [d.C, 1, 1],
    flops: 2 * KK * d.B * d.C * d.H * d.W,
    render: (decls, buf, epilogue) => {
      const [xBuf, dyBuf] = [buf(0), buf(1)];
      const accs = Array.from({ length: KK }, (_, t) => `a${t}`);
      const rows: string[] = [];
      for (let ky = 0; ky < d.k; ky++)
        rows.push(
          "{",
          `  let iy = y + ${ky - p}; let ok = iy >= 0 && iy < ${d.H};`,
          `  let base = (bc * ${d.H} + clamp(iy, 0, ${d.H - 1})) * ${W4} + xq;`,
          ...rowWindow(d, 1, "xq", "base", xBuf, "ok").map((l) => `  ${l}`),
          `  ${Array.from({ length: d.k }, (_, kx) => `a${ky * d.k + kx} += dot(dy, sh${kx}_0);`).join(" ")}`,
          "}",
        );
      return [
        decls,
        `var<workgroup> red: array<f32, ${WG * KK}>;`,
        "",
        `fn epilogue(i: i32, acc: f32) {\n${epilogue}\n}`,
        "",
        `@compute @workgroup_size(${WG})`,
        "fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {",
        "  let c = i32(wg.x);",
        ...accs.map((a) => `  var ${a} = 0.0;`),
        `  for (var q = i32(lid); q < ${quads}; q += ${WG}) {`,
        `    let xq = q % ${W4}; let y = (q / ${W4}) % ${d.H}; let bc = (q / ${W4 * d.H}) * ${d.C} + c;`,
        `    let dy = ${dyBuf}[(bc * ${d.H} + y) * ${W4} + xq];`,
        ...rows.map((l) => `    ${l}`),
        "  }",
        ...accs.map((a, t) => `  red[${t * WG} + i32(lid)] = ${a};`),
        "  workgroupBarrier();",
        `  if (i32(lid) < ${KK}) {`,
        "    var sum = 0.0;",
        `    for (var i = 0; i < ${WG}; i++) { sum += red[i32(lid) * ${WG} + i]; }`,
        `    epilogue(c * ${KK} + i32(lid), sum);`,
        "  }",
        "}",
      ].join("\n");
    },
  };
}

/** The WGSL rules of the grouped convolution ops (registered in rules.ts). */
export const groupedConvRules = {
  conv2d_grouped: {
    kind: "gather",
    code: forward,
    form: (n) => {
      const d = depthwiseShape(n, shapeOf(n, 0), shapeOf(n, 1));
      return d && depthwiseRows(d, false);
    },
  },
  conv2d_grouped_bwd_x: {
    kind: "gather",
    code: inputGrad,
    form: (n) => {
      const d = depthwiseShape(n, nums(n.attrs, "xshape") as Dims4, shapeOf(n, 1));
      return d && depthwiseRows(d, true);
    },
  },
  conv2d_grouped_bwd_w: {
    kind: "gather",
    code: weightGrad,
    form: (n) => {
      const k = num(n.attrs, "k");
      const d = depthwiseShape(n, shapeOf(n, 0), [shapeOf(n, 1)[1], 1, k, k]);
      // Below one row vec4 per lane most of the workgroup idles: there one thread per weight is faster (measured on
      // lavapipe: 2×680×8×8, 32 vec4s a channel, 2.2 ms against the gather's 1.4).
      return d && (d.B * d.H * d.W) / 4 >= WG ? depthwiseWeightGrad(d) : undefined;
    },
  },
} satisfies Record<string, WgslRule>;
