import type { Command } from "commander";
import { readImage, writePng } from "../../runtime/data/image.js";
import { restoreImage } from "../../runtime/exec/infer.js";
import { readSafetensors, writeSafetensors } from "../../runtime/interop/safetensors.js";
import { acquireGpu } from "../../runtime/webgpu/device.js";
import { UsageError } from "../exit.js";

/**
 * `mioc infer --weights W.safetensors IN.png -o OUT.png`: restore one image with an SRResNet checkpoint.
 * `-o OUT.safetensors` writes the float output instead (tensor `out`, 3 x H x W, before clamping and rounding),
 * the form in which it can be compared with PyTorch's.
 */
export function registerInfer(program: Command): void {
  program
    .command("infer")
    .description("restore one image with an SRResNet checkpoint (.safetensors with PyTorch/BasicSR names)")
    .requiredOption("--weights <file>", "weights (.safetensors)")
    .requiredOption(
      "-o, --output <file>",
      "output: a PNG (8-bit), or a .safetensors with the float output 'out' (3 x H x W, before clamp and rounding)",
    )
    .option(
      "--prompt-map <file>",
      "for explicit-prompt models: a .safetensors with the task's map as 'map' (1 x h x w)",
    )
    .argument("<input>", "input image (PNG/JPEG/WebP)")
    .action(async (input: string, opts: { weights: string; output: string; promptMap?: string }) => {
      const { tensors } = await readSafetensors(opts.weights);
      let promptMap: { size: number; data: Float32Array } | undefined;
      if (opts.promptMap) {
        const map = (await readSafetensors(opts.promptMap)).tensors.map;
        if (!map) throw new UsageError(`'${opts.promptMap}' has no tensor named 'map'`);
        promptMap = { size: map.shape[map.shape.length - 1] ?? 0, data: map.data };
      }
      const gpu = await acquireGpu();
      try {
        const restored = await restoreImage(gpu, tensors, await readImage(input), promptMap);
        if (opts.output.toLowerCase().endsWith(".safetensors")) {
          const shape = [3, restored.height, restored.width];
          await writeSafetensors(opts.output, { out: { shape, data: restored.chw } }, { layout: "CHW" });
        } else {
          await writePng(opts.output, restored);
        }
      } finally {
        gpu.destroy();
      }
    });
}
