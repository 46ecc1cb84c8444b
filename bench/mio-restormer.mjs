// The bench's Restormer worker: the stdlib's Restormer (stdlib/backbones/restormer.mio, plain Restormer as MiOIR's
// Restormer-M trains it: no prompts, heads 1/2/4/8, GDFN 2.66, WithBias LayerNorm, no conv biases) through mio's
// compiled train-step plan on this machine's WebGPU device, by the path `mioc run` uses, as bench/mio-swinir.mjs does
// for SwinIR. bench/run.mjs starts it in its own process; the last stdout line is the result as JSON, progress goes to
// stderr. With --profile it also times every kernel alone and sums them by kind (bench/lib.mjs, kernelKinds).
// usage: node bench/mio-restormer.mjs train DIM L1 L2 L3 L4 REFINE BATCH PATCH STEPS WARMUP [--profile]
import { checkFile } from "../dist/compiler/compile.js";
import { SequentialRng } from "../dist/compiler/ir/rng.js";
import { defaultStdlibRoot } from "../dist/compiler/program.js";
import { acquireGpu } from "../dist/runtime/webgpu/device.js";
import { kernelKinds, restormerFwdFlops } from "./lib.mjs";
import { timeTrainSteps } from "./mio-train.mjs";

const [mode, ...rest] = process.argv.slice(2);
const nums = rest.filter((a) => !a.startsWith("--")).map(Number);
const wantProfile = process.argv.includes("--profile");
if (mode !== "train") throw new Error(`unknown mode '${mode}': train`);
const [dim, l1, l2, l3, l4, refinement, batch, patch, steps, warmup] = nums;

/**
 * The stdlib Restormer at this configuration, as an experiment of a one-line program (as mio-swinir.mjs does). `pad:
 * 8` makes its pad_to the identity on the bench's crops (multiples of 8, bench/run.mjs checks), so mio trains the
 * same network as the PyTorch peer, which has no test-time padding.
 */
function restormerExperiment() {
  const args = `dim: ${dim}, l1: ${l1}, l2: ${l2}, l3: ${l3}, l4: ${l4}, refinement: ${refinement}`;
  const text = `use stdlib/tasks
use stdlib/backbones/restormer
experiment restormer_bench {
  model Restormer(${args}, ffn: 2.66, ln_with_bias: true, pad: 8)
  data { train "." }
  curriculum mixed { tasks sr; iters 1 }
}
`;
  const r = checkFile(`${defaultStdlibRoot}/stdlib/restormer-bench.mio`, { text });
  const spec = r.specs.get("restormer_bench");
  const errors = r.diagnostics.filter((d) => d.severity === "error");
  if (!spec || errors.length > 0) throw new Error(`Restormer bench model: ${errors.map((d) => d.message).join("; ")}`);
  return { program: r.program, spec };
}

const gpu = await acquireGpu();
const rng = new SequentialRng(1);
const uniform = (n) => Float32Array.from({ length: n }, () => rng.next());

const r = await timeTrainSteps(gpu, restormerExperiment(), {
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
const stepGflop = (3 * restormerFwdFlops({ dim, l1, l2, l3, l4, refinement, batch, patch })) / 1e9;
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
