// The bench's Restormer worker: the stdlib's Restormer (stdlib/backbones/restormer.mio, plain Restormer as MiOIR's
// Restormer-M trains it: no prompts, heads 1/2/4/8, GDFN 2.66, WithBias LayerNorm, no conv biases) through mio's
// compiled train-step plan on this machine's WebGPU device, by the path `mioc run` uses, as bench/mio-swinir.mjs does
// for SwinIR. bench/run.mjs starts it in its own process; the last stdout line is the result as JSON, progress goes to
// stderr. With --profile it also times every kernel alone and sums them by kind (bench/lib.mjs, kernelKinds).
// usage: node bench/mio-restormer.mjs train DIM L1 L2 L3 L4 REFINE BATCH PATCH STEPS WARMUP [--profile]
import { restormerFwdFlops } from "./lib.mjs";
import { backboneExperiment, runTrainWorker } from "./mio-train.mjs";

const [mode, ...rest] = process.argv.slice(2);
const nums = rest.filter((a) => !a.startsWith("--")).map(Number);
if (mode !== "train") throw new Error(`unknown mode '${mode}': train`);
const [dim, l1, l2, l3, l4, refinement, batch, patch, steps, warmup] = nums;

// `pad: 8` makes the model's pad_to the identity on the bench's crops (multiples of 8, bench/run.mjs checks), so mio
// trains the same network as the PyTorch peer, which has no test-time padding.
const args = `dim: ${dim}, l1: ${l1}, l2: ${l2}, l3: ${l3}, l4: ${l4}, refinement: ${refinement}`;
await runTrainWorker(backboneExperiment("restormer", `Restormer(${args}, ffn: 2.66, ln_with_bias: true, pad: 8)`), {
  batch,
  patch,
  steps,
  warmup,
  wantProfile: process.argv.includes("--profile"),
  stepGflop: (3 * restormerFwdFlops({ dim, l1, l2, l3, l4, refinement, batch, patch })) / 1e9,
});
