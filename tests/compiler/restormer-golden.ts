// The Restormer fixture of scripts/fixtures/restormer_ops_golden.py and the block it checks, shared by the CPU
// reference's test (restormer-ops.test.ts) and the device's (tests/runtime/exec/restormer-block-golden.test.ts).
import { readFileSync } from "node:fs";
import type { GraphBuilder } from "../../compiler/ir/builder.js";
import type { Node } from "../../compiler/ir/node.js";

export const RESTORMER_OPS_FIXTURE = "tests/fixtures/compiler/restormer-ops.json";

export interface RestormerBlockGolden {
  norm: "WithBias" | "BiasFree";
  bias: boolean;
  x: number[];
  params: Record<string, number[]>;
  shapes: Record<string, number[]>;
  y: number[];
  cot: number[];
  grad_x: number[];
  grad_params: Record<string, number[]>;
}

export interface RestormerBlockFixture {
  batch: number;
  dim: number;
  height: number;
  width: number;
  heads: number;
  ffn: number;
  hidden: number;
  blocks: RestormerBlockGolden[];
}

export const readRestormerOps = (): unknown => JSON.parse(readFileSync(RESTORMER_OPS_FIXTURE, "utf8"));

/**
 * Restormer's TransformerBlock as the fixture's PyTorch module: x + mdta(norm1(x)), then + gdfn(norm2(.)), with the
 * norm over the channels of the map (WithBias, or BiasFree: not centred and no bias).
 */
export function restormerBlock(
  b: GraphBuilder,
  f: RestormerBlockFixture,
  g: RestormerBlockGolden,
): { x: Node; y: Node } {
  const x = b.input("x", [f.batch, f.dim, f.height, f.width]);
  const withBias = g.norm === "WithBias";
  const norm = (t: Node, name: string) => b.layerNorm(t, name, { axis: 1, bias: withBias, center: withBias });
  const t = b.add(x, b.mdta(norm(x, "norm1.body"), "attn", { heads: f.heads, bias: g.bias }));
  const y = b.add(t, b.gdfn(norm(t, "norm2.body"), "ffn", { ffn: f.ffn, bias: g.bias }));
  return { x, y };
}
