// The one module that imports Dawn's Node binding: every other part of mio reaches the GPU through here.
import os from "node:os";
import { create, globals } from "webgpu";
import { GpuError, NoAdapterError } from "../errors.js";

/** Optional features mio uses when the adapter has them. */
export const OPTIONAL_FEATURES = ["shader-f16", "subgroups", "timestamp-query"] as const;

export interface AcquireOptions {
  /** Dawn backend to force (`vulkan`, `opengles`, `null`, ...); default lets Dawn choose, or `MIO_BACKEND`. */
  backend?: string;
  /** Lower the main thread's priority after the device exists (Dawn busy-waits it: docs/architecture.md, "The GPU
   * device"). */
  niceMainThread?: boolean;
}

export interface AdapterReport {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** True for a software adapter (lavapipe/SwiftShader): expect CPU speed. */
  isFallbackAdapter: boolean;
  /** The backend asked for; `default` when Dawn chose (see `listAdapters` for what it picked). */
  requestedBackend: string;
  subgroupSize: { min: number; max: number };
  limits: Record<string, number>;
  /** Every feature the adapter offers. */
  adapterFeatures: string[];
  /** The optional features mio requested and got. */
  enabledFeatures: string[];
}

export interface Gpu {
  readonly device: GPUDevice;
  readonly adapter: GPUAdapter;
  readonly report: AdapterReport;
  /** Run `work` with validation/OOM/internal error scopes; a GPU error becomes a `GpuError` naming `what`. */
  scoped<T>(what: string, work: () => T | Promise<T>): Promise<T>;
  /** Throws the first uncaptured error or device loss seen so far, naming what was running. */
  throwIfFailed(): void;
  destroy(): void;
}

// NOTE: the object create() returns must stay reachable for the life of the process; if V8 collects it, the next
// await on the device crashes the process (docs/architecture.md, "The GPU device"). Module state alone has been
// seen to be not enough.
const dawnInstances: GPU[] = [];
(globalThis as { __mioDawnInstances?: GPU[] }).__mioDawnInstances = dawnInstances;

let globalsInstalled = false;
/** Installs WebGPU's enum globals (`GPUBufferUsage`, `GPUMapMode`, ...) that kernels and the executor use. */
function installGlobals(): void {
  if (globalsInstalled) return;
  Object.assign(globalThis, globals);
  globalsInstalled = true;
}

function dawnFlags(backend: string | undefined): string[] {
  return backend ? [`backend=${backend}`] : [];
}

function readLimits(limits: GPUSupportedLimits): Record<string, number> {
  const out: Record<string, number> = {};
  // Dawn exposes limits as prototype getters, so `for...in` (not Object.keys) sees them.
  for (const key in limits) {
    const v = (limits as unknown as Record<string, unknown>)[key];
    if (typeof v === "number") out[key] = v;
  }
  return out;
}

async function requestAdapter(gpu: GPU, backend: string): Promise<GPUAdapter | null> {
  try {
    // Dawn orders discrete GPUs first; ask for the fallback (lavapipe) only when nothing else exists.
    return (
      (await gpu.requestAdapter({ powerPreference: "high-performance" })) ??
      (await gpu.requestAdapter({ forceFallbackAdapter: true }))
    );
  } catch (e) {
    // Dawn throws (rather than returning null) for some impossible flags; treat it as "no adapter".
    throw new NoAdapterError(backend, String((e as Error).message ?? e));
  }
}

/**
 * Acquires a WebGPU device: a real GPU when there is one, lavapipe otherwise, with the adapter's full limits and
 * the optional features it offers.
 * @example const gpu = await acquireGpu(); console.log(gpu.report.description);
 */
export async function acquireGpu(options: AcquireOptions = {}): Promise<Gpu> {
  installGlobals();
  process.env.XDG_RUNTIME_DIR ??= os.tmpdir(); // silences a Vulkan loader warning on headless machines
  const backend = options.backend ?? process.env.MIO_BACKEND ?? undefined;
  const requestedBackend = backend ?? "default";
  const instance = create(dawnFlags(backend));
  dawnInstances.push(instance);

  const adapter = await requestAdapter(instance, requestedBackend);
  if (!adapter) throw new NoAdapterError(requestedBackend);

  const limits = readLimits(adapter.limits);
  const adapterFeatures = [...adapter.features].map(String).sort();
  const enabledFeatures = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f));
  const device = await adapter.requestDevice({
    requiredFeatures: enabledFeatures as GPUFeatureName[],
    requiredLimits: limits,
    label: "mio",
  });
  if (options.niceMainThread ?? true) lowerMainThreadPriority();

  const info = adapter.info;
  const report: AdapterReport = {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    isFallbackAdapter: Boolean((info as { isFallbackAdapter?: boolean }).isFallbackAdapter),
    requestedBackend,
    subgroupSize: {
      min: (info as { subgroupMinSize?: number }).subgroupMinSize ?? 0,
      max: (info as { subgroupMaxSize?: number }).subgroupMaxSize ?? 0,
    },
    limits,
    adapterFeatures,
    enabledFeatures: [...enabledFeatures],
  };
  return wrapDevice(instance, adapter, device, report);
}

function wrapDevice(instance: GPU, adapter: GPUAdapter, device: GPUDevice, report: AdapterReport): Gpu {
  let running = "device setup";
  let failure: GpuError | undefined;
  let destroyed = false;

  device.addEventListener("uncapturederror", (ev) => {
    const message = (ev as GPUUncapturedErrorEvent).error.message;
    failure ??= new GpuError(running, message);
  });
  void device.lost.then((info) => {
    if (destroyed) return;
    failure ??= new GpuError(running, `device lost (${info.reason}): ${info.message}`);
    process.stderr.write(`mio: ${failure.message}\n`);
  });

  const scopes: GPUErrorFilter[] = ["validation", "out-of-memory", "internal"];
  return {
    device,
    adapter,
    report,
    async scoped(what, work) {
      const previous = running;
      running = what;
      for (const s of scopes) device.pushErrorScope(s);
      try {
        const result = await work();
        const errors = await Promise.all(scopes.map(() => device.popErrorScope()));
        const first = errors.find((e) => e !== null);
        if (first) throw new GpuError(what, first.message);
        return result;
      } finally {
        running = previous;
        void instance; // the closure keeps Dawn's instance reachable as long as this Gpu is
      }
    },
    throwIfFailed() {
      if (failure) throw failure;
    },
    destroy() {
      destroyed = true;
      device.destroy();
    },
  };
}

/**
 * Linux `nice` is per thread: this lowers only the JS main thread, not lavapipe's workers (docs/architecture.md, "The
 * GPU device").
 */
function lowerMainThreadPriority(): void {
  try {
    os.setPriority(19);
  } catch {
    // Not permitted in some sandboxes; only speed is lost.
  }
}

export interface ListedAdapter {
  backend: string;
  name: string;
}

/**
 * Lists the adapters Dawn can see, with their backends. Dawn reports these only in the error it raises for an
 * adapter name that does not exist, so this asks for one.
 */
export async function listAdapters(): Promise<ListedAdapter[]> {
  installGlobals();
  const instance = create(["adapter=__mio_list_adapters__"]);
  dawnInstances.push(instance);
  try {
    await instance.requestAdapter();
    return [];
  } catch (e) {
    const text = String((e as Error).message ?? e);
    return [...text.matchAll(/backend: '([^']+)', name: '([^']*)'/g)].map((m) => ({
      backend: m[1] ?? "",
      name: m[2] ?? "",
    }));
  }
}

/** Picks the listed adapter an acquired device most likely is (Dawn's device id is a slug of the name). */
export function matchListedAdapter(report: AdapterReport, listed: ListedAdapter[]): ListedAdapter | undefined {
  const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, "-");
  const device = slug(report.device);
  return listed.find((a) => device.startsWith(slug(a.name).replace(/-$/, ""))) ?? listed[0];
}
