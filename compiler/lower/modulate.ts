// The prompt site's modulation: the .mio lowering owns it, and the reference SRResNet construction reuses it so both
// name and build the scale/shift layers the same way.
import type { GraphBuilder, LayerInit } from "../ir/builder.js";
import type { Node } from "../ir/node.js";

/** The names (parameter prefixes) of a site's two linear layers and their init (nn.Linear's default if absent). */
export interface SiteLayerNames {
  scale: string;
  shift: string;
  init?: LayerInit;
}

/**
 * Residual modulation `feat * (1 + s) + t`, with s, t = Linear(nf, C)(prompt) per channel: over a map's positions
 * (B, C, H, W), over channels-last tokens (B, H, W, C) on their last axis, or a vector (B, C) channel by channel (a
 * site after `mean`). `site` names the two layers: a number `i` is SRResNet_EP/AP's `scale_fc.<i>` / `shift_fc.<i>`.
 */
export function modulate(
  b: GraphBuilder,
  feat: Node,
  prompt: Node,
  site: number | SiteLayerNames,
  channelsLast = false,
): Node {
  const names = typeof site === "number" ? { scale: `scale_fc.${site}`, shift: `shift_fc.${site}` } : site;
  const init = { init: names.init ?? "pytorch" } as const;
  const c = feat.shape[channelsLast ? feat.shape.length - 1 : 1] ?? 0;
  const bsz = feat.shape[0] ?? 0;
  const perChannel = channelsLast ? [bsz, 1, 1, c] : feat.shape.length === 4 ? [bsz, c, 1, 1] : [bsz, c];
  const s = b.reshape(b.linear(prompt, names.scale, c, init), perChannel);
  const t = b.reshape(b.linear(prompt, names.shift, c, init), perChannel);
  return b.add(b.mul(feat, b.affine(s, 1, 1)), t);
}
