// stdlib's SwinIR, lowered from its .mio source at a small configuration with every feature (embed 12, 2 groups of
// one plain and one shifted layer, 2 heads, window 4, 16×16, batch 2), against PyTorch float64
// (scripts/fixtures/swinir_golden.py): output, L1 loss, every parameter gradient on the CPU reference, and one
// compiled train-step plan on the device (output, loss, gradients, the Adam step and the next loss). The checks are
// swinir-golden-suite.ts's, shared with the prompted variants.
import { describeSwinirGolden } from "./swinir-golden-suite.js";

describeSwinirGolden([
  { label: "SwinIR", fixture: "swinir_small.safetensors", experiment: "swinir_small", inputs: ["lq", "gt"] },
]);
