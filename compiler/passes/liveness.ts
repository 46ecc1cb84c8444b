// Liveness-based buffer planning. Inputs (data, parameters, optimizer state, step scalars) get fixed homes;
// every other tensor lives from the kernel that writes it to the last kernel that reads it, and tensors whose
// lives do not overlap share a buffer (greedy by size: the largest tensors place first). Fetched outputs and update
// values stay alive to the end of the step.
import { assert, type Node, numel } from "../ir/node.js";
import type { InputRole } from "../ir/tensor-ops.js";
import type { Plan, PlanBuffer, PlanInput, PlanKernel, TensorRef } from "../plan/plan.js";
import type { KernelDraft, TensorInfo } from "../wgsl/codegen.js";
import { hashKey, tensorId } from "../wgsl/codegen.js";
import { MinHeap } from "./fuse.js";
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
  // Greedy by size (TFLite's offline planner): the largest tensors first, each into a buffer none of whose tensors'
  // lives overlaps its own, else a new buffer of its size, so every buffer is as large as its first tensor and none
  // grows. The earlier online best fit grew free buffers for whichever tensor came next, which left the paper
  // SwinIR's step at 128×128, batch 8 with 102 GiB of buffers for 65 GiB ever live at once. Tensors of one size go
  // in order of their first kernel, into one of their size's buffers that is free by then (a heap on when each one's
  // last life ends: interval colouring), else the first larger buffer with a gap around the life: a first-fit scan
  // of every buffer for every tensor took 10-50 s on the largest model (15,000 kernels, as many buffers).
  const order = [...first.keys()].sort(
    (a, b) =>
      (tensors.get(b)?.elements ?? 0) - (tensors.get(a)?.elements ?? 0) || (first.get(a) ?? 0) - (first.get(b) ?? 0),
  );
  const size = new Map<number, number>();
  /** Each temp buffer's tensors' lives [first, last]: disjoint, sorted by start. */
  const lives: [number, number][][] = [];
  /** Where a life [a, z] would go in `ls`, or -1 when it overlaps one there (binary search: ls is disjoint). */
  const slot = (ls: readonly [number, number][], a: number, z: number): number => {
    // Most buffers take a life at one of their ends or refuse it there.
    if ((ls[ls.length - 1] as [number, number])[1] < a) return ls.length;
    if (z < (ls[0] as [number, number])[0]) return 0;
    if (z === Number.POSITIVE_INFINITY) return -1; // a fetched or updated value: only after every other life
    let [lo, hi] = [0, ls.length];
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((ls[mid] as [number, number])[0] < a) lo = mid + 1;
      else hi = mid;
    }
    const before = ls[lo - 1];
    const after = ls[lo];
    return (before && before[1] >= a) || (after && after[0] <= z) ? -1 : lo;
  };
  /** Buffers of larger sizes than the current one, largest (earliest) first. */
  const larger: number[] = [];
  /** The current size's buffers by the end of their last life, then id. */
  type Ends = { end: number; id: number };
  let own = new MinHeap<Ends>((x, y) => x.end - y.end || x.id - y.id);
  let ownIds: number[] = [];
  let current = -1;
  let unplanned = 0;
  for (const t of order) {
    const info = tensors.get(t);
    assert(info !== undefined, () => `tensor ${t} has no size`);
    const bytes = 4 * info.elements;
    unplanned += bytes;
    if (bytes !== current) {
      for (const b of ownIds) larger.push(b);
      [own, ownIds, current] = [new MinHeap<Ends>((x, y) => x.end - y.end || x.id - y.id), [], bytes];
    }
    const [a, z] = [first.get(t) ?? 0, last.get(t) ?? 0];
    let id = -1;
    let ofOwnSize = false;
    const soonest = own.pop();
    if (soonest && soonest.end < a) {
      [id, ofOwnSize] = [soonest.id, true];
      lives[id]?.push([a, z]);
    } else {
      if (soonest) own.push(soonest);
      for (const b of larger) {
        const ls = lives[b] as [number, number][];
        const at = slot(ls, a, z);
        if (at >= 0) {
          id = b;
          ls.splice(at, 0, [a, z]);
          break;
        }
      }
    }
    if (id < 0) {
      id = buffers.length;
      buffers.push({ id, bytes: 0, kind: "temp", label: `temp${id}` });
      size.set(id, bytes);
      lives[id] = [[a, z]];
      ownIds.push(id);
      ofOwnSize = true;
    }
    if (ofOwnSize) own.push({ end: z, id });
    home.set(t, id);
  }
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
