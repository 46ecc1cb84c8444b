// Compiling for this adapter, and whether the plan fits it, checked before anything is allocated: a kernel that
// needs more bindings than the adapter gives once large tensors are split, a buffer over `maxBufferSize`, or buffers
// over the memory there is, become the user's error (exit 2) naming what is too big, the limit and what to lower.
import os from "node:os";
import { type CompileOptions, compileProgram } from "../../compiler/passes/pipeline.js";
import type { Program } from "../../compiler/passes/program.js";
import { type Plan, PlanLimitError, showBytes } from "../../compiler/plan/plan.js";
import { MioInputError } from "../errors.js";
import type { Gpu } from "../webgpu/device.js";

/** A plan too large for this adapter: what it is for, what is too big, and what to lower. */
export class AdapterLimitError extends MioInputError {}

/** What a plan is for, in words ("a batch of 16 crops of 128×128"), and how to make it smaller ("lower crop or batch"). */
export interface PlanPurpose {
  what: string;
  hint: string;
}

/**
 * The bytes all buffers may take: a software adapter (lavapipe) allocates host memory, so three quarters of it;
 * WebGPU tells nothing of a GPU's memory, so there Dawn's out-of-memory error (a GpuError) is the limit.
 */
export function memoryBudget(gpu: Gpu): number | undefined {
  return gpu.report.isFallbackAdapter ? Math.floor(0.75 * os.totalmem()) : undefined;
}

/** Whether `plan` fits `gpu`, before anything is allocated; throws an AdapterLimitError naming what does not. */
export function checkFits(plan: Plan, gpu: Gpu, purpose: PlanPurpose): void {
  const { maxBufferSize } = gpu.device.limits;
  const largest = plan.buffers.reduce(
    (a, b) => (b.bytes > a.bytes ? b : a),
    plan.buffers[0] ?? { bytes: 0, label: "" },
  );
  if (largest.bytes > maxBufferSize) {
    throw new AdapterLimitError(
      `${purpose.what} needs a ${showBytes(largest.bytes)} buffer ('${largest.label}'); this adapter allows ` +
        `${showBytes(maxBufferSize)} per buffer`,
      purpose.hint,
    );
  }
  const budget = memoryBudget(gpu);
  if (budget !== undefined && plan.peakBytes > budget) {
    throw new AdapterLimitError(
      `${purpose.what} needs ${showBytes(plan.peakBytes)} of buffers; this adapter (${gpu.report.description}, ` +
        `a software adapter using host memory) has about ${showBytes(budget)}`,
      purpose.hint,
    );
  }
}

/**
 * Compiles a program within this device's limits (bindings per kernel, bytes per binding) and checks that the plan
 * fits it (`checkFits`): a plan this returns can be allocated.
 */
export function compileForDevice(gpu: Gpu, program: Program, purpose: PlanPurpose, opts: CompileOptions = {}): Plan {
  let plan: Plan;
  try {
    plan = compileProgram(program, {
      maxBindings: gpu.device.limits.maxStorageBuffersPerShaderStage,
      maxBindingBytes: gpu.device.limits.maxStorageBufferBindingSize,
      ...opts,
    });
  } catch (e) {
    if (!(e instanceof PlanLimitError)) throw e;
    throw new AdapterLimitError(`${purpose.what} does not fit this adapter: ${e.message}`, purpose.hint);
  }
  checkFits(plan, gpu, purpose);
  return plan;
}
