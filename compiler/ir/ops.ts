// The primitive ops and their shape rules. Every op also has a backward rule (compiler/autodiff/grad-rules.ts),
// a float64 CPU reference (compiler/ir/interp.ts) and a WGSL rule (compiler/wgsl/rules.ts). Each of the four is a
// `Record<OpName, ...>`, so adding a name here fails to type-check until all four exist (docs/adding-an-op.md).
import { type Attrs, assert, numel, type Shape, type ShapeRule } from "./node.js";

export const OPS = [
  // Leaves: named buffers the host writes (data, parameters, optimizer state, step scalars) and constants. `iota`
  // is the coordinate along one axis: with elementwise arithmetic it builds constant index tensors and masks (the
  // relative position index and shifted-window mask of Swin attention) that no host has to upload.
  "input",
  "const",
  "iota",
  // Unary elementwise. `affine` is a*x+b with constant a, b (scales, negation, 1-x); `leaky_step` is the
  // derivative of leaky_relu (x > 0 ? 1 : alpha), `sign` the derivative of abs; both have zero gradient. `erf` is
  // primitive because nothing else builds it (GELU's exact form is a composite of it).
  "affine",
  "leaky_relu",
  "leaky_step",
  "abs",
  "sign",
  "exp",
  "log",
  "sqrt",
  "erf",
  // Binary elementwise with NumPy broadcasting (shapes aligned from the right, size-1 axes stretch).
  "add",
  "sub",
  "mul",
  "div",
  // Data movement: each output element reads inputs at computed positions. `*_bwd` and `embed` are the exact
  // adjoints (transposes) of `pad`, `resize`, `index_select` and `slice`, so their gradients are the forward ops
  // again; `roll` (torch.roll) is its own adjoint with the shifts negated. `index_select` reads along one axis at
  // the positions an index tensor holds (integer-valued f32, torch.index_select).
  "reshape",
  "permute",
  "expand",
  "pad",
  "pad_bwd",
  "slice",
  "embed",
  "concat",
  "resize",
  "resize_bwd",
  "roll",
  "index_select",
  "index_select_bwd",
  // Reductions keep the reduced axes with size 1 (reshape after if needed).
  "sum",
  // Softmax is primitive for numerical stability (max subtraction).
  "softmax",
  // Random: `rand` is uniform in [0, 1) from a hash of (seed, counter, element), so a step counter input gives
  // fresh, reproducible draws each step (stochastic depth) with no generator state.
  "rand",
  // Contractions (implicit GEMM kernels). matmul multiplies the last two axes and batches over the leading ones
  // (attention's q·kᵀ and attn·v per window and head). conv2d pads with zeros by `pad` on every side; reflect padding is an
  // explicit `pad` node before it. conv2d_bwd_x/_w are the adjoints with respect to the input and the weight.
  "matmul",
  "conv2d",
  "conv2d_bwd_x",
  "conv2d_bwd_w",
  // Grouped convolution (PyTorch `groups`: weight [O, C/G, k, k], output channel o reads only the C/G input channels
  // of its group o / (O/G)); depthwise when G = C = O (Restormer's 3x3 after each 1x1). Separate ops because their
  // kernels are direct loops (compiler/wgsl/grouped.ts), not the dense implicit GEMM; groups = 1 stays conv2d.
  "conv2d_grouped",
  "conv2d_grouped_bwd_x",
  "conv2d_grouped_bwd_w",
] as const;
export type OpName = (typeof OPS)[number];

export const UNARY_OPS = ["affine", "leaky_relu", "leaky_step", "abs", "sign", "exp", "log", "sqrt", "erf"] as const;
export const BINARY_OPS = ["add", "sub", "mul", "div"] as const;
export type UnaryOp = (typeof UNARY_OPS)[number];
export type BinaryOp = (typeof BINARY_OPS)[number];

export function isUnary(op: OpName): op is UnaryOp {
  return (UNARY_OPS as readonly string[]).includes(op);
}
export function isBinary(op: OpName): op is BinaryOp {
  return (BINARY_OPS as readonly string[]).includes(op);
}
/** Ops whose output element i reads its inputs at element i (after broadcasting): they fuse into chains. */
export function isElementwise(op: OpName): boolean {
  return isUnary(op) || isBinary(op) || op === "const";
}

/** Reads a numeric-array attribute. */
export function nums(attrs: Attrs, key: string): readonly number[] {
  const v = attrs[key];
  assert(Array.isArray(v), () => `attribute '${key}' must be a number array, got ${JSON.stringify(v)}`);
  return v as readonly number[];
}
/** Reads a number attribute. */
export function num(attrs: Attrs, key: string): number {
  const v = attrs[key];
  assert(typeof v === "number", () => `attribute '${key}' must be a number, got ${JSON.stringify(v)}`);
  return v;
}
/** Reads a string attribute. */
export function str(attrs: Attrs, key: string): string {
  const v = attrs[key];
  assert(typeof v === "string", () => `attribute '${key}' must be a string, got ${JSON.stringify(v)}`);
  return v;
}

/** NumPy broadcast of two shapes; throws a CompilerBug when they do not broadcast. */
export function broadcastShapes(a: Shape, b: Shape): Shape {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const da = a[a.length - r + i] ?? 1;
    const db = b[b.length - r + i] ?? 1;
    assert(da === db || da === 1 || db === 1, () => `shapes [${a}] and [${b}] do not broadcast`);
    out.push(Math.max(da, db));
  }
  return out;
}

/** Output size of a strided, zero-padded convolution along one axis. */
export function convOut(size: number, k: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - k) / stride) + 1;
}

const same: ShapeRule = ([a]) => a ?? [];
const rank = (s: Shape | undefined, r: number, what: string): Shape => {
  assert(s !== undefined && s.length === r, () => `${what} expects rank ${r}, got [${s}]`);
  return s;
};

/** `groups` divides both channel counts and the weight holds C / groups input channels per output channel. */
function groupsFit(groups: number, c: number, o: number, perGroup: number): void {
  const ok = Number.isInteger(groups) && groups >= 1 && c % groups === 0 && o % groups === 0;
  assert(ok && perGroup === c / groups, () => `groups ${groups} do not fit ${c} input, ${o} output channels`);
}

/** Shape rules: validate the inputs and return the output shape. */
export const shapeRules = {
  input: (_s, a) => nums(a, "shape"),
  const: (_s, a) => nums(a, "shape"),
  iota: (_s, a) => {
    const shape = nums(a, "shape");
    const axis = num(a, "axis");
    assert(axis >= 0 && axis < shape.length, () => `iota axis ${axis} out of range for [${shape}]`);
    return shape;
  },
  affine: same,
  leaky_relu: same,
  leaky_step: same,
  abs: same,
  sign: same,
  exp: same,
  log: same,
  sqrt: same,
  erf: same,
  add: ([a, b]) => broadcastShapes(a ?? [], b ?? []),
  sub: ([a, b]) => broadcastShapes(a ?? [], b ?? []),
  mul: ([a, b]) => broadcastShapes(a ?? [], b ?? []),
  div: ([a, b]) => broadcastShapes(a ?? [], b ?? []),
  reshape: ([x], a) => {
    const shape = nums(a, "shape");
    assert(numel(x ?? []) === numel(shape), () => `reshape [${x}] -> [${shape}] changes the element count`);
    return shape;
  },
  permute: ([x], a) => {
    const perm = nums(a, "perm");
    assert(
      x !== undefined && perm.length === x.length && [...perm].sort().every((p, i) => p === i),
      () => `permute [${perm}] is not a permutation of the axes of [${x}]`,
    );
    return perm.map((p) => x[p] ?? 0);
  },
  expand: ([x], a) => {
    const shape = nums(a, "shape");
    const b = broadcastShapes(x ?? [], shape);
    assert(b.length === shape.length && b.every((d, i) => d === shape[i]), () => `cannot expand [${x}] to [${shape}]`);
    return shape;
  },
  pad: ([x], a) => {
    const s = rank(x, 4, "pad");
    const [t, b, l, r] = nums(a, "pads");
    const mode = str(a, "mode");
    assert(mode === "zeros" || mode === "reflect", () => `unknown pad mode ${mode}`);
    if (mode === "reflect") {
      const ok = (t ?? 0) < (s[2] ?? 0) && (b ?? 0) < (s[2] ?? 0) && (l ?? 0) < (s[3] ?? 0) && (r ?? 0) < (s[3] ?? 0);
      assert(ok, () => `reflect padding must be smaller than the input [${s}]`);
    }
    return [s[0] ?? 0, s[1] ?? 0, (s[2] ?? 0) + (t ?? 0) + (b ?? 0), (s[3] ?? 0) + (l ?? 0) + (r ?? 0)];
  },
  pad_bwd: ([x], a) => {
    const s = rank(x, 4, "pad_bwd");
    const [t, b, l, r] = nums(a, "pads");
    return [s[0] ?? 0, s[1] ?? 0, (s[2] ?? 0) - (t ?? 0) - (b ?? 0), (s[3] ?? 0) - (l ?? 0) - (r ?? 0)];
  },
  slice: ([x], a) => {
    const begin = nums(a, "begin");
    const size = nums(a, "size");
    assert(
      x !== undefined && begin.length === x.length && size.length === x.length,
      () => `slice rank mismatch for [${x}]`,
    );
    for (let i = 0; i < x.length; i++) {
      const ok = (begin[i] ?? 0) >= 0 && (size[i] ?? 0) > 0 && (begin[i] ?? 0) + (size[i] ?? 0) <= (x[i] ?? 0);
      assert(ok, () => `slice begin [${begin}] size [${size}] is outside [${x}]`);
    }
    return size;
  },
  embed: ([x], a) => {
    const begin = nums(a, "begin");
    const shape = nums(a, "shape");
    assert(x !== undefined && begin.length === x.length && shape.length === x.length, () => `embed rank mismatch`);
    for (let i = 0; i < x.length; i++) {
      const ok = (begin[i] ?? 0) >= 0 && (begin[i] ?? 0) + (x[i] ?? 0) <= (shape[i] ?? 0);
      assert(ok, () => `embed of [${x}] at [${begin}] does not fit in [${shape}]`);
    }
    return shape;
  },
  concat: (src, a) => {
    const axis = num(a, "axis");
    const first = src[0];
    assert(first !== undefined && src.length >= 1, () => "concat needs at least one input");
    let total = 0;
    for (const s of src) {
      assert(s.length === first.length, () => `concat rank mismatch [${s}] vs [${first}]`);
      for (let i = 0; i < s.length; i++) {
        if (i !== axis) assert(s[i] === first[i], () => `concat: [${s}] and [${first}] differ off axis ${axis}`);
      }
      total += s[axis] ?? 0;
    }
    return first.map((d, i) => (i === axis ? total : d));
  },
  resize: ([x], a) => {
    const s = rank(x, 4, "resize");
    const [h, w] = nums(a, "size");
    return [s[0] ?? 0, s[1] ?? 0, h ?? 0, w ?? 0];
  },
  resize_bwd: ([x], a) => {
    const s = rank(x, 4, "resize_bwd");
    const [h, w] = nums(a, "size");
    return [s[0] ?? 0, s[1] ?? 0, h ?? 0, w ?? 0];
  },
  roll: ([x], a) => {
    const s = x ?? [];
    const shifts = nums(a, "shifts");
    const axes = nums(a, "axes");
    const distinct = new Set(axes).size === axes.length;
    const ok = shifts.length === axes.length && distinct && axes.every((ax) => ax >= 0 && ax < s.length);
    assert(ok, () => `roll shifts [${shifts}] over axes [${axes}] do not fit [${s}]`);
    return s;
  },
  index_select: ([x, index], a) => {
    const s = x ?? [];
    const axis = num(a, "axis");
    assert(axis >= 0 && axis < s.length, () => `index_select axis ${axis} out of range for [${s}]`);
    const k = rank(index, 1, "index_select index")[0] ?? 0;
    return s.map((d, i) => (i === axis ? k : d));
  },
  index_select_bwd: ([g, index], a) => {
    const s = g ?? [];
    const axis = num(a, "axis");
    const size = num(a, "size");
    const k = rank(index, 1, "index_select_bwd index")[0];
    assert(axis >= 0 && axis < s.length && s[axis] === k, () => `index_select_bwd: [${s}] and index [${k}] differ`);
    return s.map((d, i) => (i === axis ? size : d));
  },
  sum: ([x], a) => {
    const axes = nums(a, "axes");
    const s = x ?? [];
    for (const ax of axes) assert(ax >= 0 && ax < s.length, () => `sum axis ${ax} out of range for [${s}]`);
    return s.map((d, i) => (axes.includes(i) ? 1 : d));
  },
  softmax: ([x], a) => {
    const axis = num(a, "axis");
    assert(x !== undefined && axis >= 0 && axis < x.length, () => `softmax axis ${axis} out of range for [${x}]`);
    return x;
  },
  rand: ([counter], a) => {
    assert(numel(counter ?? []) === 1, () => `rand takes a one-element counter, got [${counter}]`);
    const seed = num(a, "seed");
    assert(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32, () => `rand seed ${seed} is not a u32`);
    return nums(a, "shape");
  },
  matmul: ([a, b]) => {
    const [sa, sb] = [a ?? [], b ?? []];
    const r = sa.length;
    const batchOk = sb.length === r && sa.slice(0, -2).every((d, i) => d === sb[i]);
    assert(r >= 2 && batchOk, () => `matmul [${sa}] x [${sb}]: batch axes differ`);
    assert(sa[r - 1] === sb[r - 2], () => `matmul [${sa}] x [${sb}]: inner sizes differ`);
    return [...sa.slice(0, -1), sb[r - 1] ?? 0];
  },
  conv2d: ([x, w], a) => {
    const sx = rank(x, 4, "conv2d input");
    const sw = rank(w, 4, "conv2d weight");
    const stride = num(a, "stride");
    const pad = num(a, "pad");
    assert(sx[1] === sw[1], () => `conv2d: input has ${sx[1]} channels, weight expects ${sw[1]}`);
    const ho = convOut(sx[2] ?? 0, sw[2] ?? 0, stride, pad);
    const wo = convOut(sx[3] ?? 0, sw[3] ?? 0, stride, pad);
    assert(ho > 0 && wo > 0, () => `conv2d output is empty for input [${sx}] and weight [${sw}]`);
    return [sx[0] ?? 0, sw[0] ?? 0, ho, wo];
  },
  conv2d_bwd_x: ([dy, w], a) => {
    const sd = rank(dy, 4, "conv2d_bwd_x dy");
    const sw = rank(w, 4, "conv2d_bwd_x weight");
    const xs = nums(a, "xshape");
    const ok = sd[1] === sw[0] && sd[2] === convOut(xs[2] ?? 0, sw[2] ?? 0, num(a, "stride"), num(a, "pad"));
    assert(ok, () => `conv2d_bwd_x: dy [${sd}] does not match x [${xs}] and weight [${sw}]`);
    return xs;
  },
  conv2d_bwd_w: ([x, dy], a) => {
    const sx = rank(x, 4, "conv2d_bwd_w x");
    const sd = rank(dy, 4, "conv2d_bwd_w dy");
    const k = num(a, "k");
    assert(sx[0] === sd[0], () => `conv2d_bwd_w: batch of x [${sx}] and dy [${sd}] differ`);
    return [sd[1] ?? 0, sx[1] ?? 0, k, k];
  },
  conv2d_grouped: ([x, w], a) => {
    const sx = rank(x, 4, "conv2d_grouped input");
    const sw = rank(w, 4, "conv2d_grouped weight");
    const [stride, pad, groups] = [num(a, "stride"), num(a, "pad"), num(a, "groups")];
    groupsFit(groups, sx[1] ?? 0, sw[0] ?? 0, sw[1] ?? 0);
    const ho = convOut(sx[2] ?? 0, sw[2] ?? 0, stride, pad);
    const wo = convOut(sx[3] ?? 0, sw[3] ?? 0, stride, pad);
    assert(ho > 0 && wo > 0, () => `conv2d_grouped output is empty for input [${sx}] and weight [${sw}]`);
    return [sx[0] ?? 0, sw[0] ?? 0, ho, wo];
  },
  conv2d_grouped_bwd_x: ([dy, w], a) => {
    const sd = rank(dy, 4, "conv2d_grouped_bwd_x dy");
    const sw = rank(w, 4, "conv2d_grouped_bwd_x weight");
    const xs = nums(a, "xshape");
    groupsFit(num(a, "groups"), xs[1] ?? 0, sw[0] ?? 0, sw[1] ?? 0);
    const ok = sd[1] === sw[0] && sd[2] === convOut(xs[2] ?? 0, sw[2] ?? 0, num(a, "stride"), num(a, "pad"));
    assert(ok, () => `conv2d_grouped_bwd_x: dy [${sd}] does not match x [${xs}] and weight [${sw}]`);
    return xs;
  },
  conv2d_grouped_bwd_w: ([x, dy], a) => {
    const sx = rank(x, 4, "conv2d_grouped_bwd_w x");
    const sd = rank(dy, 4, "conv2d_grouped_bwd_w dy");
    const [k, groups] = [num(a, "k"), num(a, "groups")];
    assert(sx[0] === sd[0], () => `conv2d_grouped_bwd_w: batch of x [${sx}] and dy [${sd}] differ`);
    groupsFit(groups, sx[1] ?? 0, sd[1] ?? 0, (sx[1] ?? 0) / groups);
    return [sd[1] ?? 0, (sx[1] ?? 0) / groups, k, k];
  },
} satisfies Record<OpName, ShapeRule>;
