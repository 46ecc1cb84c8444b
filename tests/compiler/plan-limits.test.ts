// A plan against the limits it is compiled for (issue 15): every binding fits `maxBindingBytes` (a small tensor in a
// large shared buffer is bound as its own range, not the whole buffer), and a kernel that would need more bindings
// than allowed once large tensors are split is a PlanLimitError that names it, not a plain Error.
import { describe, expect, it } from "vitest";
import { GraphBuilder } from "../../compiler/ir/builder.js";
import { compileProgram } from "../../compiler/passes/pipeline.js";
import { type Plan, PlanLimitError } from "../../compiler/plan/plan.js";

/** A big tensor that dies, then small ones that reuse its buffer: `x` (big) → mean → `y` (small) chains. */
function bigThenSmall() {
  const b = new GraphBuilder();
  const x = b.input("x", [1, 4, 64, 64]);
  const big = b.relu(b.affine(x, 2, 1));
  const small = b.mean(big, [2, 3], true);
  const y = b.relu(b.affine(b.affine(small, 3, 1), 0.5, 0));
  return { g: b.g, outputs: new Map([["y", y]]), updates: [] };
}

/** Bytes each binding of each kernel covers. */
const bound = (plan: Plan) =>
  plan.kernels.flatMap((k) => k.bindings.map((b, i) => k.ranges?.[i]?.size ?? plan.buffers[b]?.bytes ?? 0));

describe("plans within their binding limits", () => {
  it("binds a small tensor in a large shared buffer as its range", () => {
    const limit = 16384; // the 64 KiB `big` tensor is split; the small ones that reuse its buffer are ranges
    const plan = compileProgram(bigThenSmall(), { maxBindingBytes: limit, maxBindings: 16, fuse: false });
    expect(Math.max(...plan.buffers.map((b) => b.bytes))).toBeGreaterThan(limit);
    expect(Math.max(...bound(plan))).toBeLessThanOrEqual(limit);
  });

  it("without a limit, whole buffers are bound and nothing changes", () => {
    const plan = compileProgram(bigThenSmall(), { fuse: false });
    expect(plan.kernels.every((k) => !k.ranges)).toBe(true);
  });

  it("a kernel that needs more bindings than allowed once split is a PlanLimitError naming it", () => {
    let error: unknown;
    try {
      compileProgram(bigThenSmall(), { maxBindingBytes: 1024, maxBindings: 8, fuse: false });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PlanLimitError);
    expect((error as PlanLimitError).message).toMatch(
      /^kernel \w+ needs \d+ storage buffers once its tensors \(up to 64 KiB\) are split into bindings of 1 KiB, and a kernel may bind 8$/,
    );
    expect((error as PlanLimitError).bytes).toBe(4 * 4 * 64 * 64);
  });
});
