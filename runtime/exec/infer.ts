// Whole-image inference (`mioc infer`): an experiment's model, or a bare SRResNet checkpoint (PyTorch/BasicSR
// state-dict names) whose configuration is read off its weight names and shapes and whose model is the stdlib's
// `SRResNet` declaration, as the pipelines use it: the .mio source is the only definition of a model.
import { checkFile } from "../../compiler/compile.js";
import { defaultStdlibRoot, type LoadedProgram } from "../../compiler/program.js";
import { type ExperimentSpec, evalTiling } from "../../compiler/schema/experiment.js";
import type { RgbImage } from "../data/image.js";
import { promptMaps } from "../data/prompts.js";
import { MioRuntimeError } from "../errors.js";
import { Classifier, type ClassifierModel } from "../eval/classifier.js";
import type { TensorMap } from "../interop/safetensors.js";
import type { Gpu } from "../webgpu/device.js";
import { AdapterLimitError } from "./fit.js";
import { ForwardPlan, InputSizeRefused, type Restored, restoreTiled, restoreWhole } from "./forward.js";

export type PromptKind = "none" | "explicit" | "adaptive";

export interface SRResNetConfig {
  /** Feature channels (BasicSR num_feat; 64 in the paper). */
  feat: number;
  /** Residual blocks (num_block; 16 in the paper). */
  blocks: number;
  prompt: PromptKind;
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
 * The experiment a bare SRResNet checkpoint stands for: the stdlib SRResNet (and FExt, wired to every site as
 * MiOIR's SRResNet_EP/AP are) with its configuration; `promptSize` is the side of an explicit prompt map.
 */
export function srresnetExperiment(
  cfg: SRResNetConfig,
  promptSize = 128,
): { program: LoadedProgram; spec: ExperimentSpec } {
  // Init does not matter (the weights replace it), but MiOIR's prompted variants keep PyTorch's outer init.
  const outer = cfg.prompt === "none" ? "kaiming0.1" : "pytorch";
  const maps = cfg.prompt === "explicit" ? `\n    maps random(size: ${promptSize}, seed: 0)` : "";
  const prompt =
    cfg.prompt === "none"
      ? ""
      : `prompt ${cfg.prompt} {\n    extractor FExt(nf: ${cfg.feat})\n    sites body.*, conv_hr, conv_last${maps}\n  }`;
  const text = `use stdlib/tasks
use stdlib/backbones/srresnet
use stdlib/prompts
experiment srresnet_weights {
  model SRResNet(feat: ${cfg.feat}, blocks: ${cfg.blocks}, outer_init: "${outer}")
  ${prompt}
  data { train "." }
  curriculum mixed { tasks sr; iters 1 }
}
`;
  const path = `${defaultStdlibRoot}/stdlib/srresnet-weights.mio`;
  const r = checkFile(path, { text });
  const spec = r.specs.get("srresnet_weights");
  if (!spec || r.diagnostics.some((d) => d.severity === "error")) {
    throw new MioRuntimeError(
      `cannot build SRResNet(feat: ${cfg.feat}, blocks: ${cfg.blocks}) from the weights: ${r.diagnostics.map((d) => d.message).join("; ")}`,
    );
  }
  return { program: r.program, spec };
}

/**
 * Restores one image with an experiment's model: RGB in [0, 1], NCHW, the network compiled for the image's size,
 * then clamp and round to 8 bits (BasicSR `tensor2img`), keeping the float output. An explicit-prompt model needs
 * `prompt` (its task's S×S map). An image too large for the adapter, or of a size the model cannot take, is
 * restored in evaluation's tiles instead (a size the checker verified), and `onNote` is told why.
 * @example const out = await restoreImage(gpu, program, spec, weights, img, maps.maps[taskIndex]);
 */
export async function restoreImage(
  gpu: Gpu,
  program: LoadedProgram,
  spec: ExperimentSpec,
  weights: TensorMap,
  img: RgbImage,
  prompt?: Float32Array,
  source = "the weights",
  onNote: (note: string) => void = () => {},
): Promise<Restored> {
  if (spec.prompt.kind === "explicit" && !prompt)
    throw new MioRuntimeError(`'${spec.name}' uses explicit prompts: give the task's prompt map`);
  let plan: ForwardPlan;
  try {
    plan = await ForwardPlan.create(gpu, program, spec, weights, { height: img.height, width: img.width }, source);
  } catch (e) {
    if (!(e instanceof AdapterLimitError || e instanceof InputSizeRefused)) throw e;
    const { tile, overlap } = evalTiling(spec);
    onNote(
      `the whole ${img.width}×${img.height} image cannot be restored at once (${e.message}); restoring it in ` +
        `${tile}×${tile} tiles overlapping by ${overlap} pixels, as evaluation does`,
    );
    const whole = spec.prompt.kind === "adaptive" ? { promptImage: { height: img.height, width: img.width } } : {};
    plan = await ForwardPlan.create(gpu, program, spec, weights, { height: tile, width: tile, ...whole }, source);
    try {
      return await restoreTiled(plan, img, tile, overlap, prompt);
    } finally {
      plan.destroy();
    }
  }
  try {
    return await restoreWhole(plan, img, prompt);
  } finally {
    plan.destroy();
  }
}

/**
 * An explicit-prompt model's prompt map for `img`: that of the named task (generated from the experiment's seed, as
 * training generates it), or with `task` "auto" that of the task `classifier` predicts among the model's.
 */
export async function taskPrompt(
  gpu: Gpu,
  program: LoadedProgram,
  spec: ExperimentSpec,
  img: RgbImage,
  task: string,
  classifier?: ClassifierModel,
): Promise<{ task: string; map: Float32Array; probability?: number } | undefined> {
  const maps = await promptMaps(spec);
  if (!maps) return undefined;
  const tasks = spec.tasks.map((t) => t.name);
  if (task !== "auto") return { task, map: maps.maps[tasks.indexOf(task)] as Float32Array };
  if (!classifier) throw new MioRuntimeError("--task auto needs a task classifier");
  const cls = await Classifier.create(gpu, program, spec, classifier);
  try {
    const p = await cls.predict(img, tasks);
    return { task: p.task, map: maps.maps[tasks.indexOf(p.task)] as Float32Array, probability: p.prob };
  } finally {
    cls.destroy();
  }
}
