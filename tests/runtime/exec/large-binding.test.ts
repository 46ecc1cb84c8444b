// A tensor over the device's 128 MiB binding limit: the plan binds it as ranges of one buffer, and the kernel's
// values on both sides of the range boundary are right.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GraphBuilder } from "../../../compiler/ir/builder.js";
import { compileProgram } from "../../../compiler/passes/pipeline.js";
import { Executor } from "../../../runtime/exec/executor.js";
import { acquireGpu, type Gpu } from "../../../runtime/webgpu/device.js";

let gpu: Gpu;
beforeAll(async () => {
  gpu = await acquireGpu();
});
afterAll(() => gpu?.destroy());

describe("bindings larger than the device limit", () => {
  it("an elementwise kernel over a 137 MB tensor matches the CPU at and around every range boundary", async () => {
    const limit = gpu.device.limits.maxStorageBufferBindingSize;
    const shape = [1, 2, 4096, Math.ceil(limit / (4 * 2 * 4096)) + 8];
    const n = shape.reduce((a, b) => a * b, 1);
    expect(4 * n).toBeGreaterThan(limit);
    const b = new GraphBuilder();
    const x = b.input("x", shape);
    const bias = b.input("bias", [1, 2, 1, 1]);
    const y = b.relu(b.add(x, bias));
    const plan = compileProgram(
      { g: b.g, outputs: new Map([["y", y]]), updates: [] },
      { maxBindingBytes: limit, maxBindings: gpu.device.limits.maxStorageBuffersPerShaderStage },
    );
    expect(plan.kernels.some((k) => k.ranges)).toBe(true);
    const exe = await Executor.create(gpu, plan);
    try {
      const xs = new Float32Array(n);
      for (let i = 0; i < n; i++) xs[i] = ((i * 7919) % 1000) / 500 - 1;
      exe.write("x", xs);
      exe.write("bias", [0.25, -0.5]);
      const got = (await exe.run(["y"])).y ?? new Float32Array();
      const half = n / 2;
      const boundary = Math.floor(limit / 4);
      const probes = [0, 1, boundary - 2, boundary - 1, boundary, boundary + 1, half - 1, half, n - 2, n - 1];
      for (let k = 0; k < 2000; k++) probes.push((k * 104729) % n);
      for (const i of probes) {
        const want = Math.max(0, (xs[i] ?? 0) + (i < half ? 0.25 : -0.5));
        expect(got[i], `element ${i}`).toBeCloseTo(want, 6);
      }
    } finally {
      exe.destroy();
    }
  });
});
