// stdlib's Uformer, lowered from its .mio source at a small configuration with every feature (embed 2, window 4,
// depths [1, 2, 1, 1, 2, 1, 1, 2, 1]: every level, plain and shifted windows, the bottleneck's one shifted window,
// modulators, LeFF; 64×64, batch 2), against PyTorch float64 (scripts/fixtures/uformer_golden.py): output, L1 loss,
// every parameter gradient on the CPU reference, and one compiled train-step plan on the device (output, loss,
// gradients, the AdamW step and the next loss). The checks are swinir-golden-suite.ts's.
import { describeSwinirGolden } from "./swinir-golden-suite.js";

describeSwinirGolden([
  {
    label: "Uformer",
    fixture: "uformer_small.safetensors",
    experiment: "uformer_small",
    inputs: ["lq", "gt"],
    source: "uformer.mio",
    size: 64,
    optimizer: { kind: "adamw", betas: [0.9, 0.99], eps: 1e-8, weightDecay: 0.02 },
    slowDevice: true,
  },
]);
