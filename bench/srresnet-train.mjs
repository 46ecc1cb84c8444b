// npm run bench: SRResNet (BasicSR MSRResNet, upscale 1, L1 + Adam) training-step timings through mio's compiled
// plan on this machine's WebGPU device, next to PyTorch CPU (2 threads) run in the same invocation.
// Writes bench/results.json. Usage: npm run bench [-- --steps 5] [--configs 16/4/4/48,32/8/4/64]
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { buildTrainStep } from "../dist/compiler/autodiff/optim.js";
import { initialParams } from "../dist/compiler/ir/builder.js";
import { Rng } from "../dist/compiler/ir/rng.js";
import { buildSRResNet } from "../dist/compiler/models/srresnet.js";
import { compileProgram } from "../dist/compiler/passes/pipeline.js";
import { TrainSession } from "../dist/runtime/exec/train-session.js";
import { acquireGpu } from "../dist/runtime/webgpu/device.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const steps = Number(arg("steps", "5"));
const configs = arg("configs", "16/4/4/48,32/8/4/64")
  .split(",")
  .map((c) => c.split("/").map(Number));
const OPT = { kind: "adam", betas: [0.9, 0.99], eps: 1e-8, weightDecay: 0 };

/** 2 * MACs of the forward convs (the anchors' formula); a training step is about 3x that. */
const fwdFlops = (nf, nb, p, b) => 2 * 9 * (3 * nf + 2 * nb * nf * nf + nf * nf + nf * 3) * p * p * b;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function torchStep(nf, nb, b, p) {
  try {
    const out = execFileSync(
      "/usr/bin/python3",
      [path.join(here, "torch_srresnet.py"), "train", nf, nb, b, p, steps, 1].map(String),
      {
        encoding: "utf8",
        timeout: 600_000,
      },
    );
    const m = out.match(/median ([0-9.]+) s\/step/);
    return m ? Number(m[1]) * 1000 : null;
  } catch (e) {
    process.stderr.write(`PyTorch anchor failed: ${e.message.split("\n")[0]}\n`);
    return null;
  }
}

const gpu = await acquireGpu();
const results = [];
for (const [nf, nb, b, p] of configs) {
  const { b: builder, out } = buildSRResNet({ feat: nf, blocks: nb, prompt: "none", batch: b, height: p, width: p });
  const loss = builder.l1Loss(out, builder.input("gt", out.shape));
  const t0 = performance.now();
  const plan = compileProgram(buildTrainStep(builder, loss, { optimizer: OPT }), {
    maxBindings: gpu.device.limits.maxStorageBuffersPerShaderStage,
  });
  const compileMs = performance.now() - t0;
  const session = await TrainSession.create(gpu, plan, initialParams(builder), OPT);
  const rng = new Rng(1);
  const batch = {
    lq: Float32Array.from({ length: b * 3 * p * p }, () => rng.next()),
    gt: Float32Array.from({ length: b * 3 * p * p }, () => rng.next()),
  };
  const t1 = performance.now();
  await session.step(batch, 2e-4, ["loss"]); // first step: lavapipe JIT-compiles every pipeline
  const firstStepMs = performance.now() - t1;
  const times = [];
  let lastLoss = 0;
  for (let i = 0; i < steps; i++) {
    const s = performance.now();
    lastLoss = (await session.step(batch, 2e-4, ["loss"])).loss[0];
    times.push(performance.now() - s);
  }
  // Kernel speed: per-kernel timings of one step (each kernel in its own submit).
  const prof = await session.exe.profile();
  const convs = prof.filter((k) => k.name.startsWith("conv2d_") && !k.name.includes("bwd"));
  const best = Math.max(...convs.map((k) => (2 * k.flops) / (k.ms * 1e6)));
  const gemmMs = prof.filter((k) => k.name.startsWith("conv2d")).reduce((s, k) => s + k.ms, 0);
  const totalMs = prof.reduce((s, k) => s + k.ms, 0);
  session.destroy();
  const mioMs = median(times);
  const torchMs = torchStep(nf, nb, b, p);
  const r = {
    config: { feat: nf, blocks: nb, batch: b, patch: p },
    device: gpu.report.description,
    kernels: plan.kernels.length,
    uniqueKernels: new Set(plan.kernels.map((k) => k.key)).size,
    peakMB: +(plan.peakBytes / 2 ** 20).toFixed(2),
    unplannedMB: +(plan.unplannedBytes / 2 ** 20).toFixed(2),
    compileMs: +compileMs.toFixed(1),
    firstStepMs: +firstStepMs.toFixed(0),
    mioStepMs: +mioMs.toFixed(1),
    mioStepGflops: +((3 * fwdFlops(nf, nb, p, b)) / (mioMs * 1e6)).toFixed(2),
    bestConvKernelGflops: +best.toFixed(2),
    convKernelShareOfProfiledStep: +(gemmMs / totalMs).toFixed(3),
    torchStepMs: torchMs === null ? null : +torchMs.toFixed(1),
    slowdownVsTorch: torchMs === null ? null : +(mioMs / torchMs).toFixed(1),
    loss: lastLoss,
  };
  process.stdout.write(`${JSON.stringify(r)}\n`);
  results.push(r);
}
const out = { date: new Date().toISOString(), loadAverage: os.loadavg(), cpus: os.cpus().length, steps, results };
writeFileSync(path.join(here, "results.json"), `${JSON.stringify(out, null, 2)}\n`);
// Keep the file in the repository's formatting (biome checks every JSON file, ignored or not).
execFileSync(
  path.join(here, "..", "node_modules", ".bin", "biome"),
  ["format", "--write", path.join(here, "results.json")],
  {
    stdio: "ignore",
  },
);
gpu.destroy();
process.exit(0);
