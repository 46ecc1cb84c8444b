// The prompt site's modulation: the .mio lowering owns it, and the reference SRResNet construction reuses it so both
// name and build the scale/shift layers the same way.
import type { GraphBuilder } from "../ir/builder.js";
import type { Node } from "../ir/node.js";

/**
 * Residual modulation `feat * (1 + s) + t`, with s, t = Linear(nf, C)(prompt) per channel: over a map's positions
 * (B, C, H, W), over channels-last tokens (B, H, W, C) on their last axis, or a vector (B, C) channel by channel (a
 * site after `mean`).
 */
export function modulate(b: GraphBuilder, feat: Node, prompt: Node, site: number, channelsLast = false): Node {
  const c = feat.shape[channelsLast ? feat.shape.length - 1 : 1] ?? 0;
  const bsz = feat.shape[0] ?? 0;
  const perChannel = channelsLast ? [bsz, 1, 1, c] : feat.shape.length === 4 ? [bsz, c, 1, 1] : [bsz, c];
  const s = b.reshape(b.linear(prompt, `scale_fc.${site}`, c), perChannel);
  const t = b.reshape(b.linear(prompt, `shift_fc.${site}`, c), perChannel);
  return b.add(b.mul(feat, b.affine(s, 1, 1)), t);
}
