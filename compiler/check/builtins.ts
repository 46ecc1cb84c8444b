// The layers a .mio backbone can call, as one table: parameters with their ranges, the shape rule (channels and
// spatial stride), the side rule (an output side from an input side, as the lowering computes it), the weight tensors
// a labeled call creates (PyTorch/BasicSR names), and the lowering to graph-builder calls. A layer without a lowering
// (sigmoid) is here so sources using it check today; an experiment that uses one is rejected at the call until the
// compiler core has kernels for it.
import type { Span } from "../../grammar/ast.js";
import type { GraphBuilder, LayerInit } from "../ir/builder.js";
import type { Node } from "../ir/node.js";
import { convOut } from "../ir/ops.js";
import { fmix32, hashString } from "../ir/rng.js";
import { convTranspose, windowEmbed } from "../ir/uformer.js";
import { toMap, toTokens } from "../ir/windows.js";

/** A spatial size: [height, width]. */
export type Size = readonly [number, number];

/**
 * The shape a checker tracks: what kind of tensor, its channels, its spatial downscale vs the input image, and, when
 * the input's size is known (an experiment's crop or tile, an image), its spatial size (docs/language.md, "Sizes").
 */
export interface TShape {
  kind: "map" | "vector" | "tokens";
  c: number;
  down: number;
  /** [height, width] of a map (tokens: of the map they came from); absent for vectors and when no size is known. */
  size?: Size;
  /**
   * The call that first made `size` differ from the input's size at this resolution (an even kernel, a pad, a stride
   * that does not divide): shown as a note when two sizes disagree.
   */
  resized?: { span: Span; message: string };
}

export type ParamType = "int" | "float" | "bool" | "string";
export type Scalar = number | boolean | string;

export interface BuiltinParam {
  name: string;
  type: ParamType;
  /** Absent: required. */
  default?: Scalar;
  /** Smallest allowed value (sizes, strides, factors). */
  min?: number;
  /** Largest allowed value: past it a size is a mistake (and its arithmetic would not be exact). */
  max?: number;
}

export type Args = Record<string, Scalar>;

/** A shape error found by a rule: the checker reports it at the offending call. */
export class ShapeError extends Error {
  constructor(
    readonly code: "channel" | "stride" | "kind" | "size" | "value",
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** Why a call cannot be compiled yet: the diagnostic's message and hint. */
export interface Uncompilable {
  message: string;
  hint?: string;
}

/**
 * What a training step's stochastic layers draw from (drop_path). Lowerings for evaluation and inference have none,
 * so those layers are the identity there, as PyTorch's `model.eval()` makes them.
 */
export interface TrainDraws {
  /** The one-element step input (`PLAN_IO.rngStep`), created at the first draw: a model without draws has none. */
  counter(): Node;
  /** A fresh seed per stochastic call, in elaboration order, so no two calls drop the same samples. */
  nextSeed(): number;
}

/** What a lowering knows beyond its call: whether it builds a training step. */
export interface LowerContext {
  train?: TrainDraws;
}

/**
 * The draws of one training-step lowering: call k's seed mixes the experiment's seed with k, so a lowering with
 * the same seed gives the same graph (and the same bytes), and every step draws afresh through the counter.
 */
export function trainDraws(b: GraphBuilder, seed: number, counterName: string): TrainDraws {
  let counter: Node | undefined;
  let calls = 0;
  return {
    counter: () => {
      counter ??= b.input(counterName, [1]);
      return counter;
    },
    nextSeed: () => hashString(`drop_path.${calls++}`, fmix32(seed >>> 0)),
  };
}

/** How a layer becomes IR, given arguments and inputs the checker has already accepted. */
export interface LayerLowering {
  /**
   * `where` is the call's label (the parameter-name prefix); the checker guarantees it for layers with weights.
   * `shapes` are the inputs' checked shapes: a map and channels-last tokens are both rank 4 (docs/compiler.md,
   * "Windows and attention"). `ctx` says whether a training step is being built (absent: evaluation).
   */
  build(
    b: GraphBuilder,
    a: Args,
    inputs: Node[],
    where: string | undefined,
    shapes: TShape[],
    ctx?: LowerContext,
  ): Node;
  /**
   * Argument values `build` cannot honour yet, as a diagnostic: checked at the call, so an experiment never trains a
   * different network than the one it declares.
   */
  unsupported?(a: Args): Uncompilable | undefined;
}

export interface Builtin {
  params: BuiltinParam[];
  /** Number of tensor inputs; `many` for concat-like layers. */
  inputs: number | "many";
  shape(a: Args, ins: TShape[]): TShape;
  /**
   * The output's side (height or width, alike) for an input side `n`, exactly as the lowering computes it; throws a
   * ShapeError ("size") when the layer cannot take that side. Absent: the side is kept (vectors have none).
   */
  side?(n: number, a: Args): number;
  /**
   * For a layer whose inputs may differ in size (crop_to): the output's [height, width] from every input's, in
   * place of `side` and of the rule that all inputs have one size; throws a ShapeError ("size") like `side`.
   */
  sizes?(ins: Size[], a: Args): Size;
  /** Weight tensors (name suffix → shape) for a labeled call; absent for parameter-free layers. */
  weights?(a: Args, ins: TShape[]): [string, number[]][];
  /** Absent: the layer checks, but an experiment that calls it cannot be compiled yet. */
  lower?: LayerLowering;
  doc: string;
}

/** The largest spatial parameter (kernel, stride, pad, window, prompt size): the largest crop or tile side. */
export const MAX_SPATIAL = 4096;
/** The most channels, heads or prompts one layer may have. */
export const MAX_WIDTH = 65536;
/** The largest resampling factor (pixel_shuffle, upsample) or width ratio. */
export const MAX_FACTOR = 64;

const num = (v: Scalar | undefined) => Number(v);
/** A map's [height, width] from its NCHW node. */
const sizeOf = (x: Node): Size => [num(x.shape[2]), num(x.shape[3])];
const first = <T>(xs: T[]): T => xs[0] as T;
/** The lowering of a one-input layer with no weights. */
const unary = (build: (b: GraphBuilder, x: Node, a: Args) => Node): LayerLowering => ({
  build: (b, a, inputs) => build(b, first(inputs), a),
});

function needKind(s: TShape, kinds: TShape["kind"][], layer: string): void {
  if (!kinds.includes(s.kind)) {
    throw new ShapeError("kind", `${layer} expects a ${kinds.join(" or ")} but got a ${s.kind} (${s.c} channels)`);
  }
}

const same =
  (layer: string, kinds: TShape["kind"][] = ["map", "vector", "tokens"]) =>
  (_: Args, ins: TShape[]) => {
    needKind(first(ins), kinds, layer);
    return first(ins);
  };

/**
 * Weight init: `pytorch` is nn.Conv2d/nn.Linear's default; `kaiming0.1` is BasicSR's default_init_weights(scale 0.1)
 * (kaiming normal × 0.1, bias 0); `trunc_normal0.02` is SwinIR's and Uformer's _init_weights for Linear layers
 * (trunc normal, std 0.02, bias 0); `zeros` zeroes both.
 */
export const INITS = ["pytorch", "kaiming0.1", "trunc_normal0.02", "zeros"] as const;

function checkInit(layer: string, a: Args): void {
  if (!(INITS as readonly string[]).includes(String(a.init))) {
    throw new ShapeError(
      "kind",
      `${layer} init must be one of ${INITS.map((i) => `"${i}"`).join(", ")}, got "${a.init}"`,
    );
  }
}

const elementwise = (doc: string, params: BuiltinParam[] = [], lower?: LayerLowering): Builtin => ({
  params,
  inputs: 1,
  shape: same(doc),
  ...(lower ? { lower } : {}),
  doc,
});

const padding = (mode: "zeros" | "reflect") =>
  unary((b, x, a) => {
    const p = num(a.p);
    return b.pad(x, [p, p, p, p], mode);
  });

/** Reflect padding mirrors the pixels inside the edge, so it needs more of them than it adds (as PyTorch does). */
function reflectable(layer: string, n: number, p: number): void {
  if (p >= n) {
    throw new ShapeError(
      "size",
      `${layer} reflect-pads ${p} pixels, which needs an input side over ${p}, but the side here is ${n}`,
      "reflect padding mirrors the pixels inside the edge: pad less, or zero-pad",
    );
  }
}

/** The padding that takes side `n` to the next multiple of `m` (0 when it is one): the reference's mod_pad. */
export const padToMultiple = (n: number, m: number) => (m - (n % m)) % m;

/** The padding modes of `pad_to`, as the builder's `pad` names them. */
const PAD_MODES = ["reflect", "zeros"] as const;

/**
 * `pad_to`'s two paddings of an h×w map, each [top, bottom, left, right]: the bottom and right to multiples of `m`,
 * then, with `square`, Uformer's test-time second pad to a square: int(d / 2) on both sides of the shorter side, d
 * the difference of the padded sides (the reference's `F.pad(img, (dw/2, dw/2, dh/2, dh/2), 'reflect')`).
 */
export function padToPads(h: number, w: number, m: number, square: boolean): [number[], number[]] {
  const [ph, pw] = [padToMultiple(h, m), padToMultiple(w, m)];
  const [hp, wp] = [h + ph, w + pw];
  const half = Math.floor(Math.abs(wp - hp) / 2);
  const second = !square ? [0, 0, 0, 0] : wp > hp ? [half, half, 0, 0] : [0, 0, half, half];
  return [[0, ph, 0, pw], second];
}

/**
 * Pads a map's bottom and right to multiples of `m` (SwinIR's and Restormer's test-time `F.pad(x, (0, pw, 0, ph),
 * 'reflect')`), then with `square` its shorter side on both ends to a square (Uformer's, a second F.pad of the
 * padded map, so the second reflection mirrors the first's pixels as the reference's does); the identity, with no
 * node, where a padding is 0.
 */
export function padTo(b: GraphBuilder, x: Node, m: number, mode: "reflect" | "zeros", square = false): Node {
  const [h, w] = sizeOf(x);
  const [first, second] = padToPads(h, w, m, square);
  return b.pad(b.pad(x, first, mode), second, mode);
}

/**
 * The `size` of a map from [top, left] `at` (the reference's `out[:, :, t:t + h, l:l + w]`; top-left by default);
 * the identity, with no node, at its size.
 */
export function cropTo(b: GraphBuilder, x: Node, size: Size, at: Size = [0, 0]): Node {
  const [n, c, h, w] = x.shape.map(num) as [number, number, number, number];
  if (h === size[0] && w === size[1]) return x;
  return b.slice(x, [0, 0, at[0], at[1]], [n, c, size[0], size[1]]);
}

/** The projections `window_attention` names: SwinIR's one qkv Linear, or Uformer's to_q and to_kv. */
const PROJECTIONS = ["qkv", "q_kv"] as const;

/** The side rule of a layer on windows: the window must divide each side (else the input needs padding first). */
function windowSide(layer: string): (n: number, a: Args) => number {
  return (n, a) => {
    if (n % num(a.window) !== 0) {
      throw new ShapeError(
        "size",
        `${layer}(window: ${a.window}) needs sides divisible by ${a.window}, but the side here is ${n}`,
        `pad the input to a multiple of the window first: lq |> pad_to(${a.window})`,
      );
    }
    return n;
  };
}

function convWeights(cin: number, a: Args): [string, number[]][] {
  const k = num(a.k);
  const w: [string, number[]][] = [["weight", [num(a.out), cin / num(a.groups ?? 1), k, k]]];
  if (a.bias) w.push(["bias", [num(a.out)]]);
  return w;
}

export const builtins: Record<string, Builtin> = {
  conv: {
    doc: "2-D convolution, NCHW; `pad` defaults to k/2 ('same' at stride 1)",
    params: [
      { name: "out", type: "int", min: 1, max: MAX_WIDTH },
      { name: "k", type: "int", default: 3, min: 1, max: MAX_SPATIAL },
      { name: "stride", type: "int", default: 1, min: 1, max: MAX_SPATIAL },
      { name: "pad", type: "int", default: -1, min: -1, max: MAX_SPATIAL },
      { name: "pad_mode", type: "string", default: "zeros" },
      { name: "groups", type: "int", default: 1, min: 1, max: MAX_WIDTH },
      { name: "bias", type: "bool", default: true },
      { name: "init", type: "string", default: "pytorch" },
    ],
    inputs: 1,
    shape(a, ins) {
      const x = first(ins);
      needKind(x, ["map"], "conv");
      const groups = num(a.groups);
      if (x.c % groups !== 0 || num(a.out) % groups !== 0) {
        throw new ShapeError(
          "channel",
          `conv groups ${groups} must divide its ${x.c} input and ${a.out} output channels`,
        );
      }
      if (!["zeros", "reflect"].includes(String(a.pad_mode))) {
        throw new ShapeError("kind", `conv pad_mode must be "zeros" or "reflect", got "${a.pad_mode}"`);
      }
      checkInit("conv", a);
      if (num(a.pad) >= num(a.k)) {
        throw new ShapeError(
          "size",
          `conv pad ${a.pad} is not smaller than its kernel ${a.k}: the outer outputs would see only padding`,
          "pad at most k - 1; an odd k with pad (k - 1) / 2 keeps the size at stride 1",
        );
      }
      return { kind: "map", c: num(a.out), down: x.down * num(a.stride) };
    },
    side(n, a) {
      const [k, stride, pad] = [num(a.k), num(a.stride), num(a.pad)];
      if (a.pad_mode === "reflect" && pad > 0) reflectable("conv", n, pad);
      const out = convOut(n, k, stride, pad);
      if (out < 1) {
        throw new ShapeError(
          "size",
          `conv(k: ${k}, pad: ${pad}) needs an input side of at least ${k - 2 * pad}, but the side here is ${n}`,
          "a smaller kernel, or a larger crop or tile",
        );
      }
      return out;
    },
    weights: (a, ins) => convWeights(first(ins).c, a),
    lower: {
      build: (b, a, inputs, where) =>
        b.conv2d(first(inputs), where as string, {
          out: num(a.out),
          k: num(a.k),
          stride: num(a.stride),
          pad: num(a.pad),
          padMode: a.pad_mode === "reflect" ? "reflect" : "zeros",
          groups: num(a.groups),
          bias: Boolean(a.bias),
          init: a.init as LayerInit,
        }),
    },
  },
  conv_transpose: {
    doc: "transposed 2-D convolution with stride k (nn.ConvTranspose2d(k, stride=k): each pixel becomes a k×k block)",
    params: [
      { name: "out", type: "int", min: 1, max: MAX_WIDTH },
      { name: "k", type: "int", default: 2, min: 1, max: MAX_SPATIAL },
      { name: "bias", type: "bool", default: true },
      { name: "init", type: "string", default: "pytorch" },
    ],
    inputs: 1,
    shape(a, ins) {
      needKind(first(ins), ["map"], "conv_transpose");
      checkInit("conv_transpose", a);
      return { kind: "map", c: num(a.out), down: first(ins).down / num(a.k) };
    },
    side: (n, a) => n * num(a.k),
    // PyTorch's layout (in, out, k, k), so a ConvTranspose2d state dict loads by name.
    weights: (a, ins) => [
      ["weight", [first(ins).c, num(a.out), num(a.k), num(a.k)]],
      ...(a.bias ? [["bias", [num(a.out)]] as [string, number[]]] : []),
    ],
    lower: {
      build: (b, a, inputs, where) =>
        convTranspose(b, first(inputs), where as string, {
          out: num(a.out),
          k: num(a.k),
          bias: Boolean(a.bias),
          init: a.init as LayerInit,
        }),
    },
  },
  linear: {
    doc: "fully connected layer over the channel axis of a vector or tokens",
    params: [
      { name: "out", type: "int", min: 1, max: MAX_WIDTH },
      { name: "bias", type: "bool", default: true },
      { name: "init", type: "string", default: "pytorch" },
    ],
    inputs: 1,
    shape(a, ins) {
      needKind(first(ins), ["vector", "tokens"], "linear");
      checkInit("linear", a);
      return { ...first(ins), c: num(a.out) };
    },
    weights: (a, ins) => [
      ["weight", [num(a.out), first(ins).c]],
      ...(a.bias ? [["bias", [num(a.out)]] as [string, number[]]] : []),
    ],
    lower: {
      build: (b, a, inputs, where) =>
        b.linear(first(inputs), where as string, num(a.out), { bias: Boolean(a.bias), init: a.init as LayerInit }),
    },
  },
  relu: elementwise(
    "max(x, 0)",
    [],
    unary((b, x) => b.relu(x)),
  ),
  lrelu: elementwise(
    "leaky ReLU: x if x > 0 else slope * x",
    [{ name: "slope", type: "float", default: 0.01 }],
    unary((b, x, a) => b.leakyRelu(x, num(a.slope))),
  ),
  gelu: elementwise(
    "GELU (erf form)",
    [],
    unary((b, x) => b.gelu(x)),
  ),
  sigmoid: elementwise("1 / (1 + exp(-x))"),
  softmax: {
    doc: "softmax over channels",
    params: [],
    inputs: 1,
    shape: same("softmax", ["vector", "tokens"]),
    lower: unary((b, x) => b.softmax(x, -1)),
  },
  add_rgb: {
    doc: "adds a constant per RGB channel (SwinIR's mean shift: add_rgb(-0.4488, -0.4371, -0.4040))",
    params: [
      { name: "r", type: "float" },
      { name: "g", type: "float" },
      { name: "b", type: "float" },
    ],
    inputs: 1,
    shape(_, ins) {
      needKind(first(ins), ["map"], "add_rgb");
      if (first(ins).c !== 3)
        throw new ShapeError("channel", `add_rgb needs a 3-channel image, got ${first(ins).c} channels`);
      return first(ins);
    },
    lower: unary((b, x, a) => b.add(x, b.constants([num(a.r), num(a.g), num(a.b)], [1, 3, 1, 1]))),
  },
  zero_pad: {
    doc: "zero padding of p pixels on each side (nn.ZeroPad2d)",
    params: [{ name: "p", type: "int", min: 0, max: MAX_SPATIAL }],
    inputs: 1,
    shape: same("zero_pad", ["map"]),
    side: (n, a) => n + 2 * num(a.p),
    lower: padding("zeros"),
  },
  reflect_pad: {
    doc: "reflect padding of p pixels on each side",
    params: [{ name: "p", type: "int", min: 0, max: MAX_SPATIAL }],
    inputs: 1,
    shape: same("reflect_pad", ["map"]),
    side(n, a) {
      reflectable("reflect_pad", n, num(a.p));
      return n + 2 * num(a.p);
    },
    lower: padding("reflect"),
  },
  mean: {
    doc: "global spatial mean: a map becomes a vector of its channels",
    params: [],
    inputs: 1,
    shape(_, ins) {
      needKind(first(ins), ["map", "tokens"], "mean");
      return { kind: "vector", c: first(ins).c, down: 0 };
    },
    lower: {
      build: (b, _, inputs, __, shapes) =>
        first(shapes).kind === "tokens" ? b.mean(first(inputs), [1, 2], false) : b.globalMean(first(inputs)),
    },
  },
  layer_norm: {
    doc: "layer norm over channels (with bias unless bias: false; center: false divides x itself by the deviation, Restormer's BiasFree)",
    params: [
      { name: "bias", type: "bool", default: true },
      { name: "center", type: "bool", default: true },
    ],
    inputs: 1,
    shape: same("layer_norm", ["map", "tokens"]),
    weights: (a, ins) => [
      ["weight", [first(ins).c]],
      ...(a.bias ? [["bias", [first(ins).c]] as [string, number[]]] : []),
    ],
    lower: {
      // Over the channels: the last axis of tokens, axis 1 of an NCHW map.
      build: (b, a, inputs, where, shapes) =>
        b.layerNorm(first(inputs), where as string, {
          axis: first(shapes).kind === "map" ? 1 : -1,
          bias: Boolean(a.bias),
          center: Boolean(a.center),
        }),
    },
  },
  to_tokens: {
    doc: "flatten a map (B,C,H,W) into tokens (B,HW,C)",
    params: [],
    inputs: 1,
    shape(_, ins) {
      needKind(first(ins), ["map"], "to_tokens");
      return { ...first(ins), kind: "tokens" };
    },
    // Channels last, (B, H, W, C): the reference's (B, H·W, C) in the same memory, with H and W kept.
    lower: unary((b, x) => toTokens(b, x)),
  },
  to_map: {
    doc: "fold tokens (B,HW,C) back into a map (B,C,H,W)",
    params: [],
    inputs: 1,
    shape(_, ins) {
      needKind(first(ins), ["tokens"], "to_map");
      return { ...first(ins), kind: "map" };
    },
    lower: unary((b, t) => toMap(b, t)),
  },
  window_attention: {
    doc: "Swin (shifted) window multi-head self-attention with a relative position bias",
    params: [
      { name: "heads", type: "int", min: 1, max: MAX_WIDTH },
      { name: "window", type: "int", default: 8, min: 1, max: MAX_SPATIAL },
      { name: "shift", type: "int", default: 0, min: 0, max: MAX_SPATIAL },
      { name: "projection", type: "string", default: "qkv" },
    ],
    inputs: 1,
    shape(a, ins) {
      needKind(first(ins), ["tokens"], "window_attention");
      if (!(PROJECTIONS as readonly string[]).includes(String(a.projection))) {
        throw new ShapeError(
          "kind",
          `window_attention projection must be ${PROJECTIONS.map((p) => `"${p}"`).join(" or ")}, got "${a.projection}"`,
        );
      }
      if (num(a.shift) >= num(a.window)) {
        throw new ShapeError("value", `window_attention shift ${a.shift} must be smaller than its window ${a.window}`);
      }
      if (first(ins).c % num(a.heads) !== 0) {
        throw new ShapeError("channel", `window_attention: ${a.heads} heads must divide ${first(ins).c} channels`);
      }
      return first(ins);
    },
    // Windows tile the map: a side the window does not divide is the input's size, not a compiler bug.
    side: windowSide("window_attention"),
    weights(a, ins) {
      const c = first(ins).c;
      const w = 2 * num(a.window) - 1;
      const qkv: [string, number[]][] =
        a.projection === "q_kv"
          ? [
              ["qkv.to_q.weight", [c, c]],
              ["qkv.to_q.bias", [c]],
              ["qkv.to_kv.weight", [2 * c, c]],
              ["qkv.to_kv.bias", [2 * c]],
            ]
          : [
              ["qkv.weight", [3 * c, c]],
              ["qkv.bias", [3 * c]],
            ];
      return [
        ["relative_position_bias_table", [w * w, num(a.heads)]],
        ...qkv,
        ["proj.weight", [c, c]],
        ["proj.bias", [c]],
      ];
    },
    lower: {
      build: (b, a, inputs, where) =>
        b.windowAttention(first(inputs), where as string, {
          heads: num(a.heads),
          window: num(a.window),
          shift: num(a.shift),
          projection: a.projection === "q_kv" ? "q_kv" : "qkv",
        }),
    },
  },
  window_embed: {
    doc: "Uformer's modulator: a learned vector per window position added to every (shifted) window of tokens",
    params: [
      { name: "window", type: "int", default: 8, min: 1, max: MAX_SPATIAL },
      { name: "shift", type: "int", default: 0, min: 0, max: MAX_SPATIAL },
    ],
    inputs: 1,
    shape(a, ins) {
      needKind(first(ins), ["tokens"], "window_embed");
      if (num(a.shift) >= num(a.window)) {
        throw new ShapeError("value", `window_embed shift ${a.shift} must be smaller than its window ${a.window}`);
      }
      return first(ins);
    },
    side: windowSide("window_embed"),
    weights: (a, ins) => [["weight", [num(a.window) ** 2, first(ins).c]]],
    lower: {
      build: (b, a, inputs, where) =>
        windowEmbed(b, first(inputs), where as string, { window: num(a.window), shift: num(a.shift) }),
    },
  },
  mlp: {
    doc: "two linear layers with GELU between them (hidden = ratio * channels)",
    params: [{ name: "ratio", type: "float", default: 2, min: 0, max: MAX_FACTOR }],
    inputs: 1,
    shape: same("mlp", ["tokens", "vector"]),
    weights(a, ins) {
      const c = first(ins).c;
      const h = Math.floor(c * num(a.ratio));
      return [
        ["fc1.weight", [h, c]],
        ["fc1.bias", [h]],
        ["fc2.weight", [c, h]],
        ["fc2.bias", [c]],
      ];
    },
    lower: {
      build: (b, a, inputs, where, shapes) =>
        b.mlp(first(inputs), where as string, Math.floor(first(shapes).c * num(a.ratio))),
    },
  },
  mdta: {
    doc: "Restormer's multi-Dconv head transposed attention (channel attention)",
    params: [
      { name: "heads", type: "int", min: 1, max: MAX_WIDTH },
      { name: "bias", type: "bool", default: false },
    ],
    inputs: 1,
    shape(a, ins) {
      needKind(first(ins), ["map"], "mdta");
      if (first(ins).c % num(a.heads) !== 0) {
        throw new ShapeError("channel", `mdta: ${a.heads} heads must divide ${first(ins).c} channels`);
      }
      return first(ins);
    },
    weights(a, ins) {
      const c = first(ins).c;
      const b = (n: string, s: number): [string, number[]][] => (a.bias ? [[`${n}.bias`, [s]]] : []);
      return [
        ["temperature", [num(a.heads), 1, 1]],
        ["qkv.weight", [3 * c, c, 1, 1]],
        ...b("qkv", 3 * c),
        ["qkv_dwconv.weight", [3 * c, 1, 3, 3]],
        ...b("qkv_dwconv", 3 * c),
        ["project_out.weight", [c, c, 1, 1]],
        ...b("project_out", c),
      ];
    },
    lower: {
      build: (b, a, inputs, where) =>
        b.mdta(first(inputs), where as string, { heads: num(a.heads), bias: Boolean(a.bias) }),
    },
  },
  gdfn: {
    doc: "Restormer's gated-Dconv feed-forward network (hidden = ffn * channels)",
    params: [
      { name: "ffn", type: "float", default: 2.66, min: 0, max: MAX_FACTOR },
      { name: "bias", type: "bool", default: false },
    ],
    inputs: 1,
    shape: same("gdfn", ["map"]),
    weights(a, ins) {
      const c = first(ins).c;
      const h = Math.floor(c * num(a.ffn));
      const b = (n: string, s: number): [string, number[]][] => (a.bias ? [[`${n}.bias`, [s]]] : []);
      return [
        ["project_in.weight", [2 * h, c, 1, 1]],
        ...b("project_in", 2 * h),
        ["dwconv.weight", [2 * h, 1, 3, 3]],
        ...b("dwconv", 2 * h),
        ["project_out.weight", [c, h, 1, 1]],
        ...b("project_out", c),
      ];
    },
    lower: {
      build: (b, a, inputs, where) =>
        b.gdfn(first(inputs), where as string, { ffn: num(a.ffn), bias: Boolean(a.bias) }),
    },
  },
  prompt_gen: {
    doc: "PromptIR's `PromptGenBlock`: the input's spatial mean, a linear layer to `len` weights and their softmax mix `len` learned prompts of (dim, size, size) (U[0, 1) init), resized bilinearly to the input's side (up or down, any size; align_corners = false), then a bias-free 3×3 conv; `dim` channels out",
    params: [
      { name: "len", type: "int", default: 5, min: 1, max: MAX_WIDTH },
      { name: "dim", type: "int", min: 1, max: MAX_WIDTH },
      { name: "size", type: "int", min: 1, max: MAX_SPATIAL },
    ],
    inputs: 1,
    shape(a, ins) {
      needKind(first(ins), ["map"], "prompt_gen");
      return { kind: "map", c: num(a.dim), down: first(ins).down };
    },
    weights(a, ins) {
      const [len, dim, size, c] = [num(a.len), num(a.dim), num(a.size), first(ins).c];
      return [
        ["prompt_param", [1, len, dim, size, size]],
        ["linear_layer.weight", [len, c]],
        ["linear_layer.bias", [len]],
        ["conv3x3.weight", [dim, dim, 3, 3]],
      ];
    },
    lower: {
      build: (b, a, inputs, where) =>
        b.promptGen(first(inputs), where as string, { len: num(a.len), dim: num(a.dim), size: num(a.size) }),
    },
  },
  pixel_shuffle: {
    doc: "(C·r², H, W) → (C, rH, rW)",
    params: [{ name: "r", type: "int", min: 1, max: MAX_FACTOR }],
    inputs: 1,
    shape(a, ins) {
      const x = first(ins);
      needKind(x, ["map"], "pixel_shuffle");
      const r2 = num(a.r) ** 2;
      if (x.c % r2 !== 0)
        throw new ShapeError("channel", `pixel_shuffle(${a.r}) needs channels divisible by ${r2}, got ${x.c}`);
      return { kind: "map", c: x.c / r2, down: x.down / num(a.r) };
    },
    side: (n, a) => n * num(a.r),
    lower: unary((b, x, a) => b.pixelShuffle(x, num(a.r))),
  },
  pixel_unshuffle: {
    doc: "(C, rH, rW) → (C·r², H, W)",
    params: [{ name: "r", type: "int", min: 1, max: MAX_FACTOR }],
    inputs: 1,
    shape(a, ins) {
      needKind(first(ins), ["map"], "pixel_unshuffle");
      return { kind: "map", c: first(ins).c * num(a.r) ** 2, down: first(ins).down * num(a.r) };
    },
    side(n, a) {
      if (n % num(a.r) !== 0) {
        throw new ShapeError(
          "size",
          `pixel_unshuffle(${a.r}) needs sides divisible by ${a.r}, but the side here is ${n}`,
          `use a crop or tile divisible by ${a.r} at this point of the model`,
        );
      }
      return n / num(a.r);
    },
    lower: unary((b, x, a) => b.pixelUnshuffle(x, num(a.r))),
  },
  upsample: {
    doc: "bilinear resize by an integer factor (align_corners = false)",
    params: [{ name: "scale", type: "int", default: 2, min: 1, max: MAX_FACTOR }],
    inputs: 1,
    shape(a, ins) {
      needKind(first(ins), ["map"], "upsample");
      return { ...first(ins), down: first(ins).down / num(a.scale) };
    },
    side: (n, a) => n * num(a.scale),
    lower: unary((b, x, a) => {
      const [, , h, w] = x.shape;
      return b.resize(x, [num(h) * num(a.scale), num(w) * num(a.scale)]);
    }),
  },
  concat: {
    doc: "concatenate maps along channels; spatial sizes must agree",
    params: [],
    inputs: "many",
    shape(_, ins) {
      for (const s of ins) needKind(s, ["map", "tokens"], "concat");
      const down = first(ins).down;
      if (ins.some((s) => s.down !== down)) {
        throw new ShapeError(
          "stride",
          `concat inputs have different resolutions (1/${ins.map((s) => s.down).join(", 1/")})`,
        );
      }
      return { kind: first(ins).kind, c: ins.reduce((n, s) => n + s.c, 0), down };
    },
    lower: { build: (b, _, inputs, __, shapes) => b.concat(inputs, first(shapes).kind === "tokens" ? 3 : 1) },
  },
  pad_to: {
    doc: "pads the bottom and right of a map to multiples of `multiple` (test-time padding; identity on a multiple); `square: true` then pads the shorter side's two ends to a square (Uformer's)",
    params: [
      { name: "multiple", type: "int", min: 1, max: MAX_SPATIAL },
      { name: "mode", type: "string", default: "reflect" },
      { name: "square", type: "bool", default: false },
    ],
    inputs: 1,
    shape(a, ins) {
      needKind(first(ins), ["map"], "pad_to");
      if (!(PAD_MODES as readonly string[]).includes(String(a.mode)))
        throw new ShapeError("kind", `pad_to mode must be "reflect" or "zeros", got "${a.mode}"`);
      return first(ins);
    },
    sizes(ins, a) {
      const [h, w] = first(ins);
      const [pads, square] = padToPads(h, w, num(a.multiple), Boolean(a.square));
      const [hp, wp] = [h + num(pads[1]), w + num(pads[3])];
      if (a.mode === "reflect") {
        reflectable("pad_to", h, num(pads[1]));
        reflectable("pad_to", w, num(pads[3]));
        reflectable("pad_to", Math.min(hp, wp), Math.max(num(square[0]), num(square[2])));
      }
      return [hp + num(square[0]) + num(square[1]), wp + num(square[2]) + num(square[3])];
    },
    lower: unary((b, x, a) =>
      padTo(b, x, num(a.multiple), a.mode === "zeros" ? "zeros" : "reflect", Boolean(a.square)),
    ),
  },
  crop_to: {
    doc: "crops its last input to the size of its first: `out |> crop_to()(lq)` undoes `lq |> pad_to(n)`; `crop_to(multiple: n, square: true)` undoes `pad_to(n, square: true)`",
    params: [
      { name: "multiple", type: "int", default: 1, min: 1, max: MAX_SPATIAL },
      { name: "square", type: "bool", default: false },
    ],
    inputs: 2,
    shape(_, ins) {
      const [ref, x] = ins as [TShape, TShape];
      needKind(ref, ["map"], "crop_to");
      needKind(x, ["map"], "crop_to");
      if (ref.down !== x.down)
        throw new ShapeError(
          "stride",
          `crop_to of a tensor at 1/${x.down} of the input to the size of one at 1/${ref.down}`,
          "crop to a tensor at the same resolution",
        );
      return x;
    },
    sizes(ins) {
      const [ref, x] = ins as [Size, Size];
      if (x[0] < ref[0] || x[1] < ref[1]) {
        throw new ShapeError(
          "size",
          `crop_to cannot crop ${x[1]}×${x[0]} to the larger ${ref[1]}×${ref[0]}`,
          "crop_to takes the size to crop to first and the tensor to crop last: out |> crop_to()(lq)",
        );
      }
      return ref;
    },
    lower: {
      build: (b, a, inputs) => {
        const size = sizeOf(first(inputs));
        // Where pad_to(multiple, square) put the input: below and right of the square pad's first halves.
        const [, square] = padToPads(size[0], size[1], num(a.multiple), Boolean(a.square));
        return cropTo(b, inputs[1] as Node, size, [num(square[0]), num(square[2])]);
      },
    },
  },
  drop_path: {
    doc: "stochastic depth in training: drops each sample with probability p, scales the kept by 1 / (1 - p); identity at evaluation",
    params: [{ name: "p", type: "float", min: 0 }],
    inputs: 1,
    shape(a, ins) {
      // p = 1 would drop every sample and divide by 0 (timm's NaN).
      if (num(a.p) >= 1) throw new ShapeError("value", `drop_path.p must be below 1, found ${a.p}`);
      return first(ins);
    },
    lower: {
      build: (b, a, inputs, _, __, ctx) => {
        const x = first(inputs);
        if (!ctx?.train || num(a.p) === 0) return x;
        return b.dropPath(x, num(a.p), ctx.train.counter(), ctx.train.nextSeed());
      },
    },
  },
};

/** Why a call of builtin `name` with (checked) arguments `a` cannot be compiled yet; undefined when it can. */
export function whyUncompilable(name: string, a: Args): Uncompilable | undefined {
  const lower = builtins[name]?.lower;
  if (lower) return lower.unsupported?.(a);
  const compilable = Object.keys(builtins).filter((n) => builtins[n]?.lower);
  return {
    message: `layer '${name}' is declared but cannot be compiled yet`,
    hint: `the compiler has kernels for ${compilable.join(", ")}`,
  };
}
