// The compiler's passes, in order, in one place. Each step is named; with MIO_DEBUG >= 1 the IR is verified after
// every step, and with MIO_DEBUG >= 2 each step's output size is printed to stderr.

import { MAX_TENSOR_ELEMENTS, type Node, numel } from "../ir/node.js";
import { type Plan, PlanLimitError, showBytes } from "../plan/plan.js";
import { type KernelDraft, renderGroup, type Schedule, type TensorInfo, tensorId } from "../wgsl/codegen.js";
import { type Fused, fuseElementwise } from "./fuse.js";
import { nodeTensor, planBuffers } from "./liveness.js";
import type { Program } from "./program.js";
import { bindingsFor, DEFAULT_MAX_BINDING_BYTES, splitLargeBindings } from "./split-bindings.js";
import { verifyFused, verifyProgram } from "./verify.js";

export interface CompileOptions {
  /** Storage buffers one kernel may bind; WebGPU guarantees 8 per stage (lavapipe has 16). */
  maxBindings?: number;
  /** Fuse elementwise chains and conv/matmul epilogues (default true). */
  fuse?: boolean;
  /** Kernel forms (default: row-form convolutions where they apply, else tiled implicit GEMM). */
  schedule?: Schedule;
  /** Bytes one storage binding may cover (the device's maxStorageBufferBindingSize); larger tensors are split. */
  maxBindingBytes?: number;
  /** Verification and tracing level; defaults to the MIO_DEBUG environment variable. */
  debug?: number;
}

function debugLevel(opts: CompileOptions): number {
  if (opts.debug !== undefined) return opts.debug;
  const env = typeof process !== "undefined" ? process.env.MIO_DEBUG : undefined;
  return env ? Number(env) || 0 : 0;
}

/** The buffer identity of a node: a view (reshape, transpose read in place) shares the tensor it views. */
function tensorOf(f: Fused): (n: Node) => string {
  return (n) => tensorId(f.alias.get(n.id) ?? n);
}

/**
 * Compiles a program (a graph plus fetched outputs and end-of-step updates) into a plan: fused WGSL kernels,
 * planned buffers and the update copies.
 * @example const plan = compileProgram({ g: b.g, outputs: new Map([["y", y]]), updates: [] });
 */
export function compileProgram(p: Program, opts: CompileOptions = {}): Plan {
  const debug = debugLevel(opts);
  const maxBindings = opts.maxBindings ?? 8;
  const run = <T>(name: string, f: () => T, verify?: (x: T) => unknown, size?: (x: T) => number): T => {
    const out = f();
    if (debug >= 1 && verify) verify(out);
    if (debug >= 2) process.stderr.write(`mio: pass '${name}'${size ? `: ${size(out)}` : ""}\n`);
    return out;
  };

  run(
    "verify ir",
    () => p,
    verifyProgram,
    (x) => x.g.nodes.length,
  );
  // One slot is kept free for the split-K scratch buffer of conv weight gradients.
  const fused = run(
    "fuse elementwise",
    () =>
      fuseElementwise(p, {
        maxBindings: maxBindings - 1,
        fuse: opts.fuse ?? true,
        bindingsOf: (n) => bindingsFor(4 * numel(n.shape), opts.maxBindingBytes ?? DEFAULT_MAX_BINDING_BYTES),
      }),
    (f) => verifyFused(f, maxBindings - 1),
    (f) => f.groups.length,
  );
  const { kernels, tensors } = run(
    "render wgsl",
    () => {
      const kernels: KernelDraft[] = [];
      const tid = tensorOf(fused);
      const tensors = new Map<string, TensorInfo>();
      fused.groups.forEach((g, i) => {
        const r = renderGroup(g, fused.inlined, i, tid, opts.schedule, fused.transposed);
        kernels.push(...r.kernels);
        for (const t of [...g.outs.map(nodeTensor), ...r.scratch]) tensors.set(t.id, t);
      });
      return { kernels, tensors };
    },
    undefined,
    (x) => x.kernels.length,
  );
  const maxBindingBytes = opts.maxBindingBytes ?? DEFAULT_MAX_BINDING_BYTES;
  const split = run(
    "split large bindings",
    () => {
      const inputs = new Map(p.g.nodes.filter((n) => n.op === "input").map((n) => [tensorId(n), numel(n.shape)]));
      const elements = (t: string) => tensors.get(t)?.elements ?? inputs.get(t) ?? 0;
      const largest = (k: KernelDraft) => Math.max(...k.bindings.map(elements));
      for (const k of kernels) {
        // Kernels index with i32 (the checker refuses such models at their sizes; this catches scratch buffers).
        if (largest(k) > MAX_TENSOR_ELEMENTS)
          throw new PlanLimitError(
            `kernel ${k.name} binds a tensor of ${largest(k).toLocaleString("en-US")} values, more than the ${MAX_TENSOR_ELEMENTS.toLocaleString("en-US")} a kernel indexes`,
            4 * largest(k),
          );
      }
      const out = kernels.map((k) => splitLargeBindings(k, elements, maxBindingBytes));
      out.forEach((k, i) => {
        if (k.bindings.length > maxBindings) {
          const bytes = 4 * largest(kernels[i] as KernelDraft);
          throw new PlanLimitError(
            `kernel ${k.name} needs ${k.bindings.length} storage buffers once its tensors (up to ${showBytes(bytes)}) are split into bindings of ${showBytes(maxBindingBytes)}, and a kernel may bind ${maxBindings}`,
            bytes,
          );
        }
      });
      return out;
    },
    undefined,
    (ks) => ks.filter((k) => k.ranges).length,
  );
  return run(
    "plan buffers",
    () => planBuffers(p, split, tensors, tensorOf(fused), maxBindingBytes),
    undefined,
    (x) => x.peakBytes,
  );
}
