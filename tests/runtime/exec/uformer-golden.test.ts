// stdlib's Uformer, lowered from its .mio source at a small configuration with every feature (embed 2, window 4,
// depths [1, 2, 1, 1, 2, 1, 1, 2, 1]: every level, plain and shifted windows, the bottleneck's one shifted window,
// modulators, LeFF; 64×64, batch 2), and Uformer_EP / Uformer_AP on it (five extractors F_ext_net1..5, nf 6, feeding
// the bottleneck, decoders 0-3 and the output projection; EP maps of 16×16), against PyTorch float64
// (scripts/fixtures/uformer_golden.py): the reference's parameter names and shapes, output, L1 loss, every parameter
// gradient on the CPU reference, and one compiled train-step plan on the device (output, loss, gradients, the AdamW
// step and the next loss). The checks are swinir-golden-suite.ts's. The device half needs MIO_SLOW_TESTS=1 (~800
// distinct kernels, 15+ minutes on a cold shader cache here; docs/compiler.md, "Uformer's layers").
import { describeSwinirGolden } from "./swinir-golden-suite.js";

const uformer = {
  source: "uformer.mio",
  size: 64,
  optimizer: { kind: "adamw", betas: [0.9, 0.99], eps: 1e-8, weightDecay: 0.02 },
  slowDevice: true,
} as const;

// Explicit prompts read the fixture's maps as `prompt`; adaptive ones read `lq` itself.
describeSwinirGolden([
  {
    ...uformer,
    label: "Uformer",
    fixture: "uformer_small.safetensors",
    experiment: "uformer_small",
    inputs: ["lq", "gt"],
  },
  {
    ...uformer,
    label: "Uformer_EP",
    fixture: "uformer_ep_small.safetensors",
    experiment: "uformer_small_ep",
    inputs: ["lq", "gt", "prompt"],
  },
  {
    ...uformer,
    label: "Uformer_AP",
    fixture: "uformer_ap_small.safetensors",
    experiment: "uformer_small_ap",
    inputs: ["lq", "gt"],
  },
]);
