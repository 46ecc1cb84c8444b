// One table of op cases, shared by the CPU gradient checks and the device tests. Every op in OPS appears in at
// least one case (a test asserts that), with shapes small enough for finite differences.
import { cropTo, padTo } from "../../compiler/check/builtins.js";
import { GraphBuilder } from "../../compiler/ir/builder.js";
import type { Node } from "../../compiler/ir/node.js";
import { convTranspose, windowEmbed } from "../../compiler/ir/uformer.js";
import {
  relativePositionIndex,
  shiftedWindowMask,
  toMap,
  toTokens,
  windowPartition,
  windowReverse,
} from "../../compiler/ir/windows.js";
import { awayFromZero, uniform } from "./helpers.js";

export interface OpCase {
  readonly name: string;
  readonly inputs: Record<string, readonly number[]>;
  /** Value generator per input (default uniform in [-1, 1)). */
  readonly values?: Record<string, (seed: number, n: number) => Float64Array>;
  build(b: GraphBuilder, input: (name: string) => Node): Node;
}

const pos = (seed: number, n: number) => uniform(seed, n, 0.5, 2);
const wide = (seed: number, n: number) => uniform(seed, n, -4, 4);
const away = (seed: number, n: number) => awayFromZero(seed, n);

export const OP_CASES: OpCase[] = [
  { name: "const+add", inputs: { x: [2, 3] }, build: (b, i) => b.add(i("x"), b.constant(0.25, [2, 3])) },
  { name: "affine", inputs: { x: [2, 5] }, build: (b, i) => b.affine(i("x"), -1.5, 0.25) },
  { name: "leaky_relu", inputs: { x: [3, 7] }, values: { x: away }, build: (b, i) => b.leakyRelu(i("x"), 0.1) },
  { name: "relu", inputs: { x: [3, 7] }, values: { x: away }, build: (b, i) => b.relu(i("x")) },
  {
    name: "leaky_step (zero gradient)",
    inputs: { x: [9] },
    values: { x: away },
    build: (b, i) => b.mul(b.leakyStep(i("x"), 0.2), i("x")),
  },
  { name: "abs", inputs: { x: [11] }, values: { x: away }, build: (b, i) => b.abs(i("x")) },
  {
    name: "sign (zero gradient)",
    inputs: { x: [11] },
    values: { x: away },
    build: (b, i) => b.mul(b.sign(i("x")), i("x")),
  },
  { name: "exp", inputs: { x: [2, 4] }, build: (b, i) => b.exp(i("x")) },
  { name: "log", inputs: { x: [2, 4] }, values: { x: pos }, build: (b, i) => b.log(i("x")) },
  { name: "sqrt", inputs: { x: [2, 4] }, values: { x: pos }, build: (b, i) => b.sqrt(i("x")) },
  { name: "erf", inputs: { x: [3, 7] }, values: { x: wide }, build: (b, i) => b.erf(i("x")) },
  { name: "gelu (erf form)", inputs: { x: [4, 9] }, values: { x: wide }, build: (b, i) => b.gelu(i("x")) },
  { name: "iota", inputs: { x: [2, 3, 4] }, build: (b, i) => b.mul(i("x"), b.iota([1, 3, 4], 2)) },
  { name: "add broadcast", inputs: { a: [2, 3, 4, 5], b: [1, 3, 1, 1] }, build: (b, i) => b.add(i("a"), i("b")) },
  { name: "sub broadcast", inputs: { a: [2, 3, 4], b: [4] }, build: (b, i) => b.sub(i("a"), i("b")) },
  { name: "mul broadcast", inputs: { a: [2, 3, 4, 5], b: [2, 3, 1, 1] }, build: (b, i) => b.mul(i("a"), i("b")) },
  {
    name: "div broadcast",
    inputs: { a: [2, 3, 4], b: [2, 1, 4] },
    values: { b: pos },
    build: (b, i) => b.div(i("a"), i("b")),
  },
  {
    name: "reshape",
    inputs: { x: [2, 3, 4] },
    build: (b, i) => b.mul(b.reshape(i("x"), [6, 4]), b.reshape(i("x"), [6, 4])),
  },
  { name: "permute", inputs: { x: [2, 3, 4, 5] }, build: (b, i) => b.permute(i("x"), [0, 2, 3, 1]) },
  { name: "expand", inputs: { x: [3, 1] }, build: (b, i) => b.expand(i("x"), [2, 3, 4]) },
  { name: "pad zeros", inputs: { x: [1, 2, 4, 5] }, build: (b, i) => b.pad(i("x"), [1, 2, 0, 3], "zeros") },
  { name: "pad reflect", inputs: { x: [2, 2, 4, 5] }, build: (b, i) => b.pad(i("x"), [3, 1, 2, 4], "reflect") },
  { name: "pad_bwd reflect", inputs: { x: [1, 2, 8, 9] }, build: (b, i) => b.padBwd(i("x"), [2, 1, 1, 3], "reflect") },
  { name: "pad_bwd zeros", inputs: { x: [1, 2, 6, 7] }, build: (b, i) => b.padBwd(i("x"), [1, 1, 2, 0], "zeros") },
  { name: "slice", inputs: { x: [2, 5, 6] }, build: (b, i) => b.slice(i("x"), [1, 1, 2], [1, 3, 3]) },
  {
    // SwinIR's test-time padding (builtin pad_to): a 5×7 map reflected at its bottom and right to 8×8.
    name: "pad_to reflect (bottom and right, to multiples of 4)",
    inputs: { x: [2, 2, 5, 7] },
    build: (b, i) => padTo(b, i("x"), 4, "reflect"),
  },
  {
    // pad_to, a shift that moves padded pixels into the top-left 5×7 (as a shifted window does), crop_to back.
    name: "crop_to of a rolled pad_to",
    inputs: { x: [1, 2, 5, 7] },
    build: (b, i) => cropTo(b, b.roll(padTo(b, i("x"), 4, "reflect"), [-2, -1], [2, 3]), [5, 7]),
  },
  {
    // Uformer's test-time padding (pad_to(4, square: true)): 5×3 reflected to 8×4, then 2 columns on each side to
    // 8×8 (a second reflection, of the padded map), rolled and cropped back from [0, 2].
    name: "crop_to of a rolled square pad_to (two reflections)",
    inputs: { x: [1, 2, 5, 3] },
    build: (b, i) => cropTo(b, b.roll(padTo(b, i("x"), 4, "reflect", true), [-1, 0], [2, 3]), [5, 3], [0, 2]),
  },
  { name: "embed", inputs: { x: [1, 3, 3] }, build: (b, i) => b.embed(i("x"), [1, 1, 2], [2, 5, 6]) },
  {
    name: "concat",
    inputs: { a: [2, 2, 3], b: [2, 3, 3] },
    build: (b, i) => b.concat([i("a"), i("b"), i("a")], 1),
  },
  { name: "resize up", inputs: { x: [1, 2, 3, 4] }, build: (b, i) => b.resize(i("x"), [7, 9]) },
  { name: "resize down", inputs: { x: [2, 1, 8, 7] }, build: (b, i) => b.resize(i("x"), [3, 4]) },
  { name: "resize x4", inputs: { x: [1, 1, 3, 2] }, build: (b, i) => b.resize(i("x"), [12, 8]) },
  // PromptIR's prompts meet smaller features at small crops: 16 -> 5 is no integer factor, each output spans 3.2.
  { name: "resize down 16 -> 5", inputs: { x: [1, 2, 16, 16] }, build: (b, i) => b.resize(i("x"), [5, 5]) },
  { name: "resize_bwd", inputs: { x: [1, 2, 5, 6] }, build: (b, i) => b.resizeBwd(i("x"), [3, 4]) },
  {
    name: "roll (cyclic shift of shifted windows)",
    inputs: { x: [2, 5, 6, 3] },
    build: (b, i) => b.roll(i("x"), [-2, 7], [1, 2]),
  },
  {
    name: "index_select of a bias table by the relative position index",
    inputs: { table: [9, 2] },
    build: (b, i) => b.indexSelect(i("table"), relativePositionIndex(b, 2), 0),
  },
  {
    // index |p - 1.5| - 0.5 = [1, 0, 0, 1]: repeated and skipped rows, along a middle axis.
    name: "index_select axis 1",
    inputs: { x: [2, 5, 3] },
    build: (b, i) => b.indexSelect(i("x"), b.affine(b.abs(b.affine(b.iota([4], 0), 1, -1.5)), 1, -0.5), 1),
  },
  {
    name: "index_select_bwd",
    inputs: { g: [2, 4, 3] },
    build: (b, i) => b.indexSelectBwd(i("g"), b.affine(b.abs(b.affine(b.iota([4], 0), 1, -1.5)), 1, -0.5), 1, 5),
  },
  { name: "sum axes", inputs: { x: [2, 3, 4, 5] }, build: (b, i) => b.sum(i("x"), [0, 2, 3]) },
  { name: "mean global spatial", inputs: { x: [2, 3, 4, 5] }, build: (b, i) => b.globalMean(i("x")) },
  { name: "softmax", inputs: { x: [3, 7] }, build: (b, i) => b.softmax(i("x"), 1) },
  { name: "softmax axis 0", inputs: { x: [4, 2, 3] }, build: (b, i) => b.softmax(i("x"), 0) },
  {
    // The softmax row kernel with an elementwise member in its loop (attention's softmax then a scale).
    name: "softmax last axis with a fused member",
    inputs: { x: [2, 3, 5, 6], s: [2, 3, 5, 6] },
    build: (b, i) => b.mul(b.softmax(i("x"), -1), i("s")),
  },
  {
    name: "layer norm over tokens (normalize, weight, bias)",
    inputs: { x: [2, 5, 8] },
    build: (b, i) => b.layerNorm(i("x"), "norm"),
  },
  {
    name: "layer norm over NCHW channels",
    inputs: { x: [2, 4, 3, 3] },
    build: (b, i) => b.layerNorm(i("x"), "norm", { axis: 1, bias: false }),
  },
  {
    name: "rand (drop_path, per sample)",
    inputs: { x: [6, 3, 2] },
    build: (b, i) => b.dropPath(i("x"), 0.5, b.constant(3, [1]), 11),
  },
  { name: "matmul", inputs: { a: [5, 7], b: [7, 9] }, build: (b, i) => b.matmul(i("a"), i("b")) },
  {
    name: "batched matmul (q @ k^T per window and head)",
    inputs: { q: [2, 3, 5, 4], k: [2, 3, 6, 4] },
    build: (b, i) => b.matmul(i("q"), b.t(i("k"))),
  },
  {
    // One shifted-window attention of a 4x4 map in 2x2 windows with 2 heads: roll, partition, q·kᵀ + relative
    // position bias + mask, softmax, attn·v, reverse, roll back; every new primitive and composite at once.
    name: "shifted window attention",
    inputs: { x: [1, 4, 4, 4], table: [9, 2] },
    build: (b, i) => {
      const [ws, heads, d] = [2, 2, 2];
      const win = windowPartition(b, b.roll(i("x"), [-1, -1], [1, 2]), ws); // [4, 4, 4]
      const qkv = b.permute(b.reshape(win, [1, 4, 4, heads, d]), [0, 1, 3, 2, 4]); // [1, nW, heads, N, d]
      const bias = b.permute(
        b.reshape(b.indexSelect(i("table"), relativePositionIndex(b, ws), 0), [4, 4, heads]),
        [2, 0, 1],
      );
      const mask = b.reshape(shiftedWindowMask(b, 4, 4, ws, 1), [1, 4, 1, 4, 4]);
      const attn = b.softmax(b.add(b.add(b.scale(b.matmul(qkv, b.t(qkv)), d ** -0.5), bias), mask), -1);
      const out = b.reshape(b.permute(b.matmul(attn, qkv), [0, 1, 3, 2, 4]), [4, 4, 4]);
      return b.roll(windowReverse(b, out, ws, 4, 4), [1, 1], [1, 2]);
    },
  },
  {
    // A shifted Swin transformer layer from the builder's composites, with its named parameters.
    name: "swin transformer layer (layer norm, window attention, mlp)",
    inputs: { x: [1, 4, 4, 4] },
    build: (b, i) => {
      const t = b.add(
        i("x"),
        b.windowAttention(b.layerNorm(i("x"), "norm1"), "attn", { heads: 2, window: 2, shift: 1 }),
      );
      return b.add(t, b.mlp(b.layerNorm(t, "norm2"), "mlp", 8));
    },
  },
  {
    // Uformer's decoder block: the modulator on the shifted windows, window attention with to_q/to_kv, a LeFF
    // (linear, GELU, depthwise 3×3 on the token map, GELU, linear), both residual. PyTorch-init projections: trunc
    // normal 0.02 ones leave q so small that its gradient is within finite differences' noise.
    name: "uformer LeWin block (modulator, q/kv projection, LeFF)",
    inputs: { x: [1, 4, 4, 4] },
    build: (b, i) => {
      const opts = { heads: 2, window: 2, shift: 1 };
      const a = windowEmbed(b, b.layerNorm(i("x"), "norm1"), "modulator", opts);
      const t = b.add(i("x"), b.windowAttention(a, "attn", { ...opts, projection: "q_kv", init: "pytorch" }));
      const h = toMap(b, b.gelu(b.linear(b.layerNorm(t, "norm2"), "mlp.linear1.0", 6)));
      const d = toTokens(b, b.gelu(b.conv2d(h, "mlp.dwconv.0", { out: 6, k: 3, pad: 1, groups: 6 })));
      return b.add(t, b.linear(d, "mlp.linear2.0", 4));
    },
  },
  {
    name: "tokens <-> map",
    inputs: { x: [2, 3, 2, 4] },
    build: (b, i) => toMap(b, b.mul(toTokens(b, i("x")), b.iota([1, 2, 4, 3], 3))),
  },
  {
    name: "conv2d k3 s1 p1",
    inputs: { x: [2, 3, 6, 5], w: [4, 3, 3, 3] },
    build: (b, i) => b.convolve(i("x"), i("w"), 1, 1),
  },
  // The vec4-row kernels (stride 1, same size, W % 4 == 0): channel blocks with a remainder, one or two vec4s per
  // lane, 5x5 taps reaching into the next vec4, 1x1, and more input channels than one staging pass holds.
  {
    name: "conv2d k3 s1 p1 rows",
    inputs: { x: [2, 5, 6, 8], w: [12, 5, 3, 3] },
    build: (b, i) => b.convolve(i("x"), i("w"), 1, 1),
  },
  {
    name: "conv2d k3 s1 p1 rows 3 out",
    inputs: { x: [1, 3, 5, 4], w: [3, 3, 3, 3] },
    build: (b, i) => b.convolve(i("x"), i("w"), 1, 1),
  },
  {
    name: "conv2d k5 s1 p2 rows",
    inputs: { x: [1, 2, 4, 12], w: [4, 2, 5, 5] },
    build: (b, i) => b.convolve(i("x"), i("w"), 1, 2),
  },
  {
    name: "conv2d 1x1 rows",
    inputs: { x: [2, 4, 3, 8], w: [6, 4, 1, 1] },
    build: (b, i) => b.convolve(i("x"), i("w")),
  },
  {
    name: "conv2d k3 s1 p1 rows 60 in",
    inputs: { x: [1, 60, 2, 4], w: [4, 60, 3, 3] },
    build: (b, i) => b.convolve(i("x"), i("w"), 1, 1),
  },
  {
    name: "conv2d_bwd_x s1 rows",
    inputs: { dy: [2, 6, 5, 8], w: [6, 3, 3, 3] },
    build: (b, i) => b.conv2dBwdX(i("dy"), i("w"), 1, 1, [2, 3, 5, 8]),
  },
  {
    name: "conv2d_bwd_w s1 rows",
    inputs: { x: [2, 3, 5, 8], dy: [2, 6, 5, 8] },
    build: (b, i) => b.conv2dBwdW(i("x"), i("dy"), 1, 1, 3),
  },
  {
    name: "conv2d k7 s2 p1",
    inputs: { x: [1, 2, 11, 12], w: [3, 2, 7, 7] },
    build: (b, i) => b.convolve(i("x"), i("w"), 2, 1),
  },
  {
    name: "conv2d k3 s3 p0",
    inputs: { x: [2, 2, 9, 7], w: [5, 2, 3, 3] },
    build: (b, i) => b.convolve(i("x"), i("w"), 3, 0),
  },
  { name: "conv2d 1x1", inputs: { x: [2, 4, 3, 3], w: [9, 4, 1, 1] }, build: (b, i) => b.convolve(i("x"), i("w")) },
  {
    name: "conv2d_bwd_x s2",
    inputs: { dy: [2, 3, 4, 4], w: [3, 2, 3, 3] },
    build: (b, i) => b.conv2dBwdX(i("dy"), i("w"), 2, 1, [2, 2, 8, 7]),
  },
  {
    name: "conv2d_bwd_w s2",
    inputs: { x: [2, 2, 8, 7], dy: [2, 3, 4, 4] },
    build: (b, i) => b.conv2dBwdW(i("x"), i("dy"), 2, 1, 3),
  },
  // Grouped convolution (PyTorch `groups`): two groups, depthwise, strided, a channel multiplier (2 outputs per
  // input channel), and its two adjoints on their own so their backward (double backward) is checked too.
  {
    name: "conv2d grouped k3 s1 p1 groups 2",
    inputs: { x: [2, 4, 5, 6], w: [6, 2, 3, 3] },
    build: (b, i) => b.convolve(i("x"), i("w"), 1, 1, 2),
  },
  {
    name: "conv2d depthwise k3 s1 p1",
    inputs: { x: [2, 3, 5, 4], w: [3, 1, 3, 3] },
    build: (b, i) => b.convolve(i("x"), i("w"), 1, 1, 3),
  },
  {
    name: "conv2d grouped k3 s2 p1",
    inputs: { x: [1, 4, 7, 6], w: [4, 2, 3, 3] },
    build: (b, i) => b.convolve(i("x"), i("w"), 2, 1, 2),
  },
  {
    name: "conv2d depthwise channel multiplier 2",
    inputs: { x: [1, 2, 4, 4], w: [4, 1, 3, 3] },
    build: (b, i) => b.convolve(i("x"), i("w"), 1, 1, 2),
  },
  {
    name: "conv2d_grouped_bwd_x s2",
    inputs: { dy: [2, 4, 3, 3], w: [4, 1, 3, 3] },
    build: (b, i) => b.conv2dBwdX(i("dy"), i("w"), 2, 1, [2, 2, 6, 5], 2),
  },
  {
    name: "conv2d_grouped_bwd_w s1",
    inputs: { x: [2, 4, 4, 5], dy: [2, 2, 4, 5] },
    build: (b, i) => b.conv2dBwdW(i("x"), i("dy"), 1, 1, 3, 2),
  },
  // Depthwise with rows of whole vec4s: the `rows` schedule's depthwise kernels (compiler/wgsl/grouped.ts), with two
  // vec4s a lane (W 16), one (W 12; W 4 above), a 5x5 kernel whose taps reach into the neighbouring vec4, and a bias
  // fused into the forward's epilogue; the weight gradient's row form needs 64 row vec4s a channel (the first two).
  {
    name: "conv2d depthwise rows k3 W16",
    inputs: { x: [2, 3, 8, 16], w: [3, 1, 3, 3] },
    build: (b, i) => b.convolve(i("x"), i("w"), 1, 1, 3),
  },
  {
    name: "conv2d depthwise rows k5 W12",
    inputs: { x: [4, 2, 6, 12], w: [2, 1, 5, 5] },
    build: (b, i) => b.convolve(i("x"), i("w"), 1, 2, 2),
  },
  {
    name: "depthwise conv layer with bias (builder)",
    inputs: { x: [2, 4, 4, 8] },
    build: (b, i) => b.conv2d(i("x"), "dw", { out: 4, k: 3, pad: 1, groups: 4 }),
  },
  {
    name: "conv layer groups 3 with bias (builder)",
    inputs: { x: [1, 6, 3, 4] },
    build: (b, i) => b.conv2d(i("x"), "dw", { out: 6, k: 3, pad: 1, groups: 3 }),
  },
  // Restormer's ops: F.normalize along the last axis, pixel (un)shuffle, BiasFree layer norm over NCHW channels,
  // MDTA and GDFN with biases (every parameter).
  {
    // Uformer's Downsample: a 4×4 conv, stride 2, pad 1 halves the side.
    name: "conv2d k4 s2 p1",
    inputs: { x: [2, 2, 6, 6], w: [3, 2, 4, 4] },
    build: (b, i) => b.convolve(i("x"), i("w"), 2, 1),
  },
  {
    // Uformer's Upsample, nn.ConvTranspose2d(k 2, stride 2): a 1×1 conv to out·4 channels and pixel_shuffle(2).
    name: "conv transpose k2 s2 (builder)",
    inputs: { x: [2, 3, 2, 3] },
    build: (b, i) => convTranspose(b, i("x"), "up", { out: 2, k: 2 }),
  },
  { name: "l2 normalize last axis", inputs: { x: [2, 3, 7] }, build: (b, i) => b.l2Normalize(i("x"), -1) },
  { name: "l2 normalize axis 1", inputs: { x: [2, 4, 3] }, build: (b, i) => b.l2Normalize(i("x"), 1) },
  { name: "pixel_shuffle 2", inputs: { x: [2, 8, 3, 2] }, build: (b, i) => b.pixelShuffle(i("x"), 2) },
  { name: "pixel_unshuffle 2", inputs: { x: [1, 2, 4, 6] }, build: (b, i) => b.pixelUnshuffle(i("x"), 2) },
  {
    name: "layer norm over NCHW channels, BiasFree (not centered)",
    inputs: { x: [2, 5, 3, 2] },
    build: (b, i) => b.layerNorm(i("x"), "norm", { axis: 1, bias: false, center: false }),
  },
  {
    name: "mdta with biases",
    inputs: { x: [1, 4, 3, 4] },
    build: (b, i) => b.mdta(i("x"), "attn", { heads: 2, bias: true }),
  },
  {
    name: "gdfn with biases (hidden int(2 * 2.66) = 5)",
    inputs: { x: [1, 2, 3, 4] },
    build: (b, i) => b.gdfn(i("x"), "ffn", { ffn: 2.66, bias: true }),
  },
  {
    name: "linear layer",
    inputs: { v: [2, 6] },
    build: (b, i) => b.linear(i("v"), "fc", 5),
  },
  {
    name: "l1 loss",
    inputs: { p: [2, 3, 4] },
    values: { p: away },
    build: (b, i) => b.l1Loss(i("p"), b.constant(0, [2, 3, 4])),
  },
  { name: "mse loss", inputs: { p: [2, 3, 4], t: [2, 3, 4] }, build: (b, i) => b.mseLoss(i("p"), i("t")) },
  {
    name: "charbonnier loss",
    inputs: { p: [2, 3, 4], t: [2, 3, 4] },
    build: (b, i) => b.charbonnierLoss(i("p"), i("t"), 1e-3),
  },
  {
    name: "cross-entropy on softmax (MiOIR classifier)",
    inputs: { z: [3, 7] },
    build: (b, i) => {
      const onehot = new Float32Array(21);
      onehot[2] = 1;
      onehot[7 + 6] = 1;
      onehot[14 + 0] = 1;
      const t = b.param("target", [3, 7], onehot);
      return b.crossEntropy(b.softmax(i("z"), 1), t);
    },
  },
  {
    name: "nll of softmax probabilities (cross_entropy double_softmax: false)",
    inputs: { z: [3, 7] },
    build: (b, i) => {
      const onehot = new Float32Array(21);
      onehot[4] = 1;
      onehot[7 + 1] = 1;
      onehot[14 + 5] = 1;
      const t = b.param("target", [3, 7], onehot);
      return b.nllPerSample(b.softmax(i("z"), 1), t);
    },
  },
];

/** Builds a case: the builder, its output, the input nodes (excluding parameters) and their values. */
export function buildCase(c: OpCase, seed = 1) {
  const b = new GraphBuilder({ seed: 3 });
  const x: Record<string, Node> = {};
  const values: Record<string, Float64Array> = {};
  let k = seed;
  for (const [name, shape] of Object.entries(c.inputs)) {
    x[name] = b.input(name, shape);
    const n = shape.reduce((p, d) => p * d, 1);
    values[name] = (c.values?.[name] ?? uniform)(k++, n);
  }
  const y = c.build(b, (name) => {
    const n = x[name];
    if (!n) throw new Error(`case ${c.name} has no input ${name}`);
    return n;
  });
  for (const p of b.paramList()) values[p.name] = Float64Array.from(p.init);
  const wrt = [
    ...Object.values(x),
    ...b
      .paramList()
      .filter((p) => p.name !== "target")
      .map((p) => p.node),
  ];
  return { b, y, wrt, values };
}
