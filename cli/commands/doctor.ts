import type { Command } from "commander";
import { type AdapterReport, acquireGpu, listAdapters, matchListedAdapter } from "../../runtime/webgpu/device.js";
import { version } from "../package-info.js";

/** Limits worth a line in the human-readable report; `--json` has all of them. */
const KEY_LIMITS = [
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxStorageBuffersPerShaderStage",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupsPerDimension",
  "maxBindGroups",
];

export interface DoctorReport {
  mio: string;
  node: string;
  platform: string;
  backend: string;
  adapter: Omit<AdapterReport, "limits" | "adapterFeatures" | "enabledFeatures">;
  fallback: boolean;
  limits: Record<string, number>;
  features: { enabled: string[]; adapter: string[] };
}

async function diagnose(backend: string | undefined): Promise<DoctorReport> {
  const gpu = await acquireGpu({ backend, niceMainThread: false });
  try {
    const { limits, adapterFeatures, enabledFeatures, ...adapter } = gpu.report;
    const listed =
      gpu.report.requestedBackend === "default" ? matchListedAdapter(gpu.report, await listAdapters()) : undefined;
    return {
      mio: version,
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      backend: listed?.backend ?? gpu.report.requestedBackend,
      adapter,
      fallback: gpu.report.isFallbackAdapter,
      limits,
      features: { enabled: enabledFeatures, adapter: adapterFeatures },
    };
  } finally {
    gpu.destroy();
  }
}

function render(r: DoctorReport): string {
  const mib = (n: number) => (n >= 1 << 20 ? `${n} (${(n / (1 << 20)).toFixed(0)} MiB)` : String(n));
  const rows: [string, string][] = [
    ["mio", `${r.mio} on Node ${r.node} (${r.platform})`],
    ["adapter", `${r.adapter.vendor} / ${r.adapter.architecture} / ${r.adapter.device}`],
    ["description", r.adapter.description],
    ["backend", r.backend],
    [
      "fallback",
      r.fallback
        ? "yes: a software (CPU) adapter; training runs at CPU speed, use the pipelines' quick profiles"
        : "no: a hardware GPU",
    ],
    ["subgroups", `${r.adapter.subgroupSize.min}..${r.adapter.subgroupSize.max} lanes`],
    ["features", r.features.enabled.join(", ") || "(none of shader-f16, subgroups, timestamp-query)"],
    ...KEY_LIMITS.filter((k) => k in r.limits).map((k): [string, string] => [k, mib(r.limits[k] ?? 0)]),
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`).join("\n");
}

export function registerDoctor(cli: Command): void {
  cli
    .command("doctor")
    .description("show the WebGPU adapter mio will use: vendor, backend, fallback or not, limits, features")
    .option("--json", "print the report as JSON")
    .option(
      "--backend <name>",
      "force a Dawn backend (vulkan, opengles, null, ...); default: Dawn's choice or MIO_BACKEND",
    )
    .action(async (opts: { json?: boolean; backend?: string }) => {
      const report = await diagnose(opts.backend);
      process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `mio doctor\n${render(report)}\n`);
    });
}
