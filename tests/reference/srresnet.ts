// Test references, not product code: MiOIR's SRResNet (BasicSR's MSRResNet at upscale 1, and SRResNet_EP / _AP) and
// its task classifier written directly against the graph builder, as the reference's Python defines them
// (docs/training.md). The product's only model definitions are the .mio sources (stdlib/); tests pin their lowering
// to these constructions (tests/compiler/frontend/lower.test.ts) and these to PyTorch (srresnet-golden.test.ts).
//
// Parameter names (PyTorch state-dict names):
//   conv_first.{weight,bias}, body.<i>.conv1/conv2.{weight,bias}, conv_hr.*, conv_last.*       (BasicSR MSRResNet)
//   prompt_extractor.{1,4,7}.{weight,bias}    F_ext as nn.Sequential(ZeroPad2d(1), Conv2d(Cp, nf, 7, 2), ReLU,
//                                              ZeroPad2d(1), Conv2d(nf, nf, 3, 2), ReLU, ZeroPad2d(1),
//                                              Conv2d(nf, nf, 3, 2), ReLU): the convs sit at indices 1, 4, 7
//   scale_fc.<s>.{weight,bias}, shift_fc.<s>.{weight,bias}   nn.ModuleList of Linear(nf, C) per injection site s:
//                                              s = 0..blocks-1 after body.<s>, s = blocks after conv_hr + LReLU,
//                                              s = blocks+1 on conv_last's 3-channel output
import { GraphBuilder, type LayerInit } from "../../compiler/ir/builder.js";
import { assert, type Node } from "../../compiler/ir/node.js";
import { modulate } from "../../compiler/lower/modulate.js";

export type PromptKind = "none" | "explicit" | "adaptive";

export interface SRResNetConfig {
  /** Feature channels (BasicSR num_feat; 64 in the paper). */
  feat: number;
  /** Residual blocks (num_block; 16 in the paper). */
  blocks: number;
  prompt: PromptKind;
}

/** The outputs of an SRResNet construction. */
export interface SRResNet {
  readonly out: Node;
  /** The prompt vector (B, feat) after F_ext and the global mean, when prompted. */
  readonly promptVector?: Node;
}

/** F_ext: three strided convs with ReLU and a global spatial mean, giving a (B, nf) vector. */
export function promptExtractor(b: GraphBuilder, p: Node, nf: number): Node {
  let h = b.relu(b.conv2d(p, "prompt_extractor.1", { out: nf, k: 7, stride: 2, pad: 1 }));
  h = b.relu(b.conv2d(h, "prompt_extractor.4", { out: nf, k: 3, stride: 2, pad: 1 }));
  h = b.relu(b.conv2d(h, "prompt_extractor.7", { out: nf, k: 3, stride: 2, pad: 1 }));
  return b.globalMean(h);
}

/**
 * Builds SRResNet on `x` (B, 3, H, W). With a prompt, `promptInput` is the EP map (B, 1, h, w) or, for AP, it may
 * be omitted (the LQ image itself is the prompt).
 * @example
 * const b = new GraphBuilder({ seed: 0 });
 * const lq = b.input("lq", [2, 3, 24, 24]);
 * const { out } = srresnet(b, lq, { feat: 16, blocks: 4, prompt: "adaptive" });
 */
export function srresnet(b: GraphBuilder, x: Node, cfg: SRResNetConfig, promptInput?: Node): SRResNet {
  assert(x.shape.length === 4 && x.shape[1] === 3, () => `SRResNet expects (B, 3, H, W), got [${x.shape}]`);
  const prompted = cfg.prompt !== "none";
  // Plain MSRResNet scales conv_first/conv_hr/conv_last by 0.1 (default_init_weights); EP/AP skip that.
  const outer: LayerInit = prompted ? "pytorch" : "kaiming0.1";
  let pv: Node | undefined;
  if (prompted) {
    const p = cfg.prompt === "adaptive" ? (promptInput ?? x) : promptInput;
    assert(p !== undefined, () => "an explicit prompt needs the (B, 1, h, w) prompt map as input");
    pv = promptExtractor(b, p, cfg.feat);
  }
  const conv3 = (h: Node, name: string, out: number, init: LayerInit) =>
    b.conv2d(h, name, { out, k: 3, stride: 1, pad: 1, init });

  let feat = b.leakyRelu(conv3(x, "conv_first", cfg.feat, outer), 0.1);
  for (let i = 0; i < cfg.blocks; i++) {
    const r = conv3(
      b.relu(conv3(feat, `body.${i}.conv1`, cfg.feat, "kaiming0.1")),
      `body.${i}.conv2`,
      cfg.feat,
      "kaiming0.1",
    );
    feat = b.add(feat, r);
    if (pv) feat = modulate(b, feat, pv, i);
  }
  let h = b.leakyRelu(conv3(feat, "conv_hr", cfg.feat, outer), 0.1);
  if (pv) h = modulate(b, h, pv, cfg.blocks);
  let out = conv3(h, "conv_last", 3, outer);
  if (pv) out = modulate(b, out, pv, cfg.blocks + 1);
  // BasicSR adds F.interpolate(x, scale_factor=1, mode="bilinear"), which is x itself at upscale 1.
  return { out: b.add(out, x), ...(pv ? { promptVector: pv } : {}) };
}

/**
 * MiOIR's task classifier: Conv(3→w, k3, s3) LReLU(0.1) → Conv(w→w, k3, s3) LReLU → 1×1 w LReLU →
 * 1×1 w LReLU → 1×1 32 → global mean → Linear(32→7) → softmax. 188,551 parameters at w = 128.
 * Names: features.{0,2,4,6,8}.{weight,bias} (an nn.Sequential with the LReLUs between) and fc.{weight,bias}.
 * NOTE: the convs have no padding (k3 s3 tiles the image exactly); the original code was not available to confirm.
 */
export function classifier(b: GraphBuilder, x: Node, width = 128, classes = 7): Node {
  let h = b.leakyRelu(b.conv2d(x, "features.0", { out: width, k: 3, stride: 3 }), 0.1);
  h = b.leakyRelu(b.conv2d(h, "features.2", { out: width, k: 3, stride: 3 }), 0.1);
  h = b.leakyRelu(b.conv2d(h, "features.4", { out: width, k: 1 }), 0.1);
  h = b.leakyRelu(b.conv2d(h, "features.6", { out: width, k: 1 }), 0.1);
  h = b.conv2d(h, "features.8", { out: 32, k: 1 });
  return b.softmax(b.linear(b.globalMean(h), "fc", classes), 1);
}

export interface SRResNetGraphConfig extends SRResNetConfig {
  batch: number;
  height: number;
  width: number;
  /** Side of the EP prompt map (128 in MiOIR). */
  promptSize?: number;
  seed?: number;
}

/**
 * A builder holding SRResNet on an input named `lq` (and `prompt` for EP): the reference construction tests and
 * benchmarks use.
 * @example const { b, out } = buildSRResNet({ feat: 16, blocks: 4, prompt: "none", batch: 2, height: 24, width: 24 });
 */
export function buildSRResNet(cfg: SRResNetGraphConfig): { b: GraphBuilder; lq: Node; prompt?: Node; out: Node } {
  const b = new GraphBuilder({ seed: cfg.seed ?? 0 });
  const lq = b.input("lq", [cfg.batch, 3, cfg.height, cfg.width]);
  const ps = cfg.promptSize ?? 128;
  const prompt = cfg.prompt === "explicit" ? b.input("prompt", [cfg.batch, 1, ps, ps]) : undefined;
  const { out } = srresnet(b, lq, cfg, prompt);
  return { b, lq, out, ...(prompt ? { prompt } : {}) };
}

/** A builder holding the classifier on an input named `lq`; `probs` is (B, classes). */
export function buildClassifier(cfg: { batch: number; size: number; width?: number; seed?: number }) {
  const b = new GraphBuilder({ seed: cfg.seed ?? 0 });
  const lq = b.input("lq", [cfg.batch, 3, cfg.size, cfg.size]);
  return { b, lq, probs: classifier(b, lq, cfg.width ?? 128) };
}
