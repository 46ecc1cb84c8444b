// Liveness-based buffer planning. Inputs (data, parameters, optimizer state, step scalars) get fixed homes;
// every other tensor lives from the kernel that writes it to the last kernel that reads it, and tensors whose
// lives do not overlap share a buffer (best fit, growing a free buffer when none is big enough). Fetched outputs
// and update values stay alive to the end of the step.
import { append, assert, type Node, numel } from "../ir/node.js";
import type { InputRole } from "../ir/tensor-ops.js";
import type { Plan, PlanBuffer, PlanInput, PlanKernel, TensorRef } from "../plan/plan.js";
import type { KernelDraft, TensorInfo } from "../wgsl/codegen.js";
import { hashKey, tensorId } from "../wgsl/codegen.js";
import type { Program } from "./program.js";

/**
 * Assigns buffers to the tensors the kernels bind and assembles the plan. A tensor that fits one binding but shares a
 * buffer larger than `maxBindingBytes` is bound as the range it takes (its start), not the whole buffer.
 */
export function planBuffers(
  p: Program,
  kernels: readonly KernelDraft[],
  tensors: ReadonlyMap<string, TensorInfo>,
  tid: (n: Node) => string = tensorId,
  maxBindingBytes = Number.POSITIVE_INFINITY,
): Plan {
  const buffers: PlanBuffer[] = [];
  const home = new Map<string, number>();
  const inputs: Record<string, PlanInput> = {};
  const inputShapes = new Map<string, readonly number[]>();
  // Inputs first, in node order, so buffer ids of parameters are stable across programs of the same model.
  for (const n of p.g.nodes) {
    if (n.op !== "input") continue;
    const name = String(n.attrs.name);
    const id = buffers.length;
    buffers.push({ id, bytes: 4 * numel(n.shape), kind: "input", label: name });
    home.set(tensorId(n), id);
    inputShapes.set(tensorId(n), n.shape);
    inputs[name] = { buffer: id, shape: n.shape, role: n.attrs.role as InputRole };
  }

  const pinned = new Set<string>([...p.outputs.values(), ...p.updates.map((u) => u.value)].map(tid));
  const first = new Map<string, number>();
  const last = new Map<string, number>();
  kernels.forEach((k, i) => {
    k.bindings.forEach((t, b) => {
      if (home.has(t)) return;
      if (k.writes[b] && !first.has(t)) first.set(t, i);
      last.set(t, pinned.has(t) ? Number.POSITIVE_INFINITY : Math.max(last.get(t) ?? i, i));
    });
  });
  const startsAt = new Map<number, string[]>();
  for (const [t, i] of first) append(startsAt, i, t);
  const endsAt = new Map<number, string[]>();
  for (const [t, i] of last) append(endsAt, i, t);

  const size = new Map<number, number>();
  // Free buffers by size, ascending; a buffer freed goes after those of its size (as a stable sort would put it).
  const free: number[] = [];
  /** The first position in `free` of a buffer of at least `bytes` (`orEqual`), or of more than `bytes`. */
  const firstAbove = (bytes: number, orEqual: boolean) => {
    let [lo, hi] = [0, free.length];
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const s = size.get(free[mid] as number) ?? 0;
      if (s < bytes || (!orEqual && s === bytes)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  let unplanned = 0;
  kernels.forEach((_, i) => {
    for (const t of startsAt.get(i) ?? []) {
      const info = tensors.get(t);
      assert(info !== undefined, () => `tensor ${t} has no size`);
      const bytes = 4 * info.elements;
      unplanned += bytes;
      let pick = firstAbove(bytes, true);
      if (pick === free.length) pick = free.length - 1;
      let id: number;
      if (pick >= 0) {
        id = free.splice(pick, 1)[0] as number;
        size.set(id, Math.max(size.get(id) ?? 0, bytes));
      } else {
        id = buffers.length;
        buffers.push({ id, bytes: 0, kind: "temp", label: `temp${id}` });
        size.set(id, bytes);
      }
      home.set(t, id);
    }
    for (const t of endsAt.get(i) ?? []) {
      const b = home.get(t);
      if (b !== undefined) free.splice(firstAbove(size.get(b) ?? 0, false), 0, b);
    }
  });
  for (const [id, bytes] of size) {
    const b = buffers[id];
    if (b) buffers[id] = { ...b, bytes };
  }

  const bufferOf = (t: string): number => {
    const b = home.get(t);
    assert(b !== undefined, () => `tensor ${t} was never written by any kernel`);
    return b;
  };
  const bytesOf = (t: string) => 4 * (tensors.get(t)?.elements ?? numel(inputShapes.get(t) ?? []));
  const planKernels: PlanKernel[] = kernels.map((k) => {
    const bindings = k.bindings.map(bufferOf);
    const ranges = k.bindings.map((t, i) => {
      const own = k.ranges?.[i];
      const whole = buffers[bindings[i] as number]?.bytes ?? 0;
      return own ?? (whole > maxBindingBytes ? { offset: 0, size: bytesOf(t) } : undefined);
    });
    return {
      name: k.name,
      key: hashKey(k.wgsl),
      wgsl: k.wgsl,
      bindings,
      writes: k.writes,
      workgroups: k.workgroups,
      flops: k.flops,
      ...(ranges.some((r) => r) ? { ranges } : {}),
    };
  });
  const outputs: Record<string, TensorRef> = {};
  for (const [name, n] of p.outputs) outputs[name] = { buffer: bufferOf(tid(n)), shape: n.shape };
  const updates = p.updates.map((u) => {
    assert(u.target.op === "input", () => "an update must target an input", u.target);
    return {
      from: bufferOf(tid(u.value)),
      to: bufferOf(tensorId(u.target)),
      bytes: 4 * numel(u.value.shape),
      name: String(u.target.attrs.name),
    };
  });
  const inputBytes = buffers.filter((b) => b.kind === "input").reduce((s, b) => s + b.bytes, 0);
  return {
    buffers,
    inputs,
    outputs,
    kernels: planKernels,
    updates,
    peakBytes: buffers.reduce((s, b) => s + b.bytes, 0),
    unplannedBytes: inputBytes + unplanned,
  };
}

/** Marks a node as needing a buffer of its size (helper for the pipeline). */
export function nodeTensor(n: Node): TensorInfo {
  return { id: tensorId(n), elements: numel(n.shape) };
}
