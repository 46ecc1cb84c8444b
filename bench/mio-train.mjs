// What the bench's mio workers (bench/mio-srresnet.mjs, mio-swinir.mjs, mio-restormer.mjs) share: timing a model's
// training step through the compiled train-step plan `mioc run` uses, the plan's figures every mio result reports, and
// the whole train-row worker for a stdlib backbone built as a one-line experiment.
import { buildTrainStep } from "../dist/compiler/autodiff/optim.js";
import { checkFile } from "../dist/compiler/compile.js";
import { initialParams } from "../dist/compiler/ir/builder.js";
import { SequentialRng } from "../dist/compiler/ir/rng.js";
import { lowerModel } from "../dist/compiler/lower/model.js";
import { defaultStdlibRoot } from "../dist/compiler/program.js";
import { compileForDevice } from "../dist/runtime/exec/fit.js";
import { TrainSession } from "../dist/runtime/exec/train-session.js";
import { acquireGpu } from "../dist/runtime/webgpu/device.js";
import { kernelKinds, measure } from "./lib.mjs";

// BasicSR's options for MSRResNet, which MiOIR's SwinIR uses too (Adam, lr 2e-4, betas 0.9/0.99); the PyTorch peers
// use the same.
const OPT = { kind: "adam", betas: [0.9, 0.99], eps: 1e-8, weightDecay: 0 };
const LR = 2e-4;

/** The plan's kernel counts, planned and unplanned memory, and the times to compile it and create its session. */
export function planFields(plan, compileMs, createMs) {
  return {
    kernels: plan.kernels.length,
    uniqueKernels: new Set(plan.kernels.map((k) => k.key)).size,
    peakMB: +(plan.peakBytes / 2 ** 20).toFixed(2),
    unplannedMB: +(plan.unplannedBytes / 2 ** 20).toFixed(2),
    compileMs: +compileMs.toFixed(1),
    createMs: +createMs.toFixed(1),
  };
}

/**
 * `warmup` then `steps` timed training steps (L1 loss, Adam) of the experiment's model at its initial parameters, on a
 * batch of `batch` uniform crops of `patch`×`patch` from `uniform(n)`. `profile(session, plan)`, when given, runs after
 * the timing, before the session goes.
 * @returns measure()'s timing, the last step's `loss`, planFields as `planFields`, and what `profile` gave (or null).
 */
export async function timeTrainSteps(gpu, { program, spec }, { batch, patch, steps, warmup, uniform, profile }) {
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
  const profiled = profile ? await profile(session, plan) : null;
  session.destroy();
  return { timing, loss: last, planFields: planFields(plan, compileMs, createMs), profile: profiled };
}

/**
 * A stdlib backbone as the one experiment of a one-line program: `use stdlib/backbones/<module>` and `model <model>`
 * (as srresnetExperiment does for SRResNet).
 */
export function backboneExperiment(module, model) {
  const text = `use stdlib/tasks
use stdlib/backbones/${module}
experiment bench {
  model ${model}
  data { train "." }
  curriculum mixed { tasks sr; iters 1 }
}
`;
  const r = checkFile(`${defaultStdlibRoot}/stdlib/${module}-bench.mio`, { text });
  const spec = r.specs.get("bench");
  const errors = r.diagnostics.filter((d) => d.severity === "error");
  if (!spec || errors.length > 0) throw new Error(`${model}: ${errors.map((d) => d.message).join("; ")}`);
  return { program: r.program, spec };
}

/**
 * A train row's worker: times the experiment's step on this machine's device (with `wantProfile`, then every kernel
 * alone, summed by kind), prints the result as the last stdout line and exits. `stepGflop` is the row's own count.
 */
export async function runTrainWorker(experiment, { batch, patch, steps, warmup, wantProfile, stepGflop }) {
  const gpu = await acquireGpu();
  const rng = new SequentialRng(1);
  const uniform = (n) => Float32Array.from({ length: n }, () => rng.next());
  const r = await timeTrainSteps(gpu, experiment, {
    batch,
    patch,
    steps,
    warmup,
    uniform,
    profile: wantProfile
      ? async (session, plan) => {
          const prof = await session.exe.profile();
          const kinds = kernelKinds(plan, prof, batch * patch * patch);
          return { profiledStepMs: +prof.reduce((s, k) => s + k.ms, 0).toFixed(1), kinds };
        }
      : null,
  });
  const result = {
    ...r.timing,
    gflops: +(stepGflop / (r.timing.medianMs / 1e3)).toFixed(2),
    loss: r.loss,
    ...r.planFields,
    profile: r.profile,
    adapter: gpu.report.description,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  gpu.destroy();
  process.exit(0);
}
