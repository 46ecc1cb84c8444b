// Runs a compiled plan on a Dawn device: one buffer per planned buffer (the arena), one pipeline per kernel key
// (cached per device), and one command buffer per step: every kernel, then the end-of-step update copies, then the
// copies of fetched outputs into staging buffers. The host awaits only when it wants a value back.
import type { Plan, PlanKernel } from "../../compiler/plan/plan.js";
import { MioRuntimeError } from "../errors.js";
import type { Gpu } from "../webgpu/device.js";

const pipelineCache = new WeakMap<GPUDevice, Map<string, Promise<GPUComputePipeline>>>();

function layoutFor(device: GPUDevice, k: PlanKernel): GPUBindGroupLayout {
  return device.createBindGroupLayout({
    label: k.name,
    entries: k.bindings.map((_, i) => ({
      binding: i,
      visibility: GPUShaderStage.COMPUTE,
      buffer: { type: k.writes[i] ? "storage" : "read-only-storage" },
    })),
  });
}

/** A pipeline per (device, kernel key): identical kernels across plans compile once. */
function pipelineFor(gpu: Gpu, k: PlanKernel, layout: GPUBindGroupLayout): Promise<GPUComputePipeline> {
  let cache = pipelineCache.get(gpu.device);
  if (!cache) {
    cache = new Map();
    pipelineCache.set(gpu.device, cache);
  }
  // The layout is part of the key: it follows from the bindings' read/write flags, which the source declares.
  const hit = cache.get(k.key);
  if (hit) return hit;
  // MIO_DEBUG=4 prints each kernel once, under its key (docs/compiler.md, "Running and debugging").
  if (Number(process.env.MIO_DEBUG ?? 0) >= 4)
    process.stderr.write(`// ---- kernel ${k.name} key=${k.key}\n${k.wgsl}\n`);
  // NOTE: createComputePipelineAsync for hundreds of kernels at once was ~10x slower on lavapipe than creating
  // them one by one (first dispatches waited minutes); synchronous creation costs ~0.1 s per GEMM kernel cold.
  const made = gpu.scoped(`compiling kernel ${k.name} (key ${k.key}; see --emit wgsl)`, () =>
    gpu.device.createComputePipeline({
      label: `${k.name}#${k.key}`,
      layout: gpu.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module: gpu.device.createShaderModule({ code: k.wgsl, label: k.name }), entryPoint: "main" },
    }),
  );
  cache.set(k.key, made);
  return made;
}

export interface StepTiming {
  readonly name: string;
  readonly key: string;
  readonly ms: number;
  readonly flops: number;
}

/**
 * Executes a plan.
 * @example
 * const exe = await Executor.create(gpu, plan);
 * exe.write("lq", lq);
 * const { loss } = await exe.run(["loss"]);
 */
export class Executor {
  private constructor(
    private readonly gpu: Gpu,
    readonly plan: Plan,
    private readonly buffers: GPUBuffer[],
    private readonly pipelines: GPUComputePipeline[],
    private readonly bindGroups: GPUBindGroup[],
  ) {}

  static async create(gpu: Gpu, plan: Plan): Promise<Executor> {
    const { device } = gpu;
    const { maxStorageBufferBindingSize: maxBinding, maxBufferSize } = device.limits;
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    for (const k of plan.kernels) {
      k.bindings.forEach((b, i) => {
        const bytes = k.ranges?.[i]?.size ?? plan.buffers[b]?.bytes ?? 0;
        if (bytes > maxBinding) {
          throw new MioRuntimeError(
            `kernel ${k.name} binds ${bytes} bytes of '${plan.buffers[b]?.label}', more than this device binds (${maxBinding})`,
            "Compile with maxBindingBytes set to the device's maxStorageBufferBindingSize.",
          );
        }
      });
    }
    const buffers = plan.buffers.map((b) => {
      if (b.bytes > maxBufferSize) {
        throw new MioRuntimeError(
          `tensor buffer '${b.label}' needs ${b.bytes} bytes, more than this device allocates (${maxBufferSize})`,
          "Use a smaller batch or crop.",
        );
      }
      return device.createBuffer({ label: b.label, size: Math.max(4, Math.ceil(b.bytes / 4) * 4), usage });
    });
    const layouts = plan.kernels.map((k) => layoutFor(device, k));
    const pipelines = await Promise.all(
      plan.kernels.map((k, i) => pipelineFor(gpu, k, layouts[i] as GPUBindGroupLayout)),
    );
    const bindGroups = await gpu.scoped("creating bind groups", () =>
      plan.kernels.map((k, i) =>
        device.createBindGroup({
          label: k.name,
          layout: layouts[i] as GPUBindGroupLayout,
          entries: k.bindings.map((b, binding) => ({
            binding,
            resource: { buffer: buffers[b] as GPUBuffer, ...(k.ranges?.[binding] ?? {}) },
          })),
        }),
      ),
    );
    return new Executor(gpu, plan, buffers, pipelines, bindGroups);
  }

  private bufferOf(name: string): { buffer: GPUBuffer; elements: number } {
    const ref = this.plan.inputs[name] ?? this.plan.outputs[name];
    if (!ref) throw new MioRuntimeError(`the plan has no input or output named '${name}'`);
    const elements = ref.shape.reduce((a, b) => a * b, 1);
    return { buffer: this.buffers[ref.buffer] as GPUBuffer, elements };
  }

  /** Uploads an input's value (ordered before the next `run`). */
  write(name: string, data: ArrayLike<number>): void {
    const { buffer, elements } = this.bufferOf(name);
    if (data.length !== elements) {
      throw new MioRuntimeError(`input '${name}' takes ${elements} values, got ${data.length}`);
    }
    const f32 = data instanceof Float32Array ? data : Float32Array.from(data);
    this.gpu.device.queue.writeBuffer(buffer, 0, f32.buffer, f32.byteOffset, f32.byteLength);
  }

  private encodeKernels(pass: GPUComputePassEncoder, from = 0, to = this.plan.kernels.length): void {
    for (let i = from; i < to; i++) {
      const k = this.plan.kernels[i] as PlanKernel;
      pass.setPipeline(this.pipelines[i] as GPUComputePipeline);
      pass.setBindGroup(0, this.bindGroups[i] as GPUBindGroup);
      pass.dispatchWorkgroups(k.workgroups[0], k.workgroups[1], k.workgroups[2]);
    }
  }

  private encodeReadback(enc: GPUCommandEncoder, names: readonly string[]): Array<[string, GPUBuffer, number]> {
    return names.map((name) => {
      const { buffer, elements } = this.bufferOf(name);
      const staging = this.gpu.device.createBuffer({
        label: `read ${name}`,
        size: Math.max(4, elements * 4),
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
      enc.copyBufferToBuffer(buffer, 0, staging, 0, elements * 4);
      return [name, staging, elements];
    });
  }

  private async mapAll(staged: Array<[string, GPUBuffer, number]>): Promise<Record<string, Float32Array>> {
    const out: Record<string, Float32Array> = {};
    await Promise.all(
      staged.map(async ([name, staging, elements]) => {
        await staging.mapAsync(GPUMapMode.READ);
        out[name] = new Float32Array(staging.getMappedRange().slice(0, elements * 4));
        staging.unmap();
        staging.destroy();
      }),
    );
    return out;
  }

  /**
   * Runs one step with one queue.submit: all kernels, the update copies, and copies of `fetch` (output or input
   * names, read after the updates) to staging buffers. The returned promise resolves when those are mapped;
   * callers that fetch nothing need not await it.
   */
  run(fetch: readonly string[] = []): Promise<Record<string, Float32Array>> {
    const { device } = this.gpu;
    const enc = device.createCommandEncoder({ label: "mio step" });
    const pass = enc.beginComputePass({ label: "mio kernels" });
    this.encodeKernels(pass);
    pass.end();
    for (const u of this.plan.updates) {
      enc.copyBufferToBuffer(this.buffers[u.from] as GPUBuffer, 0, this.buffers[u.to] as GPUBuffer, 0, u.bytes);
    }
    const staged = this.encodeReadback(enc, fetch);
    device.queue.submit([enc.finish()]);
    this.gpu.throwIfFailed();
    return this.mapAll(staged);
  }

  /** Reads inputs or outputs now (one extra submit). */
  read(names: readonly string[]): Promise<Record<string, Float32Array>> {
    const enc = this.gpu.device.createCommandEncoder({ label: "mio read" });
    const staged = this.encodeReadback(enc, names);
    this.gpu.device.queue.submit([enc.finish()]);
    return this.mapAll(staged);
  }

  /**
   * Runs every kernel in its own submit and waits for each, for per-kernel timings (slow; profiling only).
   * Updates are not applied.
   */
  async profile(): Promise<StepTiming[]> {
    const out: StepTiming[] = [];
    const { device } = this.gpu;
    for (let i = 0; i < this.plan.kernels.length; i++) {
      const k = this.plan.kernels[i] as PlanKernel;
      const enc = device.createCommandEncoder();
      const pass = enc.beginComputePass();
      this.encodeKernels(pass, i, i + 1);
      pass.end();
      const t0 = performance.now();
      device.queue.submit([enc.finish()]);
      await device.queue.onSubmittedWorkDone();
      out.push({ name: k.name, key: k.key, ms: performance.now() - t0, flops: k.flops });
    }
    return out;
  }

  destroy(): void {
    for (const b of this.buffers) b.destroy();
  }
}
