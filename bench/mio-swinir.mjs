// The bench's SwinIR worker: the stdlib's SwinIR (stdlib/backbones/swinir.mio, plain SwinIR as MiOIR trains it) through
// mio's compiled train-step plan on this machine's WebGPU device, by the path `mioc run` uses. bench/run.mjs starts
// it in its own process; the last stdout line is the result as JSON, progress goes to stderr. With --profile it also
// times every kernel alone and sums them by kind (docs/bench.md, "SwinIR's kernels").
// usage: node bench/mio-swinir.mjs train EMBED GROUPS DEPTH HEADS WINDOW BATCH PATCH STEPS WARMUP [--profile]
import { swinirFwdFlops } from "./lib.mjs";
import { backboneExperiment, runTrainWorker } from "./mio-train.mjs";

const [mode, ...rest] = process.argv.slice(2);
const nums = rest.filter((a) => !a.startsWith("--")).map(Number);
if (mode !== "train") throw new Error(`unknown mode '${mode}': train`);
const [embed, groups, depth, heads, window, batch, patch, steps, warmup] = nums;

const args = `embed: ${embed}, groups: ${groups}, depth: ${depth}, heads: ${heads}, window: ${window}`;
await runTrainWorker(backboneExperiment("swinir", `SwinIR(${args})`), {
  batch,
  patch,
  steps,
  warmup,
  wantProfile: process.argv.includes("--profile"),
  stepGflop: (3 * swinirFwdFlops({ embed, groups, depth, heads, window, batch, patch })) / 1e9,
});
