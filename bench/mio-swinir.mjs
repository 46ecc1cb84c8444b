// The bench's SwinIR worker: the stdlib's SwinIR (stdlib/backbones/swinir.mio, plain SwinIR as MiOIR trains it) through
// mio's compiled train-step plan on this machine's WebGPU device, by the path `mioc run` uses. bench/run.mjs starts
// it in its own process; the last stdout line is the result as JSON, progress goes to stderr. With --profile it also
// times every kernel alone and sums them by kind (docs/bench.md, "SwinIR's kernels").
// usage: node bench/mio-swinir.mjs train EMBED GROUPS DEPTH HEADS WINDOW BATCH PATCH STEPS WARMUP [--profile]
import { checkFile } from "../dist/compiler/compile.js";
import { SequentialRng } from "../dist/compiler/ir/rng.js";
import { defaultStdlibRoot } from "../dist/compiler/program.js";
import { acquireGpu } from "../dist/runtime/webgpu/device.js";
import { kernelKinds, swinirFwdFlops } from "./lib.mjs";
import { timeTrainSteps } from "./mio-train.mjs";

const [mode, ...rest] = process.argv.slice(2);
const nums = rest.filter((a) => !a.startsWith("--")).map(Number);
const wantProfile = process.argv.includes("--profile");
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

const r = await timeTrainSteps(gpu, swinirExperiment(), {
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
const stepGflop = (3 * swinirFwdFlops({ embed, groups, depth, heads, window, batch, patch })) / 1e9;
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
