// The Swin layer fixture of scripts/fixtures/swin_ops_golden.py and the layer it checks, shared by the CPU
// reference's test (swin-ops.test.ts) and the device's (tests/runtime/exec/swin-layer-golden.test.ts).
import { readFileSync } from "node:fs";
import type { GraphBuilder } from "../../compiler/ir/builder.js";
import type { Node } from "../../compiler/ir/node.js";

export const SWIN_OPS_FIXTURE = "tests/fixtures/compiler/swin-ops.json";

export interface SwinLayerGolden {
  shift: number;
  x: number[];
  params: Record<string, number[]>;
  y: number[];
  cot: number[];
  grad_x: number[];
  grad_params: Record<string, number[]>;
}

export interface SwinLayerFixture {
  batch: number;
  height: number;
  width: number;
  dim: number;
  heads: number;
  window: number;
  hidden: number;
  layers: SwinLayerGolden[];
}

export const readSwinOps = (): unknown => JSON.parse(readFileSync(SWIN_OPS_FIXTURE, "utf8"));

/**
 * One Swin transformer layer as the fixture's PyTorch module: x + attn(norm1(x)), then + mlp(norm2(.)), on
 * channels-last tokens (B, H, W, C), the reference's (B, H·W, C) in the same memory.
 */
export function swinLayer(b: GraphBuilder, f: SwinLayerFixture, shift: number): { x: Node; y: Node } {
  const x = b.input("x", [f.batch, f.height, f.width, f.dim]);
  const t = b.add(x, b.windowAttention(b.layerNorm(x, "norm1"), "attn", { heads: f.heads, window: f.window, shift }));
  const y = b.add(t, b.mlp(b.layerNorm(t, "norm2"), "mlp", f.hidden));
  return { x, y };
}
