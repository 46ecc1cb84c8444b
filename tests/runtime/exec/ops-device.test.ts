// Every op's WGSL kernel (forward and the kernels of its backward graph) against the float64 CPU reference.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grad } from "../../../compiler/autodiff/grad.js";
import { GraphBuilder } from "../../../compiler/ir/builder.js";
import { interpret } from "../../../compiler/ir/interp.js";
import type { Node } from "../../../compiler/ir/node.js";
import { compileProgram } from "../../../compiler/passes/pipeline.js";
import { PlanLimitError } from "../../../compiler/plan/plan.js";
import { DEFAULT_SCHEDULE, type Schedule } from "../../../compiler/wgsl/codegen.js";
import { Executor } from "../../../runtime/exec/executor.js";
import { acquireGpu, type Gpu } from "../../../runtime/webgpu/device.js";
import { cotangentLoss, relErr, uniform } from "../../compiler/helpers.js";
import { buildCase, OP_CASES } from "../../compiler/op-cases.js";

let gpu: Gpu;
beforeAll(async () => {
  gpu = await acquireGpu();
});
afterAll(() => gpu?.destroy());

async function runCase(
  c: (typeof OP_CASES)[number],
  fuse: boolean,
  conv: Schedule["conv"] = DEFAULT_SCHEDULE.conv,
  maxBindingBytes?: number,
) {
  const { b, y, wrt, values } = buildCase(c);
  const loss = cotangentLoss(b, y, "cot");
  const grads = grad(b, loss, wrt);
  // Fetched by name, where an input's name would win: these names are no case's input.
  const outputs = new Map<string, Node>([["out.y", y]]);
  grads.forEach((g, i) => {
    outputs.set(`out.grad${i}`, g);
  });
  const all = {
    ...values,
    cot: uniform(
      7,
      y.shape.reduce((p, d) => p * d, 1),
    ),
  };
  const want = interpret([y, ...grads], all);
  const plan = compileProgram(
    { g: b.g, outputs, updates: [] },
    { fuse, debug: 1, schedule: { conv }, maxBindings: 16, maxBindingBytes },
  );
  const exe = await Executor.create(gpu, plan);
  for (const [name, v] of Object.entries(all)) exe.write(name, Float32Array.from(v));
  const got = await gpu.scoped(`running ${c.name}`, () => exe.run([...outputs.keys()]));
  exe.destroy();
  return { got, want, names: [...outputs.keys()], split: plan.kernels.filter((k) => k.ranges).length };
}

describe("op kernels on the device", () => {
  it("rand draws the CPU reference's values exactly, fresh for each step written to its counter", async () => {
    const b = new GraphBuilder();
    const step = b.input("step", [1], "scalar");
    const u = b.rand(step, [3, 1000], 0xdeadbeef);
    const exe = await Executor.create(gpu, compileProgram({ g: b.g, outputs: new Map([["u", u]]), updates: [] }));
    for (const t of [0, 1, 2 ** 24 - 1]) {
      exe.write("step", [t]);
      const got = await exe.run(["u"]);
      const [want] = interpret([u], { step: [t] });
      expect(Array.from(got.u ?? []), `step ${t}`).toEqual(Array.from(want ?? []));
    }
    exe.destroy();
  });

  // 70,000 products exceed the 65,535 workgroups of one grid dimension: workgroup z strides over the rest.
  it("batched matmul with more products than one grid dimension holds", async () => {
    const b = new GraphBuilder();
    const [x, w] = [b.input("x", [70000, 1, 2]), b.input("w", [70000, 2, 1])];
    const y = b.matmul(x, w);
    const values = { x: uniform(1, 140000), w: uniform(2, 140000) };
    const plan = compileProgram({ g: b.g, outputs: new Map([["y", y]]), updates: [] });
    expect(plan.kernels[0]?.workgroups).toEqual([1, 1, 65535]);
    const exe = await Executor.create(gpu, plan);
    for (const [name, v] of Object.entries(values)) exe.write(name, Float32Array.from(v));
    const got = await exe.run(["y"]);
    exe.destroy();
    const [want] = interpret([y], values);
    expect(relErr(got.y ?? [], want ?? [])).toBeLessThan(2e-5);
  });

  it.each(OP_CASES.map((c) => [c.name, c] as const))("%s: forward and backward match the CPU", async (_, c) => {
    const { got, want, names } = await runCase(c, true);
    names.forEach((name, i) => {
      expect(relErr(got[name] ?? [], want[i] ?? []), name).toBeLessThan(2e-5);
    });
  });

  it.each([
    "conv2d k3 s1 p1",
    "conv2d k3 s1 p1 rows",
    "conv2d k7 s2 p1",
    "conv2d_bwd_x s2",
    "conv2d depthwise rows k3 W16",
    "softmax last axis with a fused member",
  ])(
    "%s: every legal schedule (fused or not; row, direct or tiled convolution) gives the CPU's numbers",
    async (name) => {
      const c = OP_CASES.find((k) => k.name === name);
      if (!c) throw new Error("case missing");
      for (const [fuse, conv] of [
        [false, "rows"],
        [false, "direct"],
        [true, "tiled"],
        [false, "tiled"],
      ] as const) {
        const r = await runCase(c, fuse, conv);
        r.names.forEach((n, i) => {
          expect(relErr(r.got[n] ?? [], r.want[i] ?? []), `${n} fuse=${fuse} conv=${conv}`).toBeLessThan(2e-5);
        });
      }
    },
  );

  // Binding limits of a few hundred bytes force every kernel form through split bindings: feature maps read as
  // vec4s, split-K scratch, gathers, broadcasts and reductions. The limit doubles until the kernels fit 16 bindings.
  it.each([
    "conv2d k3 s1 p1 rows",
    "conv2d_bwd_w s1 rows",
    "conv2d k7 s2 p1",
    "conv2d_bwd_w s2",
    "pad reflect",
    "add broadcast",
    "resize up",
    "permute",
    "sum axes",
    "batched matmul (q @ k^T per window and head)",
    "softmax last axis with a fused member",
    "roll (cyclic shift of shifted windows)",
    "conv2d grouped k3 s2 p1",
  ])("%s: tensors larger than a binding are split into ranges and give the CPU's numbers", async (name) => {
    const c = OP_CASES.find((k) => k.name === name);
    if (!c) throw new Error("case missing");
    for (let limit = 256; ; limit *= 2) {
      let r: Awaited<ReturnType<typeof runCase>>;
      try {
        r = await runCase(c, true, DEFAULT_SCHEDULE.conv, limit);
      } catch (e) {
        if (e instanceof PlanLimitError) continue; // too many ranges for one kernel at this limit: try a larger one
        throw e;
      }
      expect(r.split, `kernels with split bindings at ${limit} bytes`).toBeGreaterThan(0);
      r.names.forEach((n, i) => {
        expect(relErr(r.got[n] ?? [], r.want[i] ?? []), `${n} limit=${limit}`).toBeLessThan(2e-5);
      });
      return;
    }
  });
});
