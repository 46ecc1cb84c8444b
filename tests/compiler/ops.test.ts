import { describe, expect, it } from "vitest";
import { GraphBuilder } from "../../compiler/ir/builder.js";
import { erf } from "../../compiler/ir/erf.js";
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

  it("rolls, selects, counts and draws by hand", () => {
    const b = new GraphBuilder();
    const x = b.input("x", [5]);
    const table = b.input("table", [3, 2]);
    const index = b.input("index", [3]);
    const picked = b.indexSelect(table, index, 0);
    const [rolled, iota, sel, back] = interpret(
      [b.roll(x, [2], [0]), b.iota([2, 3], 1), picked, b.indexSelectBwd(picked, index, 0, 3)],
      { x: [1, 2, 3, 4, 5], table: [1, 2, 3, 4, 5, 6], index: [2, 0, 2] },
    );
    expect([...(rolled ?? [])]).toEqual([4, 5, 1, 2, 3]); // torch.roll(arange(1, 6), 2)
    expect([...(iota ?? [])]).toEqual([0, 1, 2, 0, 1, 2]);
    expect([...(sel ?? [])]).toEqual([5, 6, 1, 2, 5, 6]);
    expect([...(back ?? [])]).toEqual([1, 2, 0, 0, 10, 12]); // row 2 was read twice
    expect(erf(0.5)).toBeCloseTo(0.5204998778130465, 15);
    expect(erf(-3)).toBeCloseTo(-0.9999779095030014, 15);
  });

  it("rand: reproducible per (seed, counter), fresh per counter, uniform; drop_path keeps 1 - p of the samples", () => {
    const b = new GraphBuilder();
    const step = b.input("step", [1]);
    const u = b.rand(step, [4000], 7);
    const [u1, u1again, u2, other] = [
      ...interpret([u], { step: [1] }),
      ...interpret([u], { step: [1] }),
      ...interpret([u, b.rand(step, [4000], 8)], { step: [2] }),
    ];
    expect(u1).toEqual(u1again);
    expect(u1).not.toEqual(u2);
    expect(u2).not.toEqual(other);
    const mean = (v: ArrayLike<number>) => Array.from(v).reduce((s, a) => s + a, 0) / v.length;
    expect(Math.min(...(u1 ?? []))).toBeGreaterThanOrEqual(0);
    expect(Math.max(...(u1 ?? []))).toBeLessThan(1);
    expect(mean(u1 ?? [])).toBeCloseTo(0.5, 1);
    // 4000 samples of 2 values each: a kept sample is x / 0.9, a dropped one 0.
    const x = b.input("x", [4000, 2]);
    const [y] = interpret([b.dropPath(x, 0.1, step, 3)], { x: new Float64Array(8000).fill(1), step: [5] });
    const kept = Array.from(y ?? []).filter((v) => v !== 0);
    expect(new Set(kept)).toEqual(new Set([1 / 0.9]));
    expect(kept.length / 8000).toBeGreaterThan(0.88);
    expect(kept.length / 8000).toBeLessThan(0.92);
    expect(b.dropPath(x, 0, step, 3)).toBe(x);
  });
});

function gradcheckOnly(...args: Parameters<typeof gradcheck>) {
  return gradcheck(...args);
}
