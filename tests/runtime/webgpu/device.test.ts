import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GpuError } from "../../../runtime/errors.js";
import { acquireGpu, type Gpu } from "../../../runtime/webgpu/device.js";

// y[i] = a * x[i] + sin(x[i]) * b[i]: enough arithmetic that a wrong binding or index shows.
const SAXPY_SIN = /* wgsl */ `
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> params: vec4<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let i = id.x;
  if (i >= arrayLength(&y)) { return; }
  y[i] = params.x * x[i] + sin(x[i]) * b[i];
}`;

async function runSaxpySin(gpu: Gpu, x: Float32Array, b: Float32Array, a: number): Promise<Float32Array> {
  const { device } = gpu;
  const make = (data: Float32Array, usage: number) => {
    const buf = device.createBuffer({ size: data.byteLength, usage: usage | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(buf, 0, data);
    return buf;
  };
  const xs = make(x, GPUBufferUsage.STORAGE);
  const bs = make(b, GPUBufferUsage.STORAGE);
  const ys = device.createBuffer({ size: x.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const us = make(new Float32Array([a, 0, 0, 0]), GPUBufferUsage.UNIFORM);
  const read = device.createBuffer({ size: x.byteLength, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const pipeline = device.createComputePipeline({
    layout: "auto",
    compute: { module: device.createShaderModule({ code: SAXPY_SIN }), entryPoint: "main" },
  });
  const bindGroup = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [xs, bs, ys, us].map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(Math.ceil(x.length / 64));
  pass.end();
  enc.copyBufferToBuffer(ys, 0, read, 0, x.byteLength);
  device.queue.submit([enc.finish()]);
  await read.mapAsync(GPUMapMode.READ);
  const out = new Float32Array(read.getMappedRange().slice(0));
  read.unmap();
  for (const buf of [xs, bs, ys, us, read]) buf.destroy();
  return out;
}

describe("webgpu device", () => {
  let gpu: Gpu;
  beforeAll(async () => {
    gpu = await acquireGpu();
  });
  afterAll(() => gpu?.destroy());

  it("reports the adapter, its real limits and the optional features it has", () => {
    const r = gpu.report;
    expect(r.description.length).toBeGreaterThan(0);
    expect(r.limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 * 1024 * 1024);
    expect(gpu.device.limits.maxStorageBufferBindingSize).toBe(r.limits.maxStorageBufferBindingSize);
    for (const f of r.enabledFeatures) expect(gpu.device.features.has(f)).toBe(true);
    for (const f of r.enabledFeatures) expect(r.adapterFeatures).toContain(f);
  });

  it("runs a WGSL compute kernel whose result matches the CPU", async () => {
    const n = 1000; // not a multiple of the workgroup size, so the bounds check matters
    const x = Float32Array.from({ length: n }, (_, i) => (i - 500) / 37);
    const b = Float32Array.from({ length: n }, (_, i) => ((i * 7919) % 101) / 50 - 1);
    const a = 1.75;
    const y = await gpu.scoped("saxpy-sin test kernel", () => runSaxpySin(gpu, x, b, a));
    for (let i = 0; i < n; i++) {
      const want = Math.fround(a) * (x[i] ?? 0) + Math.sin(x[i] ?? 0) * (b[i] ?? 0);
      expect(Math.abs((y[i] ?? Number.NaN) - want)).toBeLessThan(1e-5 * (1 + Math.abs(want)));
    }
    gpu.throwIfFailed();
  });

  it("turns a GPU validation error into a GpuError that names what was running", async () => {
    const attempt = gpu.scoped("compiling the broken test kernel", () => {
      gpu.device.createShaderModule({ code: "fn main( {" });
    });
    await expect(attempt).rejects.toBeInstanceOf(GpuError);
    await expect(
      gpu.scoped("compiling the broken test kernel", () => {
        gpu.device.createShaderModule({ code: "fn main( {" });
      }),
    ).rejects.toThrow(/while compiling the broken test kernel/);
  });
});
