// stdlib's whole Restormer — every encoder/decoder level, the refinement, both LayerNorm forms — and Restormer_EP /
// Restormer_AP (four extractors F_ext_net1..4, each feeding its own sites), lowered from .mio at a small configuration
// (dim 8, one block per level, one refinement block, heads 1/2/4/8, nf 6, 16×16, batch 2) against PyTorch float64
// (scripts/fixtures/restormer_golden.py): the reference's parameter names and shapes, output, L1 loss and every
// gradient on the CPU reference, and one compiled train-step plan on the device (output, loss, gradients, the AdamW
// step and the next loss). The checks are swinir-golden-suite.ts's, shared with SwinIR. The device half needs
// MIO_SLOW_TESTS=1: each variant's plan is ~470-550 distinct kernels, 4-8 minutes to compile on a cold shader cache
// here (docs/compiler.md, "Restormer's ops"); one Restormer block's device parity stays in npm test.
import { describeSwinirGolden } from "./swinir-golden-suite.js";

// The reference's recipe is AdamW without weight decay (docs/training.md).
const restormer = {
  source: "restormer.mio",
  slowDevice: true,
  optimizer: { kind: "adamw", betas: [0.9, 0.99], eps: 1e-8, weightDecay: 0 },
} as const;

// Explicit prompts read the fixture's maps as `prompt`; adaptive ones read `lq` itself.
describeSwinirGolden([
  {
    ...restormer,
    label: "Restormer",
    fixture: "restormer_plain_small.safetensors",
    experiment: "restormer_golden",
    inputs: ["lq", "gt"],
  },
  {
    ...restormer,
    label: "Restormer (BiasFree)",
    fixture: "restormer_bias_free_small.safetensors",
    experiment: "restormer_golden_bias_free",
    inputs: ["lq", "gt"],
  },
  {
    ...restormer,
    label: "Restormer_EP",
    fixture: "restormer_ep_small.safetensors",
    experiment: "restormer_golden_ep",
    inputs: ["lq", "gt", "prompt"],
  },
  {
    ...restormer,
    label: "Restormer_AP",
    fixture: "restormer_ap_small.safetensors",
    experiment: "restormer_golden_ap",
    inputs: ["lq", "gt"],
  },
]);
