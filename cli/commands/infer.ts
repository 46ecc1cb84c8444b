import { existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Command } from "commander";
import { modelParamShapes } from "../../compiler/lower/model.js";
import { isClassifier } from "../../compiler/schema/experiment.js";
import { didYouMean } from "../../grammar/diagnostics.js";
import { checkImageOutputPath, readImage, realPathOf, writeImage } from "../../runtime/data/image.js";
import { loadClassifier } from "../../runtime/eval/classifier.js";
import type { Restored } from "../../runtime/exec/forward.js";
import { restoreImage, srresnetConfigFromWeights, srresnetExperiment, taskPrompt } from "../../runtime/exec/infer.js";
import { readModelWeights, selectWeights, weightsFile } from "../../runtime/exec/weights.js";
import { readSafetensors, writeSafetensors } from "../../runtime/interop/safetensors.js";
import { acquireGpu } from "../../runtime/webgpu/device.js";
import { EXIT_USAGE, UsageError } from "../exit.js";
import { checkOrFail, pickExperiment, printDiagnostics } from "./check.js";

interface InferOptions {
  weights: string;
  output: string;
  promptMap?: string;
  model?: string;
  profile?: string;
  experiment?: string;
  task?: string;
  classifier?: string;
  ema?: boolean;
}

/**
 * `mioc infer --weights W.safetensors IN.png -o OUT.png`: restore one image with an SRResNet checkpoint, or with
 * `--model FILE.mio` with that experiment's model; explicit prompts by `--task NAME`, or `--task auto` and a
 * classifier. `-o OUT.safetensors` writes the float output instead (tensor `out`, 3 x H x W, before clamping and
 * rounding), the form in which it can be compared with PyTorch's.
 */
export function registerInfer(cli: Command): void {
  cli
    .command("infer")
    .description(
      "restore one image with a checkpoint: an SRResNet (.safetensors with PyTorch/BasicSR names), or any experiment's model with --model",
    )
    .requiredOption("--weights <file>", "weights (.safetensors, or a checkpoint folder of 'mioc run' with --model)")
    .requiredOption(
      "-o, --output <file>",
      "output: .png, .jpg/.jpeg (quality 95) or .webp (lossless), 8-bit; or a .safetensors with the float output 'out' (3 x H x W, before clamp and rounding)",
    )
    .option("--model <file>", "the .mio experiment the weights belong to (its model and prompt wiring)")
    .option("--profile <name>", "with --model: apply a profile (the model must match the weights)")
    .option("--experiment <name>", "with --model: which experiment, when the file has several")
    .option(
      "--task <name>",
      "with --model, for explicit prompts: the task whose prompt map to use (generated from the experiment's seed, as in training), or 'auto' to let --classifier pick it",
    )
    .option("--classifier <ckpt>", "with --task auto: a task classifier checkpoint (classifier.safetensors)")
    .option("--ema", "with --model and a checkpoint folder: use the EMA weights")
    .option(
      "--prompt-map <file>",
      "without --model, for explicit-prompt models: a .safetensors with the task's map as 'map' (1 x h x w)",
    )
    .argument("<input>", "input image (PNG/JPEG/WebP)")
    .action(async (input: string, opts: InferOptions) => {
      checkOutput(input, opts);
      if (opts.model) {
        await inferWithModel(input, opts as InferOptions & { model: string });
        return;
      }
      for (const flag of ["task", "classifier", "profile", "experiment", "ema"] as const) {
        if (opts[flag] !== undefined)
          throw new UsageError(
            `--${flag} needs --model FILE.mio`,
            "the experiment gives the model, its tasks and the seed its prompt maps come from",
          );
      }
      const file = weightsFile(opts.weights);
      const { tensors } = await readSafetensors(file);
      let promptMap: { size: number; data: Float32Array } | undefined;
      if (opts.promptMap) {
        const map = (await readSafetensors(opts.promptMap)).tensors.map;
        if (!map) throw new UsageError(`'${opts.promptMap}' has no tensor named 'map'`);
        promptMap = { size: map.shape[map.shape.length - 1] ?? 0, data: map.data };
      }
      const cfg = srresnetConfigFromWeights(tensors);
      if (cfg.prompt === "explicit" && !promptMap)
        throw new UsageError(
          "this checkpoint uses explicit prompts: give the task's prompt map",
          "--prompt-map MAP.safetensors",
        );
      const { program, spec } = srresnetExperiment(cfg, promptMap?.size);
      // Names, shapes and finite values, checked before a GPU is asked for (restoreImage checks them again).
      selectWeights(tensors, modelParamShapes(program, spec), "raw", file);
      const img = await readImage(input);
      const gpu = await acquireGpu();
      try {
        const restored = await restoreImage(gpu, program, spec, tensors, img, promptMap?.data, file, note);
        await writeRestored(opts.output, restored);
      } finally {
        gpu.destroy();
      }
    });
}

/**
 * Refuses, before any work, an output that `writeRestored` cannot write (an unknown extension) or that is one of the
 * command's inputs (the image, the weights, a prompt map or classifier): it would be overwritten. Symlinks resolved.
 */
function checkOutput(input: string, opts: InferOptions): void {
  if (!opts.output.toLowerCase().endsWith(".safetensors"))
    checkImageOutputPath(opts.output, ", or .safetensors for the float output");
  const folder = dirname(opts.output);
  if (!existsSync(folder) || !statSync(folder).isDirectory())
    throw new UsageError(`cannot write '${opts.output}': the folder '${folder}' does not exist`, "create it first");
  const out = realPathOf(opts.output);
  const inputs: [string, string | undefined][] = [
    ["input image", input],
    ["weights", opts.weights],
    ["weights", opts.weights ? join(opts.weights, "state.safetensors") : undefined],
    ["prompt map", opts.promptMap],
    ["classifier", opts.classifier],
    ["classifier", opts.classifier ? join(opts.classifier, "classifier.safetensors") : undefined],
    ["classifier", opts.classifier ? join(opts.classifier, "state.safetensors") : undefined],
  ];
  for (const [what, path] of inputs)
    if (path !== undefined && realPathOf(path) === out)
      throw new UsageError(
        `output '${opts.output}' is the ${what} '${path}': it would be overwritten`,
        "choose another -o",
      );
}

/** A note on stderr: what infer did differently from what was asked, and why. */
const note = (text: string) => process.stderr.write(`mioc: note: ${text}\n`);

/** Writes an image (PNG/JPEG/WebP by extension), or for `.safetensors` the float output as `out` (3 x H x W). */
async function writeRestored(path: string, r: Restored): Promise<void> {
  if (!path.toLowerCase().endsWith(".safetensors")) return writeImage(path, r);
  await writeSafetensors(path, { out: { shape: [3, r.height, r.width], data: r.chw } }, { layout: "CHW" });
}

async function inferWithModel(input: string, opts: InferOptions & { model: string }): Promise<void> {
  if (opts.promptMap) throw new UsageError("--prompt-map is for --weights without --model; with --model use --task");
  const result = checkOrFail(opts.model, opts.profile);
  if (printDiagnostics(result)) {
    process.exitCode = EXIT_USAGE;
    return;
  }
  const spec = pickExperiment(result, opts.model, opts.experiment);
  if (isClassifier(spec))
    throw new UsageError(`${spec.name} is a task classifier, not a restoration model`, "pass it as --classifier");
  const tasks = spec.tasks.map((t) => t.name);
  if (spec.prompt.kind !== "explicit") {
    if (opts.task || opts.classifier)
      throw new UsageError(
        `--task and --classifier are for explicit prompts; '${spec.name}' has ${spec.prompt.kind === "none" ? "no prompt" : "adaptive prompts (the input is the prompt)"}`,
      );
  } else if (!opts.task) {
    throw new UsageError(
      `'${spec.name}' uses explicit prompts: name the task with --task`,
      `its tasks: ${tasks.join(", ")}; or --task auto with --classifier CKPT`,
    );
  } else if (opts.task !== "auto" && !tasks.includes(opts.task)) {
    throw new UsageError(
      `unknown task '${opts.task}' for '${spec.name}'`,
      didYouMean(opts.task, tasks) ?? `its tasks: ${tasks.join(", ")}, or auto`,
    );
  }
  const classifierPath = opts.classifier ?? spec.prompt.classifier?.weights ?? undefined;
  if (opts.task === "auto" && !classifierPath)
    throw new UsageError(
      "--task auto needs a task classifier",
      "pass --classifier CKPT (mioc run pipelines/classifier.mio)",
    );
  if (opts.classifier && opts.task !== "auto")
    throw new UsageError("--classifier is used with --task auto", "drop it, or pass --task auto");

  const weights = await readModelWeights(opts.weights, result.program, spec, opts.ema ? "ema" : "raw");
  const img = await readImage(input);
  const gpu = await acquireGpu();
  try {
    const classifier =
      opts.task === "auto" ? await loadClassifier(classifierPath as string, result.program, spec) : undefined;
    const pick = opts.task ? await taskPrompt(gpu, result.program, spec, img, opts.task, classifier) : undefined;
    if (pick?.probability !== undefined)
      process.stdout.write(`predicted task: ${pick.task} (probability ${pick.probability.toFixed(3)})\n`);
    const prompt = pick?.map;
    const restored = await restoreImage(gpu, result.program, spec, weights, img, prompt, opts.weights, note);
    await writeRestored(opts.output, restored);
  } finally {
    gpu.destroy();
  }
}
