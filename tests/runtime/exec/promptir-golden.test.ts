// stdlib's PromptIR, lowered from its .mio source at a small configuration with every feature (dim 4, one block per
// level and one refinement block, the three prompt blocks resizing 16 -> 4, 5 -> 8 and not at all; 32×32, batch 2),
// against PyTorch float64 (scripts/fixtures/promptir_golden.py): output, L1 loss, every parameter gradient on the CPU
// reference, and one compiled train-step plan on the device (output, loss, gradients, one AdamW step with weight
// decay, the next loss). The checks are swinir-golden-suite.ts's.
import { describeSwinirGolden } from "./swinir-golden-suite.js";

describeSwinirGolden([
  {
    label: "PromptIR",
    fixture: "promptir_small.safetensors",
    experiment: "promptir_small",
    inputs: ["lq", "gt"],
    source: "promptir.mio",
    size: 32,
    optimizer: { kind: "adamw", betas: [0.9, 0.99], eps: 1e-8, weightDecay: 0.02 },
    slowDevice: true,
  },
]);
