// A plan too large for the adapter is refused before anything is allocated, as the user's error (exit 2) naming what
// is too big, the adapter's limit and what to lower (issue 15): the kernel that needs too many bindings, a buffer
// over maxBufferSize, buffers over a software adapter's host memory. No GPU is needed: only limits are read.
import { describe, expect, it } from "vitest";
import { GraphBuilder } from "../../../compiler/ir/builder.js";
import type { Program } from "../../../compiler/passes/program.js";
import { AdapterLimitError, compileForDevice, memoryBudget } from "../../../runtime/exec/fit.js";
import type { Gpu } from "../../../runtime/webgpu/device.js";

/** An adapter that has only limits (nothing is allocated through it). */
function adapter(limits: Partial<GPUSupportedLimits>, fallback = false): Gpu {
  const all = {
    maxStorageBuffersPerShaderStage: 8,
    maxStorageBufferBindingSize: 2 ** 27,
    maxBufferSize: 2 ** 28,
    ...limits,
  };
  return {
    device: { limits: all },
    report: { isFallbackAdapter: fallback, description: "test adapter" },
  } as unknown as Gpu;
}

/** `y_i = relu(2x + i)` over a (1, 4, side, side) input: `outputs` fetched tensors of 16·side² bytes each. */
function program(side: number, outputs = 1): Program {
  const b = new GraphBuilder();
  const x = b.input("x", [1, 4, side, side]);
  const ys = Array.from({ length: outputs }, (_, i) => [`y${i}`, b.relu(b.affine(x, 2, i + 1))] as const);
  return { g: b.g, outputs: new Map(ys), updates: [] };
}

const purpose = { what: "training on batches of 4 crops of 512×512", hint: "lower data { crop } or data { batch }" };

function refusal(gpu: Gpu, p: Program): AdapterLimitError {
  try {
    compileForDevice(gpu, p, purpose);
  } catch (e) {
    if (e instanceof AdapterLimitError) return e;
    throw e;
  }
  throw new Error("the plan was not refused");
}

describe("plans against the adapter's limits", () => {
  it("a plan that fits compiles", () => {
    expect(compileForDevice(adapter({}), program(64), purpose).kernels.length).toBeGreaterThan(0);
  });

  it("a kernel that needs more bindings than the adapter gives, once split", () => {
    const e = refusal(adapter({ maxStorageBufferBindingSize: 4096, maxStorageBuffersPerShaderStage: 4 }), program(64));
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(
      /^training on batches of 4 crops of 512×512 does not fit this adapter: kernel \w+ needs \d+ storage buffers once its tensors \(up to 64 KiB\) are split into bindings of 4 KiB, and a kernel may bind 4$/,
    );
    expect(e.hint).toBe("lower data { crop } or data { batch }");
  });

  it("a buffer over maxBufferSize", () => {
    const e = refusal(adapter({ maxBufferSize: 32768 }), program(64));
    expect(e.message).toMatch(
      /^training on batches of 4 crops of 512×512 needs a 64 KiB buffer \('\w+'\); this adapter allows 32 KiB per buffer$/,
    );
  });

  it("buffers over a software adapter's share of host memory", () => {
    const gpu = adapter({ maxBufferSize: 2 ** 52, maxStorageBufferBindingSize: 2 ** 52 }, true);
    const budget = memoryBudget(gpu) ?? 0;
    // Compiled, never allocated: fetched outputs of 4 GiB each (within what a kernel indexes) past the budget.
    const side = 2 ** 14;
    const e = refusal(gpu, program(side, Math.ceil(budget / (16 * side * side)) + 1));
    expect(e.message).toMatch(
      /needs [\d.]+ GiB of buffers; this adapter \(test adapter, a software adapter using host memory\) has about [\d.]+ GiB$/,
    );
  });

  it("a hardware adapter's total is not guessed", () => {
    expect(memoryBudget(adapter({}))).toBeUndefined();
  });
});
