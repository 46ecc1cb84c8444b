// The bench's mio worker: SRResNet (the stdlib's .mio declaration, BasicSR MSRResNet at upscale 1) through mio's
// compiled plan on this machine's WebGPU device, by the paths `mioc run` and `mioc infer` use. bench/run.mjs starts it in its own process (its own Dawn
// instance); the last stdout line is the result as JSON, progress goes to stderr.
// usage: node bench/mio-srresnet.mjs train FEAT BLOCKS BATCH PATCH STEPS WARMUP [--profile]
//        node bench/mio-srresnet.mjs infer FEAT BLOCKS SIZE STEPS WARMUP
import { buildTrainStep } from "../dist/compiler/autodiff/optim.js";
import { initialParams } from "../dist/compiler/ir/builder.js";
import { SequentialRng } from "../dist/compiler/ir/rng.js";
import { lowerModel } from "../dist/compiler/lower/model.js";
import { compileForDevice } from "../dist/runtime/exec/fit.js";
import { ForwardPlan } from "../dist/runtime/exec/forward.js";
import { srresnetExperiment } from "../dist/runtime/exec/infer.js";
import { TrainSession } from "../dist/runtime/exec/train-session.js";
import { acquireGpu } from "../dist/runtime/webgpu/device.js";
import { fwdFlops, measure } from "./lib.mjs";

const [mode, ...rest] = process.argv.slice(2);
const nums = rest.filter((a) => !a.startsWith("--")).map(Number);
const wantProfile = process.argv.includes("--profile");
// BasicSR's options for MSRResNet; the other peers use the same.
const OPT = { kind: "adam", betas: [0.9, 0.99], eps: 1e-8, weightDecay: 0 };
const LR = 2e-4;

// NOTE: acquireGpu keeps Dawn's instance reachable and lowers this thread's priority (docs/architecture.md, "The GPU
// device").
const gpu = await acquireGpu();
const rng = new SequentialRng(1);
const uniform = (n) => Float32Array.from({ length: n }, () => rng.next());

function planFields(plan, compileMs, createMs) {
  return {
    kernels: plan.kernels.length,
    uniqueKernels: new Set(plan.kernels.map((k) => k.key)).size,
    peakMB: +(plan.peakBytes / 2 ** 20).toFixed(2),
    unplannedMB: +(plan.unplannedBytes / 2 ** 20).toFixed(2),
    compileMs: +compileMs.toFixed(1),
    createMs: +createMs.toFixed(1),
  };
}

/** Per-kernel timings of one step, each kernel in its own submit (slow: the driver skips it for huge configs). */
async function kernelProfile(exe) {
  const prof = await exe.profile();
  const convs = prof.filter((k) => k.name.startsWith("conv2d_") && !k.name.includes("bwd"));
  const best = Math.max(...convs.map((k) => k.flops / (k.ms * 1e6)));
  const convMs = prof.filter((k) => k.name.startsWith("conv2d")).reduce((s, k) => s + k.ms, 0);
  const totalMs = prof.reduce((s, k) => s + k.ms, 0);
  return {
    bestConvKernelGflops: +best.toFixed(2),
    convKernelShareOfProfiledStep: +(convMs / totalMs).toFixed(3),
    profiledStepMs: +totalMs.toFixed(1),
  };
}

let result;
if (mode === "train") {
  const [feat, blocks, batch, patch, steps, warmup] = nums;
  const { program, spec } = srresnetExperiment({ feat, blocks, prompt: "none" });
  const { b, out } = lowerModel(program, spec, { batch, height: patch, width: patch });
  const loss = b.l1Loss(out, b.input("gt", out.shape));
  let t = performance.now();
  const plan = compileForDevice(gpu, buildTrainStep(b, loss, { optimizer: OPT }), {
    what: `a batch of ${batch} crops of ${patch}×${patch}`,
    hint: "lower the bench config's batch or patch",
  });
  const compileMs = performance.now() - t;
  t = performance.now();
  const session = await TrainSession.create(gpu, plan, initialParams(b), OPT);
  const createMs = performance.now() - t;
  const data = { lq: uniform(batch * 3 * patch * patch), gt: uniform(batch * 3 * patch * patch) };
  const m = await measure("step", steps, warmup, async () => (await session.step(data, LR, ["loss"])).loss?.[0]);
  const { last, ...timing } = m;
  const profile = wantProfile ? await kernelProfile(session.exe) : null;
  session.destroy();
  result = {
    ...timing,
    gflops: +((3 * fwdFlops(feat, blocks, patch, patch, batch)) / (timing.medianMs * 1e6)).toFixed(2),
    loss: last,
    ...planFields(plan, compileMs, createMs),
    profile,
  };
} else if (mode === "infer") {
  // The forward-only plan `mioc infer` runs, on one SIZE x SIZE image; the time includes the readback.
  const [feat, blocks, size, steps, warmup] = nums;
  const { program, spec } = srresnetExperiment({ feat, blocks, prompt: "none" });
  const { b } = lowerModel(program, spec, { batch: 1, height: size, width: size });
  const weights = Object.fromEntries(b.paramList().map((p) => [p.name, { shape: p.node.shape, data: p.init }]));
  const t = performance.now();
  const fwd = await ForwardPlan.create(gpu, program, spec, weights, { height: size, width: size });
  const compileAndCreateMs = performance.now() - t;
  const lq = uniform(3 * size * size);
  const m = await measure("infer", steps, warmup, async () => (await fwd.run(lq))[0]);
  const { last: _, ...timing } = m;
  const { plan } = fwd.exe;
  fwd.destroy();
  result = {
    ...timing,
    gflops: +(fwdFlops(feat, blocks, size, size, 1) / (timing.medianMs * 1e6)).toFixed(2),
    ...planFields(plan, compileAndCreateMs, 0),
  };
} else {
  throw new Error(`unknown mode '${mode}': train or infer`);
}
result.adapter = gpu.report.description;
process.stdout.write(`${JSON.stringify(result)}\n`);
gpu.destroy();
process.exit(0);
