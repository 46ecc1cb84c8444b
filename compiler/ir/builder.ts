// The graph builder the language front end lowers backbones through: primitive ops (inherited from GraphOps)
// plus layer helpers that create named parameters with PyTorch/BasicSR state-dict names and PyTorch's init.
import { Graph } from "./graph.js";
import { assert, type Node, numel, type Shape } from "./node.js";
import { hashString, SequentialRng } from "./rng.js";
import { GraphOps } from "./tensor-ops.js";
import { relativePositionIndex, shiftedWindowMask, windowPartition, windowReverse } from "./windows.js";

/**
 * timm's trunc_normal_(std=0.02) as SwinIR calls it, with bounds ±2 absolute: 100 standard deviations out. Our
 * Box-Muller draws from u ≥ 2^-32 never pass sqrt(-2 ln 2^-32) = 6.67 standard deviations, so the plain normal is
 * exactly the truncated one.
 */
const TRUNC_NORMAL_002 = { kind: "normal", std: 0.02 } as const;

/**
 * How a conv/linear layer is initialised:
 * - `pytorch`: PyTorch's default, kaiming_uniform(a=√5) weights (U(±1/√fan_in)) and bias U(±1/√fan_in);
 * - `kaiming0.1`: BasicSR `default_init_weights(scale=0.1)`: kaiming_normal (fan_in, gain √2) × 0.1, bias 0;
 * - `trunc_normal0.02`: SwinIR's `_init_weights` for Linear layers: timm `trunc_normal_(std=0.02)` (normal within
 *   ±2), bias 0;
 * - `zeros`: weights and bias 0.
 */
export type LayerInit = "pytorch" | "kaiming0.1" | "trunc_normal0.02" | "zeros";

export interface WindowAttentionOptions {
  heads: number;
  /** Window side (SwinIR's window_size). */
  window: number;
  /** Cyclic shift of a shifted layer (window / 2 in SwinIR), 0 for a plain one. */
  shift: number;
  /** Init of the qkv and proj layers (default `trunc_normal0.02`, SwinIR's). */
  init?: LayerInit;
  /**
   * How q, k and v are projected: `qkv`, one Linear to 3C (`<name>.qkv`, SwinIR's), or `q_kv`, Uformer's
   * LinearProjection: `<name>.qkv.to_q` (C) and `<name>.qkv.to_kv` (2C, k then v), the same product as one qkv of
   * their stacked weights.
   */
  projection?: "qkv" | "q_kv";
}

/** How a parameter's initial values are drawn (`GraphBuilder.param`). */
export type ParamInit =
  | { kind: "uniform"; bound: number; low?: number }
  | { kind: "normal"; std: number }
  | { kind: "const"; value: number };

/** The draws of a conv/linear layer's weight and bias under `init`, for a weight of fan-in `fanIn`. */
export function layerInitDraws(init: LayerInit, fanIn: number): { weight: ParamInit; bias: ParamInit } {
  const bound = 1 / Math.sqrt(fanIn);
  const weight: ParamInit =
    init === "pytorch"
      ? { kind: "uniform", bound }
      : init === "kaiming0.1"
        ? { kind: "normal", std: 0.1 * Math.sqrt(2 / fanIn) }
        : init === "trunc_normal0.02"
          ? TRUNC_NORMAL_002
          : { kind: "const", value: 0 };
  return { weight, bias: init === "pytorch" ? { kind: "uniform", bound } : { kind: "const", value: 0 } };
}

/**
 * A trainable parameter: its input node and its initial value. The value is drawn when first read: lowering a model
 * whose weights are then loaded (inference, evaluation) or only counted never pays for drawing them.
 */
export interface Param {
  readonly name: string;
  readonly node: Node;
  readonly init: Float32Array;
}

export interface Conv2dOptions {
  /** Output channels. */
  out: number;
  /** Kernel size (square). */
  k: number;
  stride?: number;
  /** Padding on every side. */
  pad?: number;
  padMode?: "zeros" | "reflect";
  /** PyTorch's `groups`: the weight is [out, Cin/groups, k, k]; depthwise when groups = Cin = out. */
  groups?: number;
  bias?: boolean;
  init?: LayerInit;
}

/** Restormer's MDTA (`Attention`): heads, and whether its three convs have biases (the reference's `bias`). */
export interface MdtaOptions {
  heads: number;
  bias?: boolean;
}

/** Restormer's GDFN (`FeedForward`): hidden = int(C · ffn), and the convs' biases. */
export interface GdfnOptions {
  ffn: number;
  bias?: boolean;
}

export interface LinearOptions {
  bias?: boolean;
  init?: LayerInit;
}

export interface BuilderOptions {
  /** Seed of the parameter init; each parameter draws from hash(seed, name), so init ignores creation order. */
  seed?: number;
}

/**
 * Builds a forward graph with named parameters.
 * @example
 * const b = new GraphBuilder({ seed: 0 });
 * const x = b.input("lq", [2, 3, 24, 24]);
 * const y = b.conv2d(x, "conv_first", { out: 16, k: 3, pad: 1 }); // params conv_first.weight, conv_first.bias
 */
export class GraphBuilder extends GraphOps {
  readonly params = new Map<string, Param>();
  private readonly seed: number;

  constructor(opts: BuilderOptions = {}) {
    super(new Graph());
    this.seed = opts.seed ?? 0;
  }

  /** Declares a parameter with an explicit initial value, or a named init over `fanIn`. */
  param(name: string, shape: Shape, init: Float32Array | ParamInit): Node {
    assert(!this.params.has(name), () => `parameter '${name}' is declared twice`);
    const node = this.input(name, shape, "param");
    if (init instanceof Float32Array)
      assert(init.length === numel(shape), () => `init of '${name}' has ${init.length} values for [${shape}]`);
    const seed = hashString(name, this.seed);
    let value: Float32Array | undefined = init instanceof Float32Array ? init : undefined;
    const draw = (): Float32Array => {
      if (init instanceof Float32Array) return init;
      const rng = new SequentialRng(seed);
      const out = new Float32Array(numel(shape));
      for (let i = 0; i < out.length; i++) {
        out[i] =
          init.kind === "uniform"
            ? rng.uniform(init.low ?? -init.bound, init.bound)
            : init.kind === "normal"
              ? rng.normal() * init.std
              : init.value;
      }
      return out;
    };
    this.params.set(name, {
      name,
      node,
      get init() {
        value ??= draw();
        return value;
      },
    });
    return node;
  }

  private weightAndBias(name: string, wshape: Shape, fanIn: number, bias: boolean, init: LayerInit): [Node, Node?] {
    const draws = layerInitDraws(init, fanIn);
    const w = this.param(`${name}.weight`, wshape, draws.weight);
    if (!bias) return [w];
    return [w, this.param(`${name}.bias`, [wshape[0] ?? 0], draws.bias)];
  }

  /**
   * `nn.Conv2d(Cin, out, k, stride, pad, padding_mode, bias)` on an NCHW tensor; creates `<name>.weight`
   * [out, Cin, k, k] and `<name>.bias` [out].
   */
  conv2d(x: Node, name: string, o: Conv2dOptions): Node {
    const groups = o.groups ?? 1;
    const cin = (x.shape[1] ?? 0) / groups;
    assert(Number.isInteger(cin) && o.out % groups === 0, () => `conv '${name}': groups ${groups} of [${x.shape}]`);
    const [w, b] = this.weightAndBias(
      name,
      [o.out, cin, o.k, o.k],
      cin * o.k * o.k,
      o.bias ?? true,
      o.init ?? "pytorch",
    );
    const pad = o.pad ?? 0;
    const reflect = (o.padMode ?? "zeros") === "reflect" && pad > 0;
    const xin = reflect ? this.pad(x, [pad, pad, pad, pad], "reflect") : x;
    const y = this.convolve(xin, w, o.stride ?? 1, reflect ? 0 : pad, groups);
    return b ? this.add(y, this.reshape(b, [1, o.out, 1, 1])) : y;
  }

  /**
   * `nn.Linear(in, out)` over the last axis of [..., in] (a vector [B, in] or tokens); creates `<name>.weight`
   * [out, in] and `<name>.bias` [out].
   */
  linear(v: Node, name: string, out: number, o: LinearOptions = {}): Node {
    assert(v.shape.length >= 2, () => `linear '${name}' expects [..., in], got [${v.shape}]`);
    const cin = v.shape[v.shape.length - 1] ?? 0;
    const [w, b] = this.weightAndBias(name, [out, cin], cin, o.bias ?? true, o.init ?? "pytorch");
    // Tokens are one matrix of rows: (B·L, in) x (in, out), then the leading axes again.
    const rows = this.reshape(v, [numel(v.shape) / cin, cin]);
    const y = this.matmul(rows, this.t(w));
    return this.reshape(b ? this.add(y, this.reshape(b, [1, out])) : y, [...v.shape.slice(0, -1), out]);
  }

  /**
   * SwinIR's `WindowAttention` on channels-last tokens (B, H, W, C) (the reference's (B, H·W, C) in the same memory),
   * with a shifted layer's cyclic shift and mask as `SwinTransformerBlock` applies them: roll by −shift, split into
   * window×window windows, multi-head attention with the relative position bias (q scaled by head_dim^−0.5), merge,
   * roll back. Creates `<name>.relative_position_bias_table` [(2w−1)², heads] (trunc normal 0.02, as the reference),
   * `<name>.qkv.*` and `<name>.proj.*`.
   * @example b.windowAttention(t, "layers.0.residual_group.blocks.1.attn", { heads: 6, window: 8, shift: 4 })
   */
  windowAttention(x: Node, name: string, o: WindowAttentionOptions): Node {
    const [bsz, h, w, c] = x.shape as [number, number, number, number];
    const { heads, window: ws, shift } = o;
    assert(x.shape.length === 4 && c % heads === 0, () => `window attention of [${x.shape}] with ${heads} heads`, x);
    assert(shift >= 0 && shift < ws, () => `shift ${shift} is not in [0, ${ws})`, x);
    const [d, n, nw] = [c / heads, ws * ws, (h * w) / (ws * ws)];
    const init = o.init ?? "trunc_normal0.02";
    const table = this.param(`${name}.relative_position_bias_table`, [(2 * ws - 1) ** 2, heads], TRUNC_NORMAL_002);

    const windows = windowPartition(this, this.roll(x, [-shift, -shift], [1, 2]), ws); // (B·nW, N, C)
    const qkv =
      o.projection === "q_kv"
        ? this.concat(
            [
              this.linear(windows, `${name}.qkv.to_q`, c, { init }),
              this.linear(windows, `${name}.qkv.to_kv`, 2 * c, { init }),
            ],
            2,
          )
        : this.linear(windows, `${name}.qkv`, 3 * c, { init });
    // (B, nW, N, 3, heads, d) -> (3, B, nW, heads, N, d): q, k and v per window and head.
    const split = this.permute(this.reshape(qkv, [bsz, nw, n, 3, heads, d]), [3, 0, 1, 4, 2, 5]);
    const part = (i: number) =>
      this.reshape(this.slice(split, [i, 0, 0, 0, 0, 0], [1, bsz, nw, heads, n, d]), [bsz, nw, heads, n, d]);
    const bias = this.permute(
      this.reshape(this.indexSelect(table, relativePositionIndex(this, ws), 0), [n, n, heads]),
      [2, 0, 1],
    );
    let attn = this.add(this.matmul(this.scale(part(0), d ** -0.5), this.t(part(1))), bias);
    if (shift > 0) attn = this.add(attn, this.reshape(shiftedWindowMask(this, h, w, ws, shift), [nw, 1, n, n]));
    const heads5 = this.matmul(this.softmax(attn, -1), part(2)); // (B, nW, heads, N, d)
    const merged = this.reshape(this.permute(heads5, [0, 1, 3, 2, 4]), [bsz * nw, n, c]);
    const out = windowReverse(this, this.linear(merged, `${name}.proj`, c, { init }), ws, h, w);
    return this.roll(out, [shift, shift], [1, 2]);
  }

  /** SwinIR's `Mlp` on tokens: `<name>.fc1` (C → hidden), exact GELU, `<name>.fc2` (hidden → C). */
  mlp(x: Node, name: string, hidden: number, init: LayerInit = "trunc_normal0.02"): Node {
    const c = x.shape[x.shape.length - 1] ?? 0;
    return this.linear(this.gelu(this.linear(x, `${name}.fc1`, hidden, { init })), `${name}.fc2`, c, { init });
  }

  /**
   * `nn.LayerNorm(C, eps)` over `axis` (the last by default: tokens (B, L, C); 1 for an NCHW map); creates
   * `<name>.weight` [C] (ones) and, with `bias`, `<name>.bias` [C] (zeros), PyTorch's init. Over a map's channels
   * this is Restormer's WithBias_LayerNorm; with `center: false` and `bias: false` its BiasFree_LayerNorm,
   * x / sqrt(var + eps) · w.
   */
  layerNorm(x: Node, name: string, o: { axis?: number; eps?: number; bias?: boolean; center?: boolean } = {}): Node {
    const axis = (o.axis ?? -1) < 0 ? (o.axis ?? -1) + x.shape.length : (o.axis ?? -1);
    const c = x.shape[axis] ?? 0;
    // The affine parameters broadcast along the axes after `axis`: [C] for the last, [C, 1, 1] for NCHW channels.
    const along = [c, ...x.shape.slice(axis + 1).map(() => 1)];
    let y = this.mul(
      this.normalize(x, axis, o.eps ?? 1e-5, o.center ?? true),
      this.reshape(this.param(`${name}.weight`, [c], { kind: "const", value: 1 }), along),
    );
    if (o.bias ?? true)
      y = this.add(y, this.reshape(this.param(`${name}.bias`, [c], { kind: "const", value: 0 }), along));
    return y;
  }

  /**
   * Restormer's MDTA (`Attention`) on a map (B, C, H, W): a 1x1 conv to q, k, v (`<name>.qkv`), a depthwise 3x3
   * (`<name>.qkv_dwconv`, 3C groups), per head (B, heads, C/heads, H·W) with q and k L2-normalised along H·W, the
   * channel attention softmax(q·kᵀ · temperature) · v, and a 1x1 conv back (`<name>.project_out`). Creates
   * `<name>.temperature` [heads, 1, 1] (ones, as the reference).
   */
  mdta(x: Node, name: string, o: MdtaOptions): Node {
    const [bsz, c, h, w] = x.shape as [number, number, number, number];
    const { heads } = o;
    assert(x.shape.length === 4 && c % heads === 0, () => `mdta of [${x.shape}] with ${heads} heads`, x);
    const bias = o.bias ?? false;
    const d = c / heads;
    const temperature = this.param(`${name}.temperature`, [heads, 1, 1], { kind: "const", value: 1 });
    const qkv1 = this.conv2d(x, `${name}.qkv`, { out: 3 * c, k: 1, bias });
    const qkv = this.conv2d(qkv1, `${name}.qkv_dwconv`, { out: 3 * c, k: 3, pad: 1, groups: 3 * c, bias });
    // chunk(3, dim=1) then 'b (head c) h w -> b head c (h w)': channel i·C + head·d + j.
    const split = this.reshape(qkv, [bsz, 3, heads, d, h * w]);
    const part = (i: number) =>
      this.reshape(this.slice(split, [0, i, 0, 0, 0], [bsz, 1, heads, d, h * w]), [bsz, heads, d, h * w]);
    const [q, k, v] = [this.l2Normalize(part(0), -1), this.l2Normalize(part(1), -1), part(2)];
    const attn = this.mul(this.matmul(q, this.t(k)), this.reshape(temperature, [1, heads, 1, 1]));
    const out = this.reshape(this.matmul(this.softmax(attn, -1), v), [bsz, c, h, w]);
    return this.conv2d(out, `${name}.project_out`, { out: c, k: 1, bias });
  }

  /**
   * Restormer's GDFN (`FeedForward`) on a map: a 1x1 conv to 2·hidden channels (`<name>.project_in`), a depthwise 3x3
   * (`<name>.dwconv`), GELU(x1)·x2 of its two halves, a 1x1 conv back (`<name>.project_out`); hidden = int(C · ffn).
   */
  gdfn(x: Node, name: string, o: GdfnOptions): Node {
    const [bsz, c, h, w] = x.shape as [number, number, number, number];
    const hidden = Math.floor(c * o.ffn);
    assert(x.shape.length === 4 && hidden >= 1, () => `gdfn of [${x.shape}] with ffn ${o.ffn}`, x);
    const bias = o.bias ?? false;
    const y1 = this.conv2d(x, `${name}.project_in`, { out: 2 * hidden, k: 1, bias });
    const y = this.conv2d(y1, `${name}.dwconv`, { out: 2 * hidden, k: 3, pad: 1, groups: 2 * hidden, bias });
    const half = (i: number) => this.slice(y, [0, i * hidden, 0, 0], [bsz, hidden, h, w]);
    return this.conv2d(this.mul(this.gelu(half(0)), half(1)), `${name}.project_out`, { out: c, k: 1, bias });
  }

  /**
   * PromptIR's `PromptGenBlock` on a map (B, C, H, W): the spatial mean, a linear layer to `len` weights
   * (`<name>.linear_layer`), their softmax, the weighted sum of the learned prompts `<name>.prompt_param`
   * (1, len, dim, size, size; torch.rand's U[0, 1) init), bilinearly resized to H × W (F.interpolate's default
   * align_corners=False, up or down; no node when the sizes agree), and a bias-free 3x3 conv (`<name>.conv3x3`).
   */
  promptGen(x: Node, name: string, o: { len: number; dim: number; size: number }): Node {
    const [bsz, , h, w] = x.shape as [number, number, number, number];
    assert(x.shape.length === 4, () => `prompt_gen of [${x.shape}]`, x);
    const { len, dim, size } = o;
    const prompts = this.param(`${name}.prompt_param`, [1, len, dim, size, size], {
      kind: "uniform",
      low: 0,
      bound: 1,
    });
    const weights = this.softmax(this.linear(this.globalMean(x), `${name}.linear_layer`, len), 1);
    const mixed = this.sum(this.mul(this.reshape(weights, [bsz, len, 1, 1, 1]), prompts), [1], false);
    const resized = size === h && size === w ? mixed : this.resize(mixed, [h, w]);
    return this.conv2d(resized, `${name}.conv3x3`, { out: dim, k: 3, pad: 1, bias: false });
  }

  /** Global spatial mean of NCHW to [B, C] (`AdaptiveAvgPool2d(1)` + flatten). */
  globalMean(x: Node): Node {
    return this.mean(x, [2, 3], false);
  }

  /** The trainable parameters in declaration order. */
  paramList(): Param[] {
    return [...this.params.values()];
  }
}

/** The initial value of every parameter of a builder, by name (what a train session uploads first). */
export function initialParams(b: GraphBuilder): Map<string, Float32Array> {
  return new Map(b.paramList().map((p) => [p.name, p.init]));
}
