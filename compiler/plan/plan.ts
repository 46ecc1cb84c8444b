// A compiled plan: everything the executor needs to run one step with one queue.submit, as plain data.
// It has no GPU objects in it, so it is printable, hashable and testable without a device.
import type { Shape } from "../ir/node.js";
import type { InputRole } from "../ir/tensor-ops.js";

/** A GPU buffer of f32 values. Inputs and fetched outputs have fixed homes; temporaries share buffers. */
export interface PlanBuffer {
  readonly id: number;
  readonly bytes: number;
  /** `input`: written by the host (data, params, state, scalars); `temp`: planned from liveness. */
  readonly kind: "input" | "temp";
  readonly label: string;
}

/** Where a tensor lives: a buffer and an element offset into it. */
export interface TensorRef {
  readonly buffer: number;
  readonly shape: Shape;
}

/** One compute dispatch. `bindings` are buffer ids in binding order; the WGSL declares exactly these. */
export interface PlanKernel {
  readonly name: string;
  /** Hash of the WGSL source, which is a pure function of (ops, attrs, shapes, schedule). */
  readonly key: string;
  readonly wgsl: string;
  readonly bindings: readonly number[];
  /** For each binding, whether the kernel writes it. */
  readonly writes: readonly boolean[];
  readonly workgroups: readonly [number, number, number];
  /** Floating-point operations, for reporting speed: 2 per multiply-add (GEMM kernels), 1 per element (others). */
  readonly flops: number;
  /** For bindings of a tensor larger than one binding may be: the byte range bound; absent means whole buffer. */
  readonly ranges?: readonly (BindingRange | undefined)[];
}

/** A byte range of a buffer bound to one binding (see passes/split-bindings.ts). */
export interface BindingRange {
  readonly offset: number;
  readonly size: number;
}

/** A copy at the end of the step: `value` becomes the new content of an input (parameter, state). */
export interface PlanUpdate {
  readonly from: number;
  readonly to: number;
  readonly bytes: number;
  readonly name: string;
}

export interface PlanInput extends TensorRef {
  readonly role: InputRole;
}

export interface Plan {
  readonly buffers: readonly PlanBuffer[];
  readonly inputs: Readonly<Record<string, PlanInput>>;
  readonly outputs: Readonly<Record<string, TensorRef>>;
  readonly kernels: readonly PlanKernel[];
  readonly updates: readonly PlanUpdate[];
  /** Bytes of all buffers together: the step's peak device memory for tensors. */
  readonly peakBytes: number;
  /** What the same tensors would take without buffer reuse. */
  readonly unplannedBytes: number;
}

/** FLOPs of one run of the plan (every kernel once): what a step's GFLOP/s is counted from. */
export function stepFlops(plan: Plan): number {
  return plan.kernels.reduce((sum, k) => sum + k.flops, 0);
}

/** Bytes for messages about buffers: `64 KiB`, `128 MiB`, `1.2 GiB` (rounded up). */
export function showBytes(bytes: number): string {
  if (bytes < 2 ** 20) return `${Math.ceil(bytes / 2 ** 10)} KiB`;
  if (bytes < 2 ** 30) return `${Math.ceil(bytes / 2 ** 20)} MiB`;
  return `${Number((bytes / 2 ** 30).toPrecision(3))} GiB`;
}

/**
 * A program whose plan cannot fit the limits it is compiled for: a kernel that needs more storage buffers than a
 * kernel may bind once its large tensors are split into ranges, or a tensor with more elements than kernels index.
 * The input's size and the batch decide this, so callers turn it into the user's error (runtime/exec/fit.ts).
 */
export class PlanLimitError extends Error {
  constructor(
    message: string,
    /** Bytes of the largest tensor involved. */
    readonly bytes: number,
  ) {
    super(message);
    this.name = "PlanLimitError";
  }
}
