// stdlib's SwinIR with every prompt site wired, as SwinIR_EP and SwinIR_AP (explicit 1-channel maps, or the input
// itself, through the extractor F_ext_net: SwinFExt), lowered from .mio at a small configuration with every feature
// (embed 12, 2 groups of one plain and one shifted layer, 2 heads, window 4, nf 6, 16×16, batch 2), against PyTorch
// float64 (scripts/fixtures/swinir_prompt_golden.py): the reference's parameter names and shapes, output, L1 loss and
// every gradient on the CPU reference, and one compiled train-step plan on the device (output, loss, gradients, the
// Adam step and the next loss). The checks are swinir-golden-suite.ts's, shared with plain SwinIR.
import { describeSwinirGolden } from "./swinir-golden-suite.js";

// Explicit prompts read the fixture's maps as `prompt`; adaptive ones read `lq` itself.
describeSwinirGolden([
  {
    label: "SwinIR_ep",
    fixture: "swinir_ep_small.safetensors",
    experiment: "swinir_small_ep",
    inputs: ["lq", "gt", "prompt"],
  },
  { label: "SwinIR_ap", fixture: "swinir_ap_small.safetensors", experiment: "swinir_small_ap", inputs: ["lq", "gt"] },
]);
