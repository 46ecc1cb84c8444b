// How each op becomes WGSL. Four kinds:
// - `leaf`: a buffer the host writes (inputs); a constant is a literal.
// - `elementwise`: an expression of the operands' values at the same element (fuses into chains and epilogues).
// - `gather`: statements computing the output element at coordinates `c` by loading sources anywhere. A `row`
//   gather (softmax) computes its statements once per row along one axis and every element of the row from them.
// - `gemm`: C[m, n] = sum_k A(m, k) B(k, n), with A and B given as index code (implicit GEMM, see gemm.ts).
import { assert, at, type Node, stridesOf } from "../ir/node.js";
import { num, nums, type OpName, str } from "../ir/ops.js";
import { type RowConvSpec, rowConvApplies, type WeightGradSpec, weightGradApplies } from "./conv-rows.js";
import { groupedConvRules } from "./grouped.js";

/** A WGSL f32 literal (always with a decimal point or exponent). */
export function lit(x: number): string {
  assert(Number.isFinite(x), () => `constant ${x} is not finite`);
  if (Number.isInteger(x) && Math.abs(x) < 1e15) return `${x}.0`;
  return `${x}`;
}

export interface GatherCtx {
  /** The output coordinates (i32 expressions, outermost first). */
  readonly c: readonly string[];
  /** An f32 expression reading source `i` at the row-major coordinates `coords` (i32 expressions). */
  load(i: number, coords: readonly string[]): string;
  /** A fresh local name with this prefix. */
  fresh(prefix: string): string;
}
export interface GatherCode {
  readonly stmts: string[];
  readonly value: string;
  /** Module-scope helper functions the statements call (deduplicated by the code generator). */
  readonly helpers?: string[];
}

export interface GemmSpec {
  readonly M: number;
  readonly N: number;
  readonly K: number;
  /**
   * Independent products C_z = A_z B_z for z < batch (batched matmul); `loadA`, `loadB` and `coords` read z as
   * `bz`. Absent: one product.
   */
  readonly batch?: number;
  /** Body of `fn loadA(m: i32, k: i32) -> f32`, for 0 <= m < M, 0 <= k < K; `buf(i)` names source i. */
  readonly loadA: string;
  /** Body of `fn loadB(k: i32, n: i32) -> f32`. */
  readonly loadB: string;
  /** Output coordinates (i32 expressions) of C[m, n]. */
  coords(m: string, n: string): string[];
  /** Splits of the K range (partial sums reduced by a second kernel, no atomics). */
  readonly splitK: number;
  /** The direct-convolution form of the same product, when the op is a convolution (see direct.ts). */
  readonly direct?: DirectSpec;
  /** The vec4-row form of a stride-1 same-size convolution (see conv-rows.ts). */
  readonly rows?: RowConvSpec;
  /** The vec4-row form of a stride-1 same-size convolution's weight gradient. */
  readonly wgrad?: WeightGradSpec;
}

/**
 * A convolution as loops over (c, ky, kx) for one output row m per lane: `lane` decomposes m into coordinates,
 * `input` sets `ok` and `idx` of the input value for (c, ky, kx), `weight(n)` is the weight's index.
 */
export interface DirectSpec {
  readonly lane: string;
  readonly C: number;
  readonly KH: number;
  readonly KW: number;
  readonly input: string;
  weight(n: string): string;
  readonly inBuf: string;
  readonly wBuf: string;
}

/**
 * A gather op's own kernel: it computes the output's elements in any order and stores each through
 * `fn epilogue(i: i32, acc: f32)` at its flat row-major index (which runs the fused members and the store).
 */
export interface GatherForm {
  /** Sources the kernel reads as array<vec4<f32>> (their bindings are declared so). */
  readonly vec4Sources: readonly number[];
  /** The kernel's source from the bindings' declarations, the source buffer names and the epilogue's body. */
  render(decls: string, buf: (i: number) => string, epilogue: string): string;
  readonly workgroups: [number, number, number];
  /** Two per multiply-add, as every kernel counts (docs/bench.md). */
  readonly flops: number;
}

export type WgslRule =
  | { readonly kind: "leaf" }
  | {
      readonly kind: "elementwise";
      expr(a: readonly string[], n: Node): string;
      /** Module-scope functions the expression calls. */
      readonly helpers?: readonly string[];
    }
  | {
      readonly kind: "gather";
      code(ctx: GatherCtx, n: Node): GatherCode;
      /**
       * A whole kernel of its own for the shapes where the per-element statements are slow (the depthwise
       * convolutions, grouped.ts); the `rows` schedule takes it, the others keep `code`, and both must agree.
       */
      form?(n: Node): GatherForm | undefined;
      /**
       * The axis whose coordinate the statements never read (a row reduction): the kernel runs them once per row and
       * evaluates the value at every coordinate of the row, instead of once per element.
       */
      row?(n: Node): number;
    }
  | {
      readonly kind: "gemm";
      /** `swapped(i)`: source i is a transpose read in place (fuse.ts, `transposed`): index its source swapped. */
      spec(n: Node, buf: (i: number) => string, swapped: (i: number) => boolean): GemmSpec;
    };

const ew = (expr: (a: readonly string[], n: Node) => string, helpers?: readonly string[]): WgslRule => ({
  kind: "elementwise",
  expr,
  ...(helpers ? { helpers } : {}),
});
const gather = (code: (ctx: GatherCtx, n: Node) => GatherCode): WgslRule => ({ kind: "gather", code });
const srcShape = (n: Node, i: number) => at(n.src, i).shape;

/** Splits used for conv2d_bwd_w: enough workgroups to keep every core busy, at least 256 terms per split. */
export function chooseSplitK(tiles: number, K: number): number {
  return Math.max(1, Math.min(Math.ceil(64 / Math.max(1, tiles)), Math.floor(K / 256), 64));
}

// Weight of input index c in the bilinear taps of source position s (see interp.ts bilinearTaps).
const RESIZE_WEIGHT = `fn rbw(s: f32, c: i32, size: i32) -> f32 {
  let i0 = min(i32(floor(s)), size - 1);
  let i1 = min(i0 + 1, size - 1);
  let l1 = s - f32(i0);
  return select(0.0, 1.0 - l1, i0 == c) + select(0.0, l1, i1 == c);
}`;

// erf in f32: the odd Taylor series near 0 (keeps relative accuracy where erf is small), else 1 - erfc by Numerical
// Recipes' erfcc (relative error of erfc below 1.2e-7). Within 2e-7 of the float64 erf everywhere (docs/compiler.md).
const ERF = `fn erf32(x: f32) -> f32 {
  let z = abs(x);
  if (z < 0.5) {
    let x2 = x * x;
    return 1.1283791671 * x * (1.0 + x2 * (-0.33333333 + x2 * (0.1 + x2 * (-0.023809524 + x2 * (0.0046296296 - x2 * 0.00075757576)))));
  }
  let t = 1.0 / (1.0 + 0.5 * z);
  let p = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  let r = 1.0 - t * exp(-z * z + p);
  return select(-r, r, x >= 0.0);
}`;

// The rand op's draw (compiler/ir/rng.ts counterUniform, bit for bit): three rounds of murmur3's finaliser.
const RAND = `fn fmix32(x: u32) -> u32 {
  var h = x;
  h ^= h >> 16u; h *= 0x85ebca6bu; h ^= h >> 13u; h *= 0xc2b2ae35u; h ^= h >> 16u;
  return h;
}
fn counter_uniform(seed: u32, counter: u32, index: u32) -> f32 {
  let step = fmix32(seed ^ fmix32(counter ^ 0x9e3779b9u));
  return f32(fmix32(step + index * 0x9e3779b9u) >> 8u) / 16777216.0;
}`;

/** Decomposes an i32 expression `x` into coordinates of `shape` (row-major). */
function unflatten(ctx: GatherCtx, x: string, shape: readonly number[], prefix: string): [string[], string[]] {
  const st = stridesOf(shape);
  const names: string[] = [];
  const stmts: string[] = [];
  shape.forEach((d, i) => {
    const v = ctx.fresh(prefix);
    names.push(v);
    stmts.push(`let ${v} = (${x} / ${st[i] ?? 1}) % ${d};`);
  });
  return [names, stmts];
}

/** The WGSL rule of every op. */
export const wgslRules = {
  input: { kind: "leaf" },
  const: ew((_a, n) => lit(num(n.attrs, "value"))),
  iota: gather((ctx, n) => ({ stmts: [], value: `f32(${at(ctx.c, num(n.attrs, "axis"))})` })),
  affine: ew(([x], n) => `(${lit(num(n.attrs, "a"))} * ${x} + ${lit(num(n.attrs, "b"))})`),
  leaky_relu: ew(([x], n) => `select(${lit(num(n.attrs, "alpha"))} * ${x}, ${x}, ${x} > 0.0)`),
  leaky_step: ew(([x], n) => `select(${lit(num(n.attrs, "alpha"))}, 1.0, ${x} > 0.0)`),
  abs: ew(([x]) => `abs(${x})`),
  sign: ew(([x]) => `sign(${x})`),
  exp: ew(([x]) => `exp(${x})`),
  log: ew(([x]) => `log(${x})`),
  sqrt: ew(([x]) => `sqrt(${x})`),
  erf: ew(([x]) => `erf32(${x})`, [ERF]),
  add: ew(([a, b]) => `(${a} + ${b})`),
  sub: ew(([a, b]) => `(${a} - ${b})`),
  mul: ew(([a, b]) => `(${a} * ${b})`),
  div: ew(([a, b]) => `(${a} / ${b})`),
  reshape: gather((ctx, n) => {
    const st = stridesOf(n.shape);
    const flat = ctx.c.map((c, i) => `${c} * ${st[i] ?? 1}`).join(" + ");
    const f = ctx.fresh("flat");
    const [coords, stmts] = unflatten(ctx, f, srcShape(n, 0), "r");
    return { stmts: [`let ${f} = ${flat};`, ...stmts], value: ctx.load(0, coords) };
  }),
  permute: gather((ctx, n) => {
    const perm = nums(n.attrs, "perm");
    const src = new Array<string>(perm.length).fill("0");
    perm.forEach((p, i) => {
      src[p] = at(ctx.c, i);
    });
    return { stmts: [], value: ctx.load(0, src) };
  }),
  expand: gather((ctx, n) => {
    const s = srcShape(n, 0);
    const lead = n.shape.length - s.length;
    const coords = s.map((d, i) => (d === 1 ? "0" : at(ctx.c, i + lead)));
    return { stmts: [], value: ctx.load(0, coords) };
  }),
  pad: gather((ctx, n) => {
    const [, , h, w] = srcShape(n, 0);
    const [t, , l] = nums(n.attrs, "pads");
    const [b, ch, i, j] = ctx.c;
    const [y, x, v] = [ctx.fresh("y"), ctx.fresh("x"), ctx.fresh("p")];
    const stmts = [`var ${y} = ${i} - ${t};`, `var ${x} = ${j} - ${l};`, `var ${v} = 0.0;`];
    if (str(n.attrs, "mode") === "reflect") {
      stmts.push(`${y} = abs(${y}); ${y} = select(${y}, ${2 * ((h ?? 1) - 1)} - ${y}, ${y} >= ${h});`);
      stmts.push(`${x} = abs(${x}); ${x} = select(${x}, ${2 * ((w ?? 1) - 1)} - ${x}, ${x} >= ${w});`);
    }
    stmts.push(
      `if (${y} >= 0 && ${y} < ${h} && ${x} >= 0 && ${x} < ${w}) { ${v} = ${ctx.load(0, [b ?? "0", ch ?? "0", y, x])}; }`,
    );
    return { stmts, value: v };
  }),
  pad_bwd: gather((ctx, n) => {
    // Gather form of the adjoint: input position (y, x) sums the padded positions that read it. Along each
    // axis those are the direct one and, for reflect, one mirror in the top/left and one in the bottom/right.
    const [, , hp, wp] = srcShape(n, 0);
    const [, , h, w] = n.shape;
    const [t, , l] = nums(n.attrs, "pads");
    const reflect = str(n.attrs, "mode") === "reflect";
    const [b, ch, i, j] = ctx.c;
    const acc = ctx.fresh("acc");
    const taps = (c: string, before: number, size: number) =>
      reflect
        ? [
            [`${c} + ${before}`, "true"],
            [`${before} - ${c}`, `${c} >= 1 && ${c} <= ${before}`],
            [`${before + 2 * (size - 1)} - ${c}`, `${c} <= ${size - 2}`],
          ]
        : [[`${c} + ${before}`, "true"]];
    const stmts = [`var ${acc} = 0.0;`];
    for (const [py, cy] of taps(i ?? "0", t ?? 0, h ?? 1))
      for (const [px, cx] of taps(j ?? "0", l ?? 0, w ?? 1)) {
        const inRange = `${py} >= 0 && ${py} < ${hp} && ${px} >= 0 && ${px} < ${wp}`;
        stmts.push(
          `if (${cy} && ${cx} && ${inRange}) { ${acc} += ${ctx.load(0, [b ?? "0", ch ?? "0", py ?? "0", px ?? "0"])}; }`,
        );
      }
    return { stmts, value: acc };
  }),
  slice: gather((ctx, n) => {
    const begin = nums(n.attrs, "begin");
    return {
      stmts: [],
      value: ctx.load(
        0,
        ctx.c.map((c, i) => `(${c} + ${begin[i] ?? 0})`),
      ),
    };
  }),
  embed: gather((ctx, n) => {
    const begin = nums(n.attrs, "begin");
    const s = srcShape(n, 0);
    const v = ctx.fresh("e");
    const inside = ctx.c
      .map((c, i) => `${c} >= ${begin[i] ?? 0} && ${c} < ${(begin[i] ?? 0) + (s[i] ?? 0)}`)
      .join(" && ");
    const coords = ctx.c.map((c, i) => `(${c} - ${begin[i] ?? 0})`);
    return { stmts: [`var ${v} = 0.0;`, `if (${inside}) { ${v} = ${ctx.load(0, coords)}; }`], value: v };
  }),
  concat: gather((ctx, n) => {
    const axis = num(n.attrs, "axis");
    const v = ctx.fresh("cat");
    const stmts = [`var ${v} = 0.0;`];
    let offset = 0;
    n.src.forEach((s, k) => {
      const size = s.shape[axis] ?? 0;
      const coords = ctx.c.map((c, i) => (i === axis ? `(${c} - ${offset})` : c));
      const c = at(ctx.c, axis);
      stmts.push(`if (${c} >= ${offset} && ${c} < ${offset + size}) { ${v} = ${ctx.load(k, coords)}; }`);
      offset += size;
    });
    return { stmts, value: v };
  }),
  resize: gather((ctx, n) => {
    const [, , h, w] = srcShape(n, 0);
    const [, , ho, wo] = n.shape;
    const [b, ch, i, j] = ctx.c;
    const stmts: string[] = [];
    const taps = (o: string, inS: number, outS: number) => {
      const [s, i0, i1, l1] = [ctx.fresh("s"), ctx.fresh("i"), ctx.fresh("i"), ctx.fresh("l")];
      stmts.push(
        `let ${s} = max((f32(${o}) + 0.5) * ${lit(inS / outS)} - 0.5, 0.0);`,
        `let ${i0} = min(i32(floor(${s})), ${inS - 1});`,
        `let ${i1} = min(${i0} + 1, ${inS - 1});`,
        `let ${l1} = ${s} - f32(${i0});`,
      );
      return [i0, i1, l1] as const;
    };
    const [y0, y1, ly] = taps(i ?? "0", h ?? 1, ho ?? 1);
    const [x0, x1, lx] = taps(j ?? "0", w ?? 1, wo ?? 1);
    const v = (yy: string, xx: string) => ctx.load(0, [b ?? "0", ch ?? "0", yy, xx]);
    const value =
      `((1.0 - ${ly}) * ((1.0 - ${lx}) * ${v(y0, x0)} + ${lx} * ${v(y0, x1)})` +
      ` + ${ly} * ((1.0 - ${lx}) * ${v(y1, x0)} + ${lx} * ${v(y1, x1)}))`;
    return { stmts, value };
  }),
  resize_bwd: gather((ctx, n) => {
    // Input (i, j) collects every output whose bilinear taps include it; the loop bounds are conservative and
    // the weight is recomputed exactly as in the forward.
    const [, , ho, wo] = srcShape(n, 0);
    const [, , h, w] = n.shape;
    const [b, ch, i, j] = ctx.c;
    const acc = ctx.fresh("acc");
    const weight = (o: string, c: string, inS: number, outS: number) => {
      const s = `max((f32(${o}) + 0.5) * ${lit(inS / outS)} - 0.5, 0.0)`;
      return `rbw(${s}, ${c}, ${inS})`;
    };
    const range = (c: string, inS: number, outS: number, name: string) => {
      const r = outS / inS;
      return [
        `let ${name}lo = max(0, i32(floor(f32(${c} - 1) * ${lit(r)})) - 1);`,
        `let ${name}hi = min(${outS - 1}, i32(ceil(f32(${c} + 2) * ${lit(r)})) + 1);`,
      ];
    };
    const [oy, ox] = [ctx.fresh("oy"), ctx.fresh("ox")];
    const stmts = [
      `var ${acc} = 0.0;`,
      ...range(i ?? "0", h ?? 1, ho ?? 1, oy),
      ...range(j ?? "0", w ?? 1, wo ?? 1, ox),
      `for (var ${oy} = ${oy}lo; ${oy} <= ${oy}hi; ${oy}++) {`,
      `  let ${oy}w = ${weight(oy, i ?? "0", h ?? 1, ho ?? 1)};`,
      `  if (${oy}w == 0.0) { continue; }`,
      `  for (var ${ox} = ${ox}lo; ${ox} <= ${ox}hi; ${ox}++) {`,
      `    ${acc} += ${oy}w * ${weight(ox, j ?? "0", w ?? 1, wo ?? 1)} * ${ctx.load(0, [b ?? "0", ch ?? "0", oy, ox])};`,
      "  }",
      "}",
    ];
    return { stmts, value: acc, helpers: [RESIZE_WEIGHT] };
  }),
  roll: gather((ctx, n) => {
    const shifts = nums(n.attrs, "shifts");
    const axes = nums(n.attrs, "axes");
    // Output i of an axis of size d reads (i - shift) mod d, written as (i + k) % d with k in [0, d).
    const coords = ctx.c.map((c, i) => {
      const j = axes.indexOf(i);
      const d = n.shape[i] ?? 1;
      const k = j < 0 ? 0 : ((-(shifts[j] ?? 0) % d) + d) % d;
      return k === 0 ? c : `((${c} + ${k}) % ${d})`;
    });
    return { stmts: [], value: ctx.load(0, coords) };
  }),
  index_select: gather((ctx, n) => {
    const axis = num(n.attrs, "axis");
    const r = ctx.fresh("ix");
    const coords = ctx.c.map((c, i) => (i === axis ? r : c));
    return { stmts: [`let ${r} = i32(${ctx.load(1, [at(ctx.c, axis)])});`], value: ctx.load(0, coords) };
  }),
  index_select_bwd: gather((ctx, n) => {
    // Gather form of the scatter: output r along the axis sums g at every position p whose index is r, in order.
    const axis = num(n.attrs, "axis");
    const k = srcShape(n, 0)[axis] ?? 0;
    const [acc, p] = [ctx.fresh("acc"), ctx.fresh("p")];
    const coords = ctx.c.map((c, i) => (i === axis ? p : c));
    const stmts = [
      `var ${acc} = 0.0;`,
      `for (var ${p} = 0; ${p} < ${k}; ${p}++) {`,
      `  if (i32(${ctx.load(1, [p])}) == ${at(ctx.c, axis)}) { ${acc} += ${ctx.load(0, coords)}; }`,
      "}",
    ];
    return { stmts, value: acc };
  }),
  sum: gather((ctx, n) => {
    const s = srcShape(n, 0);
    const axes = nums(n.attrs, "axes");
    const reducedShape = axes.map((a) => s[a] ?? 1);
    const count = reducedShape.reduce((p, d) => p * d, 1);
    const [acc, r] = [ctx.fresh("acc"), ctx.fresh("r")];
    const [rc, rs] = unflatten(ctx, r, reducedShape, "q");
    const coords = ctx.c.map((c, i) => (axes.includes(i) ? at(rc, axes.indexOf(i)) : c));
    const stmts = [
      `var ${acc} = 0.0;`,
      `for (var ${r} = 0; ${r} < ${count}; ${r}++) {`,
      ...rs.map((x) => `  ${x}`),
      `  ${acc} += ${ctx.load(0, coords)};`,
      "}",
    ];
    return { stmts, value: acc };
  }),
  softmax: {
    kind: "gather",
    row: (n) => num(n.attrs, "axis"),
    code: (ctx, n) => {
      const axis = num(n.attrs, "axis");
      const len = n.shape[axis] ?? 1;
      const [m, z, k] = [ctx.fresh("m"), ctx.fresh("z"), ctx.fresh("k")];
      const at_ = ctx.load(
        0,
        ctx.c.map((c, i) => (i === axis ? k : c)),
      );
      const stmts = [
        `var ${m} = -3.4e38;`,
        `for (var ${k} = 0; ${k} < ${len}; ${k}++) { ${m} = max(${m}, ${at_}); }`,
        `var ${z} = 0.0;`,
        `for (var ${k} = 0; ${k} < ${len}; ${k}++) { ${z} += exp(${at_} - ${m}); }`,
      ];
      return { stmts, value: `(exp(${ctx.load(0, ctx.c)} - ${m}) / ${z})` };
    },
  },
  rand: gather((ctx, n) => {
    const st = stridesOf(n.shape);
    const flat = ctx.c.map((c, i) => `u32(${c}) * ${st[i] ?? 1}u`).join(" + ") || "0u";
    const counter = ctx.load(0, ["0"]);
    return {
      stmts: [],
      value: `counter_uniform(${num(n.attrs, "seed")}u, u32(${counter}), ${flat})`,
      helpers: [RAND],
    };
  }),
  matmul: {
    kind: "gemm",
    spec: (n, buf, swapped) => {
      const r = n.shape.length;
      const [M, K] = srcShape(n, 0).slice(-2) as [number, number];
      const N = n.shape[r - 1] ?? 0;
      // A[m, k] is at m·K + k, or, read through a transpose of its [K, M] source, k·M + m; B likewise.
      const [aAt, bAt] = [swapped(0) ? `k * ${M} + m` : `m * ${K} + k`, swapped(1) ? `n * ${K} + k` : `k * ${N} + n`];
      if (r === 2) {
        return {
          M,
          N,
          K,
          loadA: `return ${buf(0)}[${aAt}];`,
          loadB: `return ${buf(1)}[${bAt}];`,
          coords: (m, nn) => [m, nn],
          splitK: 1,
        };
      }
      // Batched: product bz of the leading axes (row-major), whose coordinates the epilogue needs.
      const lead = n.shape.slice(0, -2);
      const ls = stridesOf(lead);
      return {
        M,
        N,
        K,
        batch: lead.reduce((p, d) => p * d, 1),
        loadA: `return ${buf(0)}[bz * ${M * K} + ${aAt}];`,
        loadB: `return ${buf(1)}[bz * ${K * N} + ${bAt}];`,
        coords: (m, nn) => [...lead.map((d, i) => `((bz / ${ls[i] ?? 1}) % ${d})`), m, nn],
        splitK: 1,
      };
    },
  },
  conv2d: {
    kind: "gemm",
    spec: (n, buf) => {
      const [, ci, h, w] = srcShape(n, 0) as [number, number, number, number];
      const [co, , kh, kw] = srcShape(n, 1) as [number, number, number, number];
      const [nb, , ho, wo] = n.shape as [number, number, number, number];
      const [s, p] = [num(n.attrs, "stride"), num(n.attrs, "pad")];
      const K = ci * kh * kw;
      return {
        M: nb * ho * wo,
        N: co,
        K,
        loadA: [
          `let b = m / ${ho * wo}; let r = m % ${ho * wo}; let oy = r / ${wo}; let ox = r % ${wo};`,
          `let c = k / ${kh * kw}; let q = k % ${kh * kw}; let ky = q / ${kw}; let kx = q % ${kw};`,
          `let y = oy * ${s} + ky - ${p}; let x = ox * ${s} + kx - ${p};`,
          `if (y < 0 || y >= ${h} || x < 0 || x >= ${w}) { return 0.0; }`,
          `return ${buf(0)}[((b * ${ci} + c) * ${h} + y) * ${w} + x];`,
        ].join("\n  "),
        loadB: `return ${buf(1)}[n * ${K} + k];`,
        coords: (m, o) => [`(${m} / ${ho * wo})`, o, `((${m} % ${ho * wo}) / ${wo})`, `(${m} % ${wo})`],
        splitK: 1,
        rows:
          kh === kw && rowConvApplies(s, kh, p, w)
            ? {
                ...{ B: nb, C: ci, O: co, H: h, W: w, k: kh, inBuf: buf(0), wBuf: buf(1) },
                weight: (o, c, t) => `(${o} * ${ci} + ${c}) * ${kh * kw} + ${t}`,
              }
            : undefined,
        direct: {
          lane: `let b = m / ${ho * wo}; let r = m % ${ho * wo}; let oy = r / ${wo}; let ox = r % ${wo};`,
          C: ci,
          KH: kh,
          KW: kw,
          input: [
            `let y = oy * ${s} + ky - ${p}; let x = ox * ${s} + kx - ${p};`,
            `let ok = y >= 0 && y < ${h} && x >= 0 && x < ${w};`,
            `let idx = ((b * ${ci} + c) * ${h} + y) * ${w} + x;`,
          ].join(" "),
          weight: (nn) => `((${nn} * ${ci} + c) * ${kh} + ky) * ${kw} + kx`,
          inBuf: buf(0),
          wBuf: buf(1),
        },
      };
    },
  },
  conv2d_bwd_x: {
    kind: "gemm",
    spec: (n, buf) => {
      const [nb, ci, h, w] = n.shape as [number, number, number, number];
      const [co, , kh, kw] = srcShape(n, 1) as [number, number, number, number];
      const [, , ho, wo] = srcShape(n, 0) as [number, number, number, number];
      const [s, p] = [num(n.attrs, "stride"), num(n.attrs, "pad")];
      return {
        M: nb * h * w,
        N: ci,
        K: co * kh * kw,
        // dx[b, c, y, x] = sum over (o, ky, kx) with y + p - ky = oy * s of dy[b, o, oy, ox] w[o, c, ky, kx].
        loadA: [
          `let b = m / ${h * w}; let r = m % ${h * w}; let y = r / ${w}; let x = r % ${w};`,
          `let o = k / ${kh * kw}; let q = k % ${kh * kw}; let ky = q / ${kw}; let kx = q % ${kw};`,
          `let ty = y + ${p} - ky; let tx = x + ${p} - kx;`,
          `if (ty < 0 || tx < 0 || ty % ${s} != 0 || tx % ${s} != 0) { return 0.0; }`,
          `let oy = ty / ${s}; let ox = tx / ${s};`,
          `if (oy >= ${ho} || ox >= ${wo}) { return 0.0; }`,
          `return ${buf(0)}[((b * ${co} + o) * ${ho} + oy) * ${wo} + ox];`,
        ].join("\n  "),
        loadB: [
          `let o = k / ${kh * kw}; let q = k % ${kh * kw};`,
          `return ${buf(1)}[(o * ${ci} + n) * ${kh * kw} + q];`,
        ].join("\n  "),
        coords: (m, c) => [`(${m} / ${h * w})`, c, `((${m} % ${h * w}) / ${w})`, `(${m} % ${w})`],
        splitK: 1,
        // With stride 1 and same padding, dx is the conv of dy with the flipped, transposed kernel.
        rows:
          kh === kw && rowConvApplies(s, kh, p, w)
            ? {
                ...{ B: nb, C: co, O: ci, H: h, W: w, k: kh, inBuf: buf(0), wBuf: buf(1) },
                weight: (c, o, t) => `(${o} * ${ci} + ${c}) * ${kh * kw} + ${kh * kw - 1} - ${t}`,
              }
            : undefined,
        direct: {
          lane: `let b = m / ${h * w}; let r = m % ${h * w}; let y = r / ${w}; let x = r % ${w};`,
          C: co,
          KH: kh,
          KW: kw,
          // Here the loop variable c runs over the output channels o of the forward conv.
          input: [
            `let ty = y + ${p} - ky; let tx = x + ${p} - kx; let oy = ty / ${s}; let ox = tx / ${s};`,
            `let ok = ty >= 0 && tx >= 0 && ty % ${s} == 0 && tx % ${s} == 0 && oy < ${ho} && ox < ${wo};`,
            `let idx = ((b * ${co} + c) * ${ho} + oy) * ${wo} + ox;`,
          ].join(" "),
          weight: (nn) => `((c * ${ci} + ${nn}) * ${kh} + ky) * ${kw} + kx`,
          inBuf: buf(0),
          wBuf: buf(1),
        },
      };
    },
  },
  conv2d_bwd_w: {
    kind: "gemm",
    spec: (n, buf) => {
      const [nb, ci, h, w] = srcShape(n, 0) as [number, number, number, number];
      const [, co, ho, wo] = srcShape(n, 1) as [number, number, number, number];
      const k = num(n.attrs, "k");
      const [s, p] = [num(n.attrs, "stride"), num(n.attrs, "pad")];
      const N = ci * k * k;
      const K = nb * ho * wo;
      return {
        M: co,
        N,
        K,
        // dw[o, c, ky, kx] = sum over (b, oy, ox) of dy[b, o, oy, ox] x[b, c, oy*s + ky - p, ox*s + kx - p].
        loadA: [
          `let b = k / ${ho * wo}; let r = k % ${ho * wo};`,
          `return ${buf(1)}[(b * ${co} + m) * ${ho * wo} + r];`,
        ].join("\n  "),
        loadB: [
          `let b = k / ${ho * wo}; let r = k % ${ho * wo}; let oy = r / ${wo}; let ox = r % ${wo};`,
          `let c = n / ${k * k}; let q = n % ${k * k}; let ky = q / ${k}; let kx = q % ${k};`,
          `let y = oy * ${s} + ky - ${p}; let x = ox * ${s} + kx - ${p};`,
          `if (y < 0 || y >= ${h} || x < 0 || x >= ${w}) { return 0.0; }`,
          `return ${buf(0)}[((b * ${ci} + c) * ${h} + y) * ${w} + x];`,
        ].join("\n  "),
        coords: (m, nn) => [m, `(${nn} / ${k * k})`, `((${nn} % ${k * k}) / ${k})`, `(${nn} % ${k})`],
        splitK: -1, // chosen from the tile count by the GEMM schedule
        wgrad:
          rowConvApplies(s, k, p, w) && weightGradApplies(k)
            ? { B: nb, C: ci, O: co, H: h, W: w, k, xBuf: buf(0), dyBuf: buf(1) }
            : undefined,
      };
    },
  },
  ...groupedConvRules,
} satisfies Record<OpName, WgslRule>;
