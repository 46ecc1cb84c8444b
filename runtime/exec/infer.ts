// Whole-image inference with an SRResNet checkpoint: the model configuration is read off the weight names and
// shapes (BasicSR/PyTorch state-dict names), a forward-only plan is compiled for the image's size and run once.
import type { SRResNetConfig } from "../../compiler/models/srresnet.js";
import { buildSRResNet } from "../../compiler/models/srresnet.js";
import { compileProgram } from "../../compiler/passes/pipeline.js";
import { toPlanes } from "../data/degrade/common.js";
import type { RgbImage } from "../data/image.js";
import { MioRuntimeError } from "../errors.js";
import type { TensorMap } from "../interop/safetensors.js";
import type { Gpu } from "../webgpu/device.js";
import { Executor } from "./executor.js";

/** A restored image, and the network's float output it was rounded from. */
export interface Restored extends RgbImage {
  /** (3, H, W) floats before clamping and rounding (what PyTorch's model returns). */
  readonly chw: Float32Array;
}

/** The network's (3, H, W) output clamped and rounded to 8 bits (BasicSR `tensor2img`), keeping the floats. */
export function chwToImage(chw: Float32Array, width: number, height: number): Restored {
  const n = width * height;
  const data = new Uint8Array(3 * n);
  for (let i = 0; i < n; i++)
    for (let c = 0; c < 3; c++) data[i * 3 + c] = Math.round(Math.min(1, Math.max(0, chw[c * n + i] ?? 0)) * 255);
  return { width, height, data, chw };
}

/** Reads feat, blocks and the prompt kind off an SRResNet state dict. */
export function srresnetConfigFromWeights(w: TensorMap): SRResNetConfig {
  const first = w["conv_first.weight"];
  if (!first) throw new MioRuntimeError("the weights have no 'conv_first.weight': not an SRResNet checkpoint");
  let blocks = 0;
  while (w[`body.${blocks}.conv1.weight`]) blocks++;
  const pe = w["prompt_extractor.1.weight"];
  const prompt = !pe ? "none" : pe.shape[1] === 3 ? "adaptive" : "explicit";
  return { feat: first.shape[0] ?? 0, blocks, prompt };
}

/**
 * Restores one image: RGB in [0, 1], NCHW, the network, then clamp and round to 8 bits (BasicSR `tensor2img`);
 * `chw` keeps the float output.
 * An explicit-prompt model needs `promptMap` (1 x h x w values, e.g. one of MiOIR's type7 maps).
 * @example const out = await restoreImage(gpu, (await readSafetensors("w.safetensors")).tensors, img);
 */
export async function restoreImage(
  gpu: Gpu,
  weights: TensorMap,
  img: RgbImage,
  promptMap?: { size: number; data: Float32Array },
): Promise<Restored> {
  const cfg = srresnetConfigFromWeights(weights);
  if (cfg.prompt === "explicit" && !promptMap) {
    throw new MioRuntimeError("this checkpoint uses explicit prompts: give the task's prompt map");
  }
  const { width: W, height: H } = img;
  const { b, out } = buildSRResNet({ ...cfg, batch: 1, height: H, width: W, promptSize: promptMap?.size ?? 128 });
  const plan = compileProgram(
    { g: b.g, outputs: new Map([["out", out]]), updates: [] },
    {
      maxBindings: gpu.device.limits.maxStorageBuffersPerShaderStage,
      maxBindingBytes: gpu.device.limits.maxStorageBufferBindingSize,
    },
  );
  const exe = await Executor.create(gpu, plan);
  try {
    for (const p of b.paramList()) {
      const t = weights[p.name];
      if (!t) throw new MioRuntimeError(`the weights have no '${p.name}'`);
      if (t.shape.join() !== p.node.shape.join()) {
        throw new MioRuntimeError(`'${p.name}' has shape [${t.shape}], the model expects [${p.node.shape}]`);
      }
      exe.write(p.name, t.data);
    }
    exe.write("lq", toPlanes(img));
    if (promptMap && plan.inputs.prompt) exe.write("prompt", promptMap.data);
    const y = (await gpu.scoped("running SRResNet inference", () => exe.run(["out"]))).out ?? new Float32Array();
    return chwToImage(y, W, H);
  } finally {
    exe.destroy();
  }
}
