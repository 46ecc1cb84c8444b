// Golden WGSL and IR: a refactor of codegen or fusion shows up as a diff of these files (update them with
// `npx vitest run -u` after checking the diff). Also checks that codegen is deterministic.
import { describe, expect, it } from "vitest";
import { grad } from "../../compiler/autodiff/grad.js";
import { buildTrainStep } from "../../compiler/autodiff/optim.js";
import { GraphBuilder } from "../../compiler/ir/builder.js";
import type { Node } from "../../compiler/ir/node.js";
import { compileProgram } from "../../compiler/passes/pipeline.js";
import type { Plan } from "../../compiler/plan/plan.js";
import { buildSRResNet } from "../reference/srresnet.js";

function dump(plan: Plan): string {
  return plan.kernels
    .map((k) => `// ---- ${k.name} key=${k.key} workgroups=${k.workgroups.join("x")}\n${k.wgsl}\n`)
    .join("\n");
}

function convBlock() {
  const b = new GraphBuilder({ seed: 1 });
  const x = b.input("x", [1, 4, 6, 8]); // W % 4 == 0: conv takes the row form, the reflect-padded conv2 the tiled GEMM
  const h = b.leakyRelu(b.conv2d(x, "conv", { out: 8, k: 3, pad: 1 }), 0.1);
  const y = b.add(b.conv2d(h, "conv2", { out: 4, k: 3, pad: 1, padMode: "reflect" }), x);
  return { b, y };
}

describe("generated WGSL", () => {
  it("fuses bias, activation and residual into the conv epilogue (snapshot)", async () => {
    const { b, y } = convBlock();
    const plan = compileProgram({ g: b.g, outputs: new Map([["y", y]]), updates: [] });
    expect(plan.kernels.map((k) => k.name)).toEqual(["conv2d_0", "pad_1", "conv2d_2"]);
    await expect(`${b.g.print()}\n`).toMatchFileSnapshot("__snapshots__/conv-block.ir.txt");
    await expect(dump(plan)).toMatchFileSnapshot("__snapshots__/conv-block.wgsl");
  });

  it("renders a train step deterministically (snapshot of the kernel list)", async () => {
    const make = () => {
      const { b, out } = buildSRResNet({ feat: 4, blocks: 1, prompt: "adaptive", batch: 1, height: 12, width: 12 });
      const loss = b.l1Loss(out, b.input("gt", out.shape));
      const opt = { kind: "adam", betas: [0.9, 0.99], eps: 1e-8, weightDecay: 0 } as const;
      return compileProgram(buildTrainStep(b, loss, { optimizer: opt, ema: 0.999 }));
    };
    const a = make();
    const c = make();
    expect(dump(a)).toEqual(dump(c));
    const list = a.kernels.map((k) => `${k.name} ${k.key} ${k.workgroups.join("x")}`).join("\n");
    await expect(`${list}\npeak bytes ${a.peakBytes} (unplanned ${a.unplannedBytes})\n`).toMatchFileSnapshot(
      "__snapshots__/srresnet-ap-train-step.kernels.txt",
    );
  });

  it("gives a depthwise conv on vec4 rows its row kernels under the default schedule, gathers under the others", () => {
    const b = new GraphBuilder();
    const [x, w] = [b.input("x", [2, 3, 8, 16]), b.input("w", [3, 1, 3, 3])];
    const y = b.convolve(x, w, 1, 1, 3);
    const [dx, dw] = grad(b, b.sum(b.mul(y, b.input("cot", y.shape)), [0, 1, 2, 3], false), [x, w]);
    const outputs = new Map([
      ["y", y],
      ["dx", dx as Node],
      ["dw", dw as Node],
    ]);
    const grouped = (conv: "rows" | "direct") =>
      compileProgram({ g: b.g, outputs, updates: [] }, { schedule: { conv } }).kernels.filter((k) =>
        k.name.startsWith("conv2d_grouped"),
      );
    const rows = grouped("rows");
    expect(rows.map((k) => k.name.replace(/_\d+$/, ""))).toEqual([
      "conv2d_grouped",
      "conv2d_grouped_bwd_x",
      "conv2d_grouped_bwd_w",
    ]);
    for (const k of rows) expect(k.wgsl).toContain("var<storage, read> in0: array<vec4<f32>>;");
    expect(rows[2]?.workgroups).toEqual([3, 1, 1]); // a workgroup per channel
    for (const k of grouped("direct")) expect(k.wgsl).not.toContain("vec4");
  });

  it("reads a transpose in place when only matmuls read it; t(t(x)) is x; a transpose read by anything else is a kernel", () => {
    const b = new GraphBuilder();
    const [a, w, x] = [b.input("a", [6, 4]), b.input("w", [5, 4]), b.input("x", [2, 3, 8, 4])];
    const y = b.matmul(a, b.t(w)); // a linear: wᵀ is a view of w
    const z = b.matmul(b.t(b.t(y)), b.t(b.input("v", [7, 5]))); // t(t(y)) is y itself
    const q = b.matmul(x, b.t(x)); // batched, per-window q·kᵀ
    const kept = b.scale(b.t(a), 2); // an elementwise reader: the transpose is computed
    const outputs = new Map([
      ["z", z],
      ["q", q],
      ["kept", kept],
    ]);
    const plan = compileProgram({ g: b.g, outputs, updates: [] });
    expect(plan.kernels.map((k) => k.name.replace(/_\d+$/, ""))).toEqual(["matmul", "matmul", "matmul", "permute"]);
    const [linear, second, attn] = plan.kernels;
    // A read swapped: w[n, k] at n·K + k for B = wᵀ; vᵀ likewise; x's second operand per product.
    expect(linear?.wgsl).toContain("return in1[n * 4 + k];");
    expect(second?.wgsl).toContain("return in0[m * 5 + k];"); // y read as itself
    expect(second?.wgsl).toContain("return in1[n * 5 + k];");
    expect(attn?.wgsl).toContain("return in1[bz * 32 + n * 4 + k];");
    // Unfused, every transpose is its own kernel (the reference schedule the device tests compare with).
    const unfused = compileProgram({ g: b.g, outputs, updates: [] }, { fuse: false });
    expect(unfused.kernels.filter((k) => k.name.startsWith("permute")).length).toBe(6);
  });
});
