// What the bench's mio workers (bench/mio-srresnet.mjs, bench/mio-swinir.mjs) share: timing a model's training step
// through the compiled train-step plan `mioc run` uses, and the plan's figures every mio result reports.
import { buildTrainStep } from "../dist/compiler/autodiff/optim.js";
import { initialParams } from "../dist/compiler/ir/builder.js";
import { lowerModel } from "../dist/compiler/lower/model.js";
import { compileForDevice } from "../dist/runtime/exec/fit.js";
import { TrainSession } from "../dist/runtime/exec/train-session.js";
import { measure } from "./lib.mjs";

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
