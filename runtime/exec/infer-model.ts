// Whole-image inference with an experiment's model (`mioc infer --model FILE.mio`): the .mio lowering, so any
// backbone and prompt wiring the compiler supports, with the explicit prompt map of a named task generated exactly
// as training generates it (runtime/train/prompts.ts), or picked by the task classifier.
import { lowerModel } from "../../compiler/lower/model.js";
import { compileProgram } from "../../compiler/passes/pipeline.js";
import type { Program as LoadedProgram } from "../../compiler/program.js";
import type { ExperimentSpec } from "../../compiler/spec/experiment.js";
import { toPlanes } from "../data/degrade/common.js";
import type { RgbImage } from "../data/image.js";
import { MioRuntimeError } from "../errors.js";
import type { Gpu } from "../webgpu/device.js";
import { Executor } from "./executor.js";
import { chwToImage, type Restored } from "./infer.js";

/**
 * Restores one image with an experiment's model: RGB in [0, 1], NCHW, the network, then clamp and round to 8 bits
 * (BasicSR `tensor2img`), keeping the float output. `weights` holds every parameter by name; an explicit-prompt
 * model needs `prompt` (its task's S×S map).
 * @example const out = await restoreWithModel(gpu, program, spec, weights, img, maps.maps[taskIndex]);
 */
export async function restoreWithModel(
  gpu: Gpu,
  program: LoadedProgram,
  spec: ExperimentSpec,
  weights: ReadonlyMap<string, Float32Array>,
  img: RgbImage,
  prompt?: Float32Array,
): Promise<Restored> {
  const { width: W, height: H } = img;
  const model = lowerModel(program, spec, { batch: 1, height: H, width: W });
  if (model.prompt && !prompt) throw new MioRuntimeError(`'${spec.name}' uses explicit prompts: name the task`);
  const plan = compileProgram(
    { g: model.b.g, outputs: new Map([["out", model.out]]), updates: [] },
    {
      maxBindings: gpu.device.limits.maxStorageBuffersPerShaderStage,
      maxBindingBytes: gpu.device.limits.maxStorageBufferBindingSize,
    },
  );
  const exe = await Executor.create(gpu, plan);
  try {
    for (const [name, value] of weights) exe.write(name, value);
    exe.write("lq", toPlanes(img));
    if (model.prompt && prompt) exe.write("prompt", prompt);
    const y = (await gpu.scoped(`running ${spec.model.name} inference`, () => exe.run(["out"]))).out;
    return chwToImage(y ?? new Float32Array(3 * H * W), W, H);
  } finally {
    exe.destroy();
  }
}
