// The bench's mio worker: SRResNet (the stdlib's .mio declaration, BasicSR MSRResNet at upscale 1) through mio's
// compiled plan on this machine's WebGPU device, by the paths `mioc run` and `mioc infer` use. bench/run.mjs starts it in its own process (its own Dawn
// instance); the last stdout line is the result as JSON, progress goes to stderr.
// usage: node bench/mio-srresnet.mjs train FEAT BLOCKS BATCH PATCH STEPS WARMUP [--profile]
//        node bench/mio-srresnet.mjs infer FEAT BLOCKS SIZE STEPS WARMUP
import { SequentialRng } from "../dist/compiler/ir/rng.js";
import { lowerModel } from "../dist/compiler/lower/model.js";
import { ForwardPlan } from "../dist/runtime/exec/forward.js";
import { srresnetExperiment } from "../dist/runtime/exec/infer.js";
import { acquireGpu } from "../dist/runtime/webgpu/device.js";
import { fwdFlops, measure } from "./lib.mjs";
import { planFields, timeTrainSteps } from "./mio-train.mjs";

const [mode, ...rest] = process.argv.slice(2);
const nums = rest.filter((a) => !a.startsWith("--")).map(Number);
const wantProfile = process.argv.includes("--profile");

// NOTE: acquireGpu keeps Dawn's instance reachable and lowers this thread's priority (docs/architecture.md, "The GPU
// device").
const gpu = await acquireGpu();
const rng = new SequentialRng(1);
const uniform = (n) => Float32Array.from({ length: n }, () => rng.next());

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
  const r = await timeTrainSteps(gpu, srresnetExperiment({ feat, blocks, prompt: "none" }), {
    batch,
    patch,
    steps,
    warmup,
    uniform,
    profile: wantProfile ? (session) => kernelProfile(session.exe) : null,
  });
  result = {
    ...r.timing,
    gflops: +((3 * fwdFlops(feat, blocks, patch, patch, batch)) / (r.timing.medianMs * 1e6)).toFixed(2),
    loss: r.loss,
    ...r.planFields,
    profile: r.profile,
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
