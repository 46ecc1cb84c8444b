import { describe, expect, it } from "vitest";
import { GraphBuilder } from "../../compiler/ir/builder.js";
import { interpret } from "../../compiler/ir/interp.js";
import { OPS } from "../../compiler/ir/ops.js";
import { gradcheck, relErr } from "./helpers.js";
import { buildCase, OP_CASES } from "./op-cases.js";

describe("op CPU reference and gradients", () => {
  it("covers every op in the registry", () => {
    const seen = new Set<string>();
    for (const c of OP_CASES) {
      const { b } = buildCase(c);
      for (const n of b.g.nodes) seen.add(n.op);
      // Backward graphs use the adjoint ops too.
      const { b: b2, y, wrt, values } = buildCase(c);
      gradcheckOnly(b2, y, wrt, values);
      for (const n of b2.g.nodes) seen.add(n.op);
    }
    expect(OPS.filter((op) => !seen.has(op))).toEqual([]);
  });

  it.each(OP_CASES.map((c) => [c.name, c] as const))("%s: autodiff matches central finite differences", (_, c) => {
    const { b, y, wrt, values } = buildCase(c);
    const { analytic, numeric } = gradcheck(b, y, wrt, values);
    for (let i = 0; i < wrt.length; i++) {
      expect(relErr(analytic[i] ?? [], numeric[i] ?? [])).toBeLessThan(1e-6);
    }
  });

  it("computes obvious values by hand", () => {
    const b = new GraphBuilder();
    const x = b.input("x", [1, 1, 2, 2]);
    const pads = b.pad(x, [1, 0, 1, 0], "reflect");
    const sm = b.softmax(b.reshape(x, [1, 4]), 1);
    const up = b.resize(x, [4, 4]);
    const w = b.input("w", [1, 1, 2, 2]);
    const conv = b.convolve(x, w, 1, 0);
    const [p, s, u, c] = interpret([pads, sm, up, conv], { x: [1, 2, 3, 4], w: [1, 10, 100, 1000] });
    // reflect: row -1 mirrors row 1, column -1 mirrors column 1
    expect([...(p ?? [])]).toEqual([4, 3, 4, 2, 1, 2, 4, 3, 4]);
    const z = Math.exp(1) + Math.exp(2) + Math.exp(3) + Math.exp(4);
    expect(s?.[3]).toBeCloseTo(Math.exp(4) / z, 12);
    // PyTorch bilinear x2, align_corners=False: first row is [1, 1.25, 1.75, 2]
    expect([...(u ?? [])].slice(0, 4)).toEqual([1, 1.25, 1.75, 2]);
    expect([...(c ?? [])]).toEqual([1 + 20 + 300 + 4000]);
  });
});

function gradcheckOnly(...args: Parameters<typeof gradcheck>) {
  return gradcheck(...args);
}
