// Grouped and depthwise convolution (conv2d_grouped and its two adjoints) as direct gathers: one thread per output
// element loops over the taps of its group. Restormer's convs of this kind are depthwise 3x3 (one input channel per
// output channel): 9 multiply-adds per output against 18 loads, so they are memory-bound and the dense implicit GEMM
// (gemm.ts) would waste most of a tile on a K of 9 and an N of 1. As gathers they need no kernel form of their own:
// the code generator's pointwise kernel runs them and fuses the bias (and any other elementwise consumer) into them.
// Local names avoid the `c<i>` of the output coordinates.
// NOTE: the weight gradient gives each thread one weight element and sums B·Ho·Wo terms in order; a depthwise layer
// has only C·k² such threads, fine on lavapipe's cores, few for a large GPU (a split over the batch would help).
import type { Node } from "../ir/node.js";
import { num, nums } from "../ir/ops.js";
import type { GatherCode, GatherCtx, WgslRule } from "./rules.js";

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

/** The WGSL rules of the grouped convolution ops (registered in rules.ts). */
export const groupedConvRules = {
  conv2d_grouped: { kind: "gather", code: forward },
  conv2d_grouped_bwd_x: { kind: "gather", code: inputGrad },
  conv2d_grouped_bwd_w: { kind: "gather", code: weightGrad },
} satisfies Record<string, WgslRule>;
