// One Swin transformer layer (plain and shifted) in float32 on the device against PyTorch float64
// (scripts/fixtures/swin_ops_golden.py): the output and the gradients of the input and of every parameter, from one
// compiled plan of the forward and backward graph. The CPU reference's version is tests/compiler/swin-ops.test.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grad } from "../../../compiler/autodiff/grad.js";
import { GraphBuilder } from "../../../compiler/ir/builder.js";
import type { Node } from "../../../compiler/ir/node.js";
import { compileProgram } from "../../../compiler/passes/pipeline.js";
import { Executor } from "../../../runtime/exec/executor.js";
import { acquireGpu, type Gpu } from "../../../runtime/webgpu/device.js";
import { cotangentLoss, relErr } from "../../compiler/helpers.js";
import { readSwinOps, type SwinLayerFixture, swinLayer } from "../../compiler/swin-golden.js";

const golden = (readSwinOps() as { swin_layer: SwinLayerFixture }).swin_layer;
/** Max error relative to each tensor's largest magnitude (issue 11's bound for parity with PyTorch). */
const TOL = 1e-4;

let gpu: Gpu;
beforeAll(async () => {
  gpu = await acquireGpu();
});
afterAll(() => gpu?.destroy());

describe("Swin transformer layer on the device vs PyTorch", () => {
  it.each(golden.layers.map((l) => [l.shift, l] as const))(
    "shift %i: output and every gradient within 1e-4",
    async (shift, l) => {
      const b = new GraphBuilder();
      const { x, y } = swinLayer(b, golden, shift);
      const params = b.paramList();
      const grads = grad(b, cotangentLoss(b, y, "cot"), [x, ...params.map((p) => p.node)]);
      const outputs = new Map<string, Node>([
        ["out.y", y],
        ["out.grad.x", grads[0] as Node],
      ]);
      params.forEach((p, i) => {
        outputs.set(`out.grad.${p.name}`, grads[i + 1] as Node);
      });
      const plan = compileProgram(
        { g: b.g, outputs, updates: [] },
        { maxBindings: gpu.device.limits.maxStorageBuffersPerShaderStage },
      );
      const exe = await Executor.create(gpu, plan);
      for (const [name, v] of Object.entries({ x: l.x, cot: l.cot, ...l.params })) exe.write(name, v);
      const got = await exe.run([...outputs.keys()]);
      exe.destroy();
      expect(relErr(got["out.y"] ?? [], l.y)).toBeLessThan(TOL);
      expect(relErr(got["out.grad.x"] ?? [], l.grad_x)).toBeLessThan(TOL);
      for (const p of params) {
        expect(relErr(got[`out.grad.${p.name}`] ?? [], l.grad_params[p.name] ?? []), p.name).toBeLessThan(TOL);
      }
    },
  );
});
