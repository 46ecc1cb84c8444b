// What Uformer (MiOIR's basicsr/archs/uformer_arch.py) needs beyond SwinIR and Restormer, composed from existing ops
// (docs/compiler.md, "Uformer's layers"): its Upsample's transposed convolution and its decoder blocks' modulator.
// Its Downsample is an ordinary strided conv (k 4, stride 2, pad 1), LeFF and the projections are .mio compositions.
import { type GraphBuilder, type LayerInit, layerInitDraws } from "./builder.js";
import { assert, type Node } from "./node.js";

export interface ConvTransposeOptions {
  /** Output channels. */
  out: number;
  /** Kernel side, equal to the stride: the kernel's taps never overlap (Uformer's k 2, stride 2). */
  k: number;
  bias?: boolean;
  init?: LayerInit;
}

/**
 * `nn.ConvTranspose2d(Cin, out, k, stride=k)` on an NCHW map: each input pixel writes its own k×k block,
 * y[o, k·i + a, k·j + b] = Σ_c x[c, i, j] · W[c, o, a, b] + bias[o]. That is exactly a 1×1 conv to out·k² channels
 * (channel o·k² + a·k + b holding W[:, o, a, b]) followed by pixel_shuffle(k). Creates `<name>.weight`
 * [Cin, out, k, k] (PyTorch's layout, so state dicts load by name) and `<name>.bias` [out]. PyTorch's init reads the
 * fan-in off the weight's dim 1: U(±1/√(out·k²)) for both.
 */
export function convTranspose(b: GraphBuilder, x: Node, name: string, o: ConvTransposeOptions): Node {
  const cin = x.shape[1] ?? 0;
  const { out, k } = o;
  assert(x.shape.length === 4 && k >= 1 && out >= 1, () => `conv_transpose '${name}' of [${x.shape}]`, x);
  const draws = layerInitDraws(o.init ?? "pytorch", out * k * k);
  const w = b.param(`${name}.weight`, [cin, out, k, k], draws.weight);
  // (Cin, out, k, k) -> (out, k, k, Cin) -> (out·k², Cin, 1, 1): pixel_shuffle's channel order o·k² + a·k + b.
  const w1 = b.reshape(b.permute(w, [1, 2, 3, 0]), [out * k * k, cin, 1, 1]);
  const y = b.pixelShuffle(b.convolve(x, w1), k);
  if (!(o.bias ?? true)) return y;
  const bias = b.param(`${name}.bias`, [out], draws.bias);
  return b.add(y, b.reshape(bias, [1, out, 1, 1]));
}

/**
 * Uformer's modulator (`nn.Embedding(window², C)`, N(0, 1) init): a learned vector per position in a window, added
 * to every window of tokens (B, H, W, C) after the cyclic shift and partition, before the window attention. Added
 * before the attention's own roll instead, it is the table tiled over the map and rolled by +shift (the attention
 * rolls it back by −shift), so the same attention layer follows unchanged. Creates `<name>.weight` [window², C].
 */
export function windowEmbed(b: GraphBuilder, x: Node, name: string, o: { window: number; shift: number }): Node {
  const [, h, w, c] = x.shape as [number, number, number, number];
  const ws = o.window;
  assert(x.shape.length === 4 && h % ws === 0 && w % ws === 0, () => `window_embed ${ws} of [${x.shape}]`, x);
  const table = b.param(`${name}.weight`, [ws * ws, c], { kind: "normal", std: 1 });
  const tiled = b.reshape(b.expand(b.reshape(table, [1, 1, ws, 1, ws, c]), [1, h / ws, ws, w / ws, ws, c]), [
    1,
    h,
    w,
    c,
  ]);
  return b.add(x, b.roll(tiled, [o.shift, o.shift], [1, 2]));
}
