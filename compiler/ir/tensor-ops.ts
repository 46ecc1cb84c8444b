// Typed constructors for the primitive ops plus the few composites built from them (mean, losses). The graph
// builder, the backward rules and the optimizer all create nodes through this class and nowhere else.
import type { Graph } from "./graph.js";
import { assert, type Node, numel, type Shape } from "./node.js";

/** What a leaf input holds; the executor gives parameters and state fixed homes and uploads data each step. */
export type InputRole = "data" | "param" | "state" | "scalar";

/**
 * Primitive op constructors over one graph.
 * @example const o = new GraphOps(g); const y = o.add(o.relu(x), o.constant(1));
 */
export class GraphOps {
  constructor(readonly g: Graph) {}

  // ---- leaves ----
  input(name: string, shape: Shape, role: InputRole = "data"): Node {
    const prev = this.g.input(name);
    assert(!prev, () => `input '${name}' is declared twice`);
    return this.g.node("input", [], { name, role, shape: [...shape] });
  }
  /** A tensor filled with `value` (shape [1] broadcasts against anything). */
  constant(value: number, shape: Shape = [1]): Node {
    return this.g.node("const", [], { value, shape: [...shape] });
  }
  /**
   * A small constant tensor holding `values` in row-major order (SwinIR's RGB mean as [1, 3, 1, 1]): a concat of
   * fills, so its values are exact and nothing is uploaded.
   */
  constants(values: readonly number[], shape: Shape): Node {
    assert(values.length === numel(shape), () => `${values.length} values for shape [${shape}]`);
    return this.reshape(
      this.concat(
        values.map((v) => this.constant(v, [1])),
        0,
      ),
      shape,
    );
  }
  /** The coordinate along `axis` at every element of `shape` (NumPy's arange, broadcast to the shape). */
  iota(shape: Shape, axis: number): Node {
    return this.g.node("iota", [], { shape: [...shape], axis: axis < 0 ? axis + shape.length : axis });
  }

  // ---- unary ----
  affine(x: Node, a: number, b = 0): Node {
    if (a === 1 && b === 0) return x;
    return this.g.node("affine", [x], { a, b });
  }
  scale(x: Node, a: number): Node {
    return this.affine(x, a, 0);
  }
  neg(x: Node): Node {
    return this.affine(x, -1, 0);
  }
  relu(x: Node): Node {
    return this.leakyRelu(x, 0);
  }
  leakyRelu(x: Node, alpha: number): Node {
    return this.g.node("leaky_relu", [x], { alpha });
  }
  leakyStep(x: Node, alpha: number): Node {
    return this.g.node("leaky_step", [x], { alpha });
  }
  abs(x: Node): Node {
    return this.g.node("abs", [x]);
  }
  sign(x: Node): Node {
    return this.g.node("sign", [x]);
  }
  exp(x: Node): Node {
    return this.g.node("exp", [x]);
  }
  log(x: Node): Node {
    return this.g.node("log", [x]);
  }
  sqrt(x: Node): Node {
    return this.g.node("sqrt", [x]);
  }
  erf(x: Node): Node {
    return this.g.node("erf", [x]);
  }
  /** GELU in PyTorch's exact form, `x * 0.5 * (1 + erf(x / sqrt(2)))` (nn.GELU(), not the tanh approximation). */
  gelu(x: Node): Node {
    return this.mul(x, this.affine(this.erf(this.scale(x, Math.SQRT1_2)), 0.5, 0.5));
  }

  // ---- binary (broadcasting) ----
  add(a: Node, b: Node): Node {
    return this.g.node("add", [a, b]);
  }
  sub(a: Node, b: Node): Node {
    return this.g.node("sub", [a, b]);
  }
  mul(a: Node, b: Node): Node {
    return this.g.node("mul", [a, b]);
  }
  div(a: Node, b: Node): Node {
    return this.g.node("div", [a, b]);
  }

  // ---- data movement ----
  reshape(x: Node, shape: Shape): Node {
    if (x.shape.length === shape.length && x.shape.every((d, i) => d === shape[i])) return x;
    return this.g.node("reshape", [x], { shape: [...shape] });
  }
  permute(x: Node, perm: readonly number[]): Node {
    return this.g.node("permute", [x], { perm: [...perm] });
  }
  /** Transpose of a matrix, or of the last two axes of a batch of them. */
  t(x: Node): Node {
    const r = x.shape.length;
    assert(r >= 2, () => `transpose needs two axes, got [${x.shape}]`);
    return this.permute(
      x,
      x.shape.map((_, i) => (i < r - 2 ? i : 2 * r - 3 - i)),
    );
  }
  expand(x: Node, shape: Shape): Node {
    if (x.shape.length === shape.length && x.shape.every((d, i) => d === shape[i])) return x;
    return this.g.node("expand", [x], { shape: [...shape] });
  }
  /** Pads H and W of an NCHW tensor by [top, bottom, left, right] with zeros or by reflection (PyTorch's). */
  pad(x: Node, pads: readonly number[], mode: "zeros" | "reflect" = "zeros"): Node {
    if (pads.every((p) => p === 0)) return x;
    return this.g.node("pad", [x], { pads: [...pads], mode });
  }
  padBwd(g: Node, pads: readonly number[], mode: string): Node {
    return this.g.node("pad_bwd", [g], { pads: [...pads], mode });
  }
  slice(x: Node, begin: readonly number[], size: readonly number[]): Node {
    return this.g.node("slice", [x], { begin: [...begin], size: [...size] });
  }
  embed(x: Node, begin: readonly number[], shape: Shape): Node {
    return this.g.node("embed", [x], { begin: [...begin], shape: [...shape] });
  }
  concat(xs: readonly Node[], axis: number): Node {
    if (xs.length === 1 && xs[0]) return xs[0];
    return this.g.node("concat", xs, { axis });
  }
  /** Bilinear resize of H, W to `size`, PyTorch `interpolate(mode="bilinear", align_corners=False)`. */
  resize(x: Node, size: readonly [number, number]): Node {
    return this.g.node("resize", [x], { size: [...size] });
  }
  resizeBwd(g: Node, size: readonly [number, number]): Node {
    return this.g.node("resize_bwd", [g], { size: [...size] });
  }
  /** torch.roll: element i of each axis moves to i + shift (mod its size). */
  roll(x: Node, shifts: readonly number[], axes: readonly number[]): Node {
    const norm = axes.map((a) => (a < 0 ? a + x.shape.length : a));
    if (shifts.every((s, i) => s % (x.shape[norm[i] ?? 0] ?? 1) === 0)) return x;
    return this.g.node("roll", [x], { shifts: [...shifts], axes: norm });
  }
  /** torch.index_select: output position p along `axis` reads `x` at `index[p]` (a 1-D, integer-valued tensor). */
  indexSelect(x: Node, index: Node, axis: number): Node {
    return this.g.node("index_select", [x, index], { axis: axis < 0 ? axis + x.shape.length : axis });
  }
  /** The adjoint of `indexSelect`: position r along `axis` (of `size`) sums `g` where `index` is r. */
  indexSelectBwd(g: Node, index: Node, axis: number, size: number): Node {
    return this.g.node("index_select_bwd", [g, index], { axis, size });
  }

  /**
   * `nn.PixelShuffle(r)`: (B, C·r², H, W) → (B, C, H·r, W·r), out[b, c, h·r + i, w·r + j] = x[b, c·r² + i·r + j, h, w];
   * a permute between two reshape views (one copy kernel; its backward is the inverse permute).
   */
  pixelShuffle(x: Node, r: number): Node {
    const [b, c, h, w] = x.shape as [number, number, number, number];
    assert(x.shape.length === 4 && c % (r * r) === 0, () => `pixel_shuffle(${r}) of [${x.shape}]`, x);
    const split = this.reshape(x, [b, c / (r * r), r, r, h, w]);
    return this.reshape(this.permute(split, [0, 1, 4, 2, 5, 3]), [b, c / (r * r), h * r, w * r]);
  }
  /** `nn.PixelUnshuffle(r)`: (B, C, H·r, W·r) → (B, C·r², H, W), the inverse of `pixelShuffle`. */
  pixelUnshuffle(x: Node, r: number): Node {
    const [b, c, h, w] = x.shape as [number, number, number, number];
    assert(x.shape.length === 4 && h % r === 0 && w % r === 0, () => `pixel_unshuffle(${r}) of [${x.shape}]`, x);
    const split = this.reshape(x, [b, c, h / r, r, w / r, r]);
    return this.reshape(this.permute(split, [0, 1, 3, 5, 2, 4]), [b, c * r * r, h / r, w / r]);
  }

  // ---- reductions ----
  /** Sum over `axes`; with keepdim false the reduced axes are dropped afterwards. */
  sum(x: Node, axes: readonly number[], keepdim = true): Node {
    const norm = [...new Set(axes.map((a) => (a < 0 ? a + x.shape.length : a)))].sort((p, q) => p - q);
    const s = norm.length === 0 ? x : this.g.node("sum", [x], { axes: norm });
    return keepdim
      ? s
      : this.reshape(
          s,
          x.shape.filter((_, i) => !norm.includes(i)),
        );
  }
  mean(x: Node, axes: readonly number[], keepdim = true): Node {
    const count = axes.reduce((c, a) => c * (x.shape[a < 0 ? a + x.shape.length : a] ?? 1), 1);
    return this.scale(this.sum(x, axes, keepdim), 1 / count);
  }
  /** Mean of every element, as a [1] tensor. */
  meanAll(x: Node): Node {
    return this.reshape(
      this.mean(
        x,
        x.shape.map((_, i) => i),
        true,
      ),
      [1],
    );
  }
  /** Sums a broadcast result `x` back to `shape` (the backward of broadcasting). */
  sumTo(x: Node, shape: Shape): Node {
    if (x.shape.length === shape.length && x.shape.every((d, i) => d === shape[i])) return x;
    const lead = x.shape.length - shape.length;
    const axes: number[] = [];
    x.shape.forEach((d, i) => {
      if (i < lead || (shape[i - lead] === 1 && d !== 1)) axes.push(i);
    });
    return this.reshape(this.sum(x, axes, true), shape);
  }
  softmax(x: Node, axis: number): Node {
    return this.g.node("softmax", [x], { axis: axis < 0 ? axis + x.shape.length : axis });
  }
  /**
   * Normalises over `axis` to zero mean and unit variance, `(x - mean) / sqrt(var + eps)` with the biased variance,
   * as nn.LayerNorm does before its affine step (the builder's `layerNorm` adds that). Two passes (mean, then the
   * mean square of the deviations) keep it as stable as PyTorch's.
   */
  normalize(x: Node, axis = -1, eps = 1e-5, center = true): Node {
    const xc = this.sub(x, this.mean(x, [axis]));
    // center false: Restormer's BiasFree_LayerNorm, x / sqrt(var + eps), the variance still about the mean.
    return this.div(center ? xc : x, this.sqrt(this.affine(this.mean(this.mul(xc, xc), [axis]), 1, eps)));
  }
  /**
   * `F.normalize(x, dim=axis)`: x / max(‖x‖₂, eps) along `axis`. The clamp is relu(‖x‖ − eps) + eps, whose
   * gradient is PyTorch's clamp_min's (1 above eps, 0 below). NOTE: an all-zero row has an infinite sqrt
   * derivative at 0 and gives a NaN gradient, where PyTorch gives 0.
   */
  l2Normalize(x: Node, axis = -1, eps = 1e-12): Node {
    const norm = this.sqrt(this.sum(this.mul(x, x), [axis]));
    return this.div(x, this.affine(this.relu(this.affine(norm, 1, -eps)), 1, eps));
  }

  // ---- random ----
  /** Uniform draws in [0, 1) of `shape`, a pure function of (seed, the value of `counter`, element index). */
  rand(counter: Node, shape: Shape, seed: number): Node {
    return this.g.node("rand", [counter], { seed: seed >>> 0, shape: [...shape] });
  }
  /**
   * Stochastic depth (timm `drop_path`, SwinIR's DropPath): each sample (axis 0) is zeroed with probability `prob`
   * and the kept ones scaled by 1 / (1 - prob); identity when `prob` is 0. `counter` (a step number) and `seed`
   * pick the draws, so a step is reproducible and every step draws afresh.
   */
  dropPath(x: Node, prob: number, counter: Node, seed: number): Node {
    if (prob === 0) return x;
    assert(prob > 0 && prob < 1, () => `drop_path probability ${prob} is outside [0, 1)`);
    const u = this.rand(
      counter,
      x.shape.map((d, i) => (i === 0 ? d : 1)),
      seed,
    );
    // u > prob keeps a sample: probability 1 - prob, as floor(1 - prob + u) in timm.
    return this.mul(x, this.scale(this.leakyStep(this.affine(u, 1, -prob), 0), 1 / (1 - prob)));
  }

  // ---- contractions ----
  matmul(a: Node, b: Node): Node {
    return this.g.node("matmul", [a, b]);
  }
  /**
   * Zero-padded strided convolution, NCHW input and OIHW weight (no bias: add it as [1,C,1,1]). With `groups` > 1
   * the weight is [O, C/groups, k, k] (PyTorch's grouped and depthwise conv) and the op is `conv2d_grouped`.
   */
  convolve(x: Node, w: Node, stride = 1, pad = 0, groups = 1): Node {
    if (groups === 1) return this.g.node("conv2d", [x, w], { stride, pad });
    return this.g.node("conv2d_grouped", [x, w], { stride, pad, groups });
  }
  conv2dBwdX(dy: Node, w: Node, stride: number, pad: number, xshape: Shape, groups = 1): Node {
    if (groups === 1) return this.g.node("conv2d_bwd_x", [dy, w], { stride, pad, xshape: [...xshape] });
    return this.g.node("conv2d_grouped_bwd_x", [dy, w], { stride, pad, groups, xshape: [...xshape] });
  }
  conv2dBwdW(x: Node, dy: Node, stride: number, pad: number, k: number, groups = 1): Node {
    if (groups === 1) return this.g.node("conv2d_bwd_w", [x, dy], { stride, pad, k });
    return this.g.node("conv2d_grouped_bwd_w", [x, dy], { stride, pad, k, groups });
  }

  // ---- losses (composites) ----
  /**
   * The elementwise term a restoration loss averages: |p - t| (L1), (p - t)^2 (MSE), or sqrt((p - t)^2 + eps^2)
   * (Charbonnier, BasicSR `CharbonnierLoss`: eps 1e-12 there, 1e-3 common).
   */
  pixelLoss(kind: "l1" | "mse" | "charbonnier", pred: Node, target: Node, eps = 1e-3): Node {
    const d = this.sub(pred, target);
    if (kind === "l1") return this.abs(d);
    const sq = this.mul(d, d);
    return kind === "mse" ? sq : this.sqrt(this.affine(sq, 1, eps * eps));
  }
  /** Mean absolute error, PyTorch `L1Loss()`; a [1] tensor. */
  l1Loss(pred: Node, target: Node): Node {
    return this.meanAll(this.pixelLoss("l1", pred, target));
  }
  /** Mean squared error, PyTorch `MSELoss()`. */
  mseLoss(pred: Node, target: Node): Node {
    return this.meanAll(this.pixelLoss("mse", pred, target));
  }
  /** Charbonnier loss mean(sqrt((p-t)^2 + eps^2)). */
  charbonnierLoss(pred: Node, target: Node, eps = 1e-3): Node {
    return this.meanAll(this.pixelLoss("charbonnier", pred, target, eps));
  }
  /**
   * PyTorch `CrossEntropyLoss()(logits, target)` with a probability (one-hot) target [B, K]:
   * mean over the batch of -sum_k target_k * log_softmax(logits)_k. MiOIR feeds it the softmax output
   * (docs/training.md).
   */
  crossEntropy(logits: Node, target: Node): Node {
    const perSample = this.crossEntropyPerSample(logits, target);
    return this.scale(this.reshape(this.sum(perSample, [0], true), [1]), 1 / (logits.shape[0] ?? 1));
  }
  /** The per-sample terms of `crossEntropy`: -sum_k target_k * log_softmax(logits)_k, shape [B]. */
  crossEntropyPerSample(logits: Node, target: Node): Node {
    assert(logits.shape.length === 2, () => `crossEntropy expects [B, K] logits, got [${logits.shape}]`);
    const logp = this.log(this.softmax(logits, 1));
    return this.neg(this.sum(this.mul(target, logp), [1], false));
  }
  /**
   * Negative log-likelihood of probabilities (a model ending in softmax), per sample: -sum_k target_k *
   * log(p_k + 1e-12), shape [B]. The 1e-12 keeps a probability that underflowed to 0 finite. For a softmax output
   * this is the ordinary (single-softmax) cross-entropy of the logits.
   */
  nllPerSample(probs: Node, target: Node): Node {
    assert(probs.shape.length === 2, () => `nll expects [B, K] probabilities, got [${probs.shape}]`);
    return this.neg(this.sum(this.mul(target, this.log(this.affine(probs, 1, 1e-12))), [1], false));
  }

  /** Number of elements of a node. */
  static numel(n: Node): number {
    return numel(n.shape);
  }
}
