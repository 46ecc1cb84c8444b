// The layers a .mio backbone can call, as one table: parameters with their ranges, the shape rule (channels and
// spatial stride), the side rule (an output side from an input side, as the lowering computes it), the weight tensors
// a labeled call creates (PyTorch/BasicSR names), and the lowering to graph-builder calls. Transformer layers without
// a lowering (Restormer's, PromptIR's) are here so those backbones check today; an experiment that uses one is
// rejected at the call until the compiler core has kernels for it.
import type { Span } from "../../grammar/ast.js";
import type { GraphBuilder, LayerInit } from "../ir/builder.js";
import type { Node } from "../ir/node.js";
import { convOut } from "../ir/ops.js";
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
    readonly code: "channel" | "stride" | "kind" | "size",
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

/** How a layer becomes IR, given arguments and inputs the checker has already accepted. */
export interface LayerLowering {
  /**
   * `where` is the call's label (the parameter-name prefix); the checker guarantees it for layers with weights.
   * `shapes` are the inputs' checked shapes: a map and channels-last tokens are both rank 4 (docs/compiler.md,
   * "Windows and attention").
   */
  build(b: GraphBuilder, a: Args, inputs: Node[], where: string | undefined, shapes: TShape[]): Node;
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
 * (kaiming normal × 0.1, bias 0); `zeros` zeroes both.
 */
export const INITS = ["pytorch", "kaiming0.1", "zeros"] as const;

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
          bias: Boolean(a.bias),
          init: a.init as LayerInit,
        }),
      // The builder's conv is dense; lowering `groups` as dense would train a larger network than declared.
      unsupported: (a) =>
        num(a.groups) === 1
          ? undefined
          : {
              message: `grouped convolution (groups: ${a.groups}) is declared but cannot be compiled yet`,
              hint: "only groups: 1 compiles today",
            },
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
    doc: "layer norm over channels (with bias unless bias: false)",
    params: [{ name: "bias", type: "bool", default: true }],
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
    ],
    inputs: 1,
    shape(a, ins) {
      needKind(first(ins), ["tokens"], "window_attention");
      if (first(ins).c % num(a.heads) !== 0) {
        throw new ShapeError("channel", `window_attention: ${a.heads} heads must divide ${first(ins).c} channels`);
      }
      return first(ins);
    },
    weights(a, ins) {
      const c = first(ins).c;
      const w = 2 * num(a.window) - 1;
      return [
        ["relative_position_bias_table", [w * w, num(a.heads)]],
        ["qkv.weight", [3 * c, c]],
        ["qkv.bias", [3 * c]],
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
        }),
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
  },
  prompt_gen: {
    doc: "PromptIR's prompt generation block: `len` learned prompts of (dim, size, size) mixed by input-driven weights",
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
