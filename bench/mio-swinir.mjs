// The bench's SwinIR worker: the stdlib's SwinIR (stdlib/backbones/swinir.mio, plain SwinIR as MiOIR trains it) through
// mio's compiled train-step plan on this machine's WebGPU device, by the path `mioc run` uses. bench/run.mjs starts
// it in its own process; the last stdout line is the result as JSON, progress goes to stderr. With --profile it also
// times every kernel alone and sums them by kind (docs/bench.md, "SwinIR's kernels").
// usage: node bench/mio-swinir.mjs train EMBED GROUPS DEPTH HEADS WINDOW BATCH PATCH STEPS WARMUP [--profile]
import { buildTrainStep } from "../dist/compiler/autodiff/optim.js";
import { checkFile } from "../dist/compiler/compile.js";
import { initialParams } from "../dist/compiler/ir/builder.js";
import { SequentialRng } from "../dist/compiler/ir/rng.js";
import { lowerModel } from "../dist/compiler/lower/model.js";
import { defaultStdlibRoot } from "../dist/compiler/program.js";
import { compileForDevice } from "../dist/runtime/exec/fit.js";
import { TrainSession } from "../dist/runtime/exec/train-session.js";
import { acquireGpu } from "../dist/runtime/webgpu/device.js";
import { kernelKinds, measure, swinirFwdFlops } from "./lib.mjs";

const [mode, ...rest] = process.argv.slice(2);
const nums = rest.filter((a) => !a.startsWith("--")).map(Number);
const wantProfile = process.argv.includes("--profile");
// SwinIR's options in MiOIR (Adam, lr 2e-4, betas 0.9/0.99); the PyTorch peer uses the same.
const OPT = { kind: "adam", betas: [0.9, 0.99], eps: 1e-8, weightDecay: 0 };
const LR = 2e-4;
if (mode !== "train") throw new Error(`unknown mode '${mode}': train`);
const [embed, groups, depth, heads, window, batch, patch, steps, warmup] = nums;

/** The stdlib SwinIR at this configuration, as an experiment of a one-line program (as srresnetExperiment does). */
function swinirExperiment() {
  const text = `use stdlib/tasks
use stdlib/backbones/swinir
experiment swinir_bench {
  model SwinIR(embed: ${embed}, groups: ${groups}, depth: ${depth}, heads: ${heads}, window: ${window})
  data { train "." }
  curriculum mixed { tasks sr; iters 1 }
}
`;
  const r = checkFile(`${defaultStdlibRoot}/stdlib/swinir-bench.mio`, { text });
  const spec = r.specs.get("swinir_bench");
  const errors = r.diagnostics.filter((d) => d.severity === "error");
  if (!spec || errors.length > 0) throw new Error(`SwinIR bench model: ${errors.map((d) => d.message).join("; ")}`);
  return { program: r.program, spec };
}

const gpu = await acquireGpu();
const rng = new SequentialRng(1);
const uniform = (n) => Float32Array.from({ length: n }, () => rng.next());

const { program, spec } = swinirExperiment();
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
let profile = null;
if (wantProfile) {
  const prof = await session.exe.profile();
  const kinds = kernelKinds(plan, prof, batch * patch * patch);
  profile = { profiledStepMs: +prof.reduce((s, k) => s + k.ms, 0).toFixed(1), kinds };
}
session.destroy();
const stepGflop = (3 * swinirFwdFlops({ embed, groups, depth, heads, window, batch, patch })) / 1e9;
const result = {
  ...timing,
  gflops: +(stepGflop / (timing.medianMs / 1e3)).toFixed(2),
  loss: last,
  kernels: plan.kernels.length,
  uniqueKernels: new Set(plan.kernels.map((k) => k.key)).size,
  peakMB: +(plan.peakBytes / 2 ** 20).toFixed(2),
  unplannedMB: +(plan.unplannedBytes / 2 ** 20).toFixed(2),
  compileMs: +compileMs.toFixed(1),
  createMs: +createMs.toFixed(1),
  profile,
  adapter: gpu.report.description,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
gpu.destroy();
process.exit(0);
