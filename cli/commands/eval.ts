import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { stateNames } from "../../compiler/autodiff/optim.js";
import { initialParams } from "../../compiler/ir/builder.js";
import { lowerModel } from "../../compiler/lower/model.js";
import { type ExperimentSpec, isClassifier } from "../../compiler/spec/experiment.js";
import { Classifier, loadClassifier } from "../../runtime/eval/classifier.js";
import { evaluateClassifier } from "../../runtime/eval/classify.js";
import { evaluate } from "../../runtime/eval/evaluate.js";
import { readSafetensors } from "../../runtime/interop/safetensors.js";
import { accuracyTable, markdownTable, scoreTable } from "../../runtime/report/tables.js";
import { promptMaps } from "../../runtime/train/prompts.js";
import { acquireGpu } from "../../runtime/webgpu/device.js";
import { EXIT_USAGE, UsageError } from "../exit.js";
import { checkOrFail, printDiagnostics } from "./check.js";

/** A checkpoint folder (its state.safetensors) or a safetensors file of parameters with PyTorch names. */
export function weightsFile(path: string): string {
  if (!existsSync(path)) throw new UsageError(`no such checkpoint: ${path}`);
  if (!statSync(path).isDirectory()) return path;
  const inside = join(path, "state.safetensors");
  if (existsSync(inside)) return inside;
  const latest = join(path, "checkpoints", "latest");
  if (existsSync(latest))
    throw new UsageError(
      `${path} is a run folder`,
      `pass one of its checkpoints, e.g. ${join(path, "checkpoints", "<step-N>")}`,
    );
  throw new UsageError(`${path} holds no state.safetensors`);
}

/**
 * The experiment's parameters from a weights file or checkpoint folder, raw or their EMA, each checked against the
 * model's shape. With `rawIfNoEma`, a parameter without an EMA entry (a classifier.safetensors) takes its raw value.
 */
export async function readModelWeights(
  file: string,
  program: Parameters<typeof lowerModel>[0],
  spec: ExperimentSpec,
  which: "ema" | "raw",
  rawIfNoEma = false,
): Promise<Map<string, Float32Array>> {
  const { tensors } = await readSafetensors(weightsFile(file));
  // The parameter names and sizes the experiment's model needs (a tiny lowering; only names and shapes are used).
  const params = initialParams(lowerModel(program, spec, { batch: 1, height: 16, width: 16 }).b);
  const out = new Map<string, Float32Array>();
  for (const [name, init] of params) {
    const key = which === "ema" ? stateNames(name).ema : name;
    const t = tensors[key] ?? (rawIfNoEma ? tensors[name] : undefined);
    if (!t) throw new UsageError(`${file} has no '${key}'`, "is it a checkpoint of this experiment and profile?");
    if (t.data.length !== init.length)
      throw new UsageError(
        `'${name}' has ${t.data.length} values in ${file}; the model needs ${init.length}`,
        "check --profile",
      );
    out.set(name, t.data);
  }
  return out;
}

/**
 * Validates --classifier/--oracle-task against the spec and says plainly how explicit prompts will be picked at
 * test time (on stderr). Returns the classifier checkpoint to use, if any.
 */
export function checkPromptSelection(
  spec: ExperimentSpec,
  opts: { classifier?: string; oracleTask?: boolean },
): string | undefined {
  if (opts.classifier && opts.oracleTask) throw new UsageError("choose --classifier or --oracle-task, not both");
  if (spec.prompt.kind !== "explicit") {
    if (opts.classifier || opts.oracleTask)
      throw new UsageError(
        `--classifier and --oracle-task are for explicit prompts; '${spec.name}' has ${spec.prompt.kind === "none" ? "no prompt" : "adaptive prompts"}`,
      );
    return undefined;
  }
  if (opts.classifier && !existsSync(opts.classifier))
    throw new UsageError(
      `no such classifier checkpoint: ${opts.classifier}`,
      "train one: mioc run pipelines/classifier.mio",
    );
  const ckpt = opts.oracleTask ? undefined : (opts.classifier ?? spec.prompt.classifier?.weights ?? undefined);
  process.stderr.write(
    ckpt
      ? `explicit prompts at test time: the task classifier ${ckpt} picks each image's prompt\n`
      : opts.oracleTask
        ? "explicit prompts at test time: oracle (each image gets its true task's prompt), as --oracle-task asks\n"
        : "explicit prompts at test time: oracle (each image gets its true task's prompt), because no classifier " +
          "checkpoint was given (--classifier CKPT, or classifier_weights in the experiment's prompt)\n",
  );
  return ckpt;
}

export function registerEval(program: Command): void {
  program
    .command("eval")
    .description(
      "evaluate weights on an experiment's test sets and print the PSNR/SSIM table (a classifier's: its accuracy)",
    )
    .argument("<file>", "the .mio experiment (its model, prompts, test data and metrics)")
    .requiredOption("--weights <path>", "a checkpoint folder of 'mioc run', or a .safetensors of parameters")
    .option("--profile <name>", "apply a profile (the model must match the weights)")
    .option("--sets <names>", "comma-separated test set groups (in_dist,out_dist); default: the spec's")
    .option("--ema", "evaluate the EMA weights of a checkpoint (default: the spec's eval.weights)")
    .option("--raw", "evaluate the raw weights of a checkpoint")
    .option("--out <dir>", "cache folder for the built test sets", "runs")
    .option("--classifier <ckpt>", "explicit prompts: a task classifier checkpoint picks each test image's prompt")
    .option("--oracle-task", "explicit prompts: give each test image its true task's prompt")
    .action(
      async (
        file: string,
        opts: {
          weights: string;
          profile?: string;
          sets?: string;
          ema?: boolean;
          raw?: boolean;
          out: string;
          classifier?: string;
          oracleTask?: boolean;
        },
      ) => {
        const result = checkOrFail(file, opts.profile);
        if (printDiagnostics(result)) {
          process.exitCode = EXIT_USAGE;
          return;
        }
        const [spec, more] = [...result.specs.values()];
        if (!spec || more) throw new UsageError(`${file} must declare exactly one experiment`);
        if (opts.ema && opts.raw) throw new UsageError("choose --ema or --raw, not both");
        const which = opts.ema ? "ema" : opts.raw ? "raw" : spec.eval.weights;
        if (opts.sets) {
          const names = opts.sets.split(",").map((s) => s.trim());
          for (const n of names)
            if (n !== "in_dist" && n !== "out_dist")
              throw new UsageError(`unknown test set group '${n}'`, "use in_dist and/or out_dist");
          spec.eval.sets = names.map((name) => ({ name, path: null }));
        }
        if (isClassifier(spec) && (opts.classifier || opts.oracleTask))
          throw new UsageError(`${spec.name} is a task classifier: --classifier and --oracle-task are for EP models`);
        const classifierPath = checkPromptSelection(spec, opts);
        const weights = await readModelWeights(opts.weights, result.program, spec, which, true);
        const gpu = await acquireGpu();
        try {
          if (isClassifier(spec)) {
            // A classifier experiment: per-task accuracy on the test sets' LQ images.
            const r = await evaluateClassifier({
              gpu,
              program: result.program,
              spec,
              weights,
              cacheDir: join(opts.out, ".testsets"),
            });
            const run = {
              dir: opts.weights,
              id: spec.name,
              spec,
              metrics: { run: spec.name, name: spec.name, sets: {}, classifier_accuracy: r.accuracy },
              log: [],
            };
            const t = accuracyTable(run);
            if (t) process.stdout.write(`Task classifier accuracy (%, ${which} weights)\n${markdownTable(t)}\n\n`);
            return;
          }
          const prompts = await promptMaps(spec);
          const classifier = classifierPath
            ? await Classifier.create(
                gpu,
                result.program,
                spec,
                await loadClassifier(classifierPath, result.program, spec),
              )
            : undefined;
          const r = await evaluate({
            gpu,
            program: result.program,
            spec: { ...spec, eval: { ...spec.eval, weights: which } },
            weights,
            cacheDir: join(opts.out, ".testsets"),
            ...(prompts ? { prompts } : {}),
            ...(classifier ? { classifier } : {}),
          }).finally(() => classifier?.destroy());
          const run = {
            dir: opts.weights,
            id: spec.name,
            spec,
            metrics: {
              run: spec.name,
              name: spec.name,
              weights: which,
              sets: r.sets,
              ...(r.classifierAccuracy ? { classifier_accuracy: r.classifierAccuracy } : {}),
            },
            log: [],
          };
          for (const metric of ["psnr", "ssim"] as const) {
            const t = scoreTable(run, metric);
            if (t) process.stdout.write(`${metric.toUpperCase()} (${which} weights)\n${markdownTable(t)}\n\n`);
          }
          const acc = accuracyTable(run);
          if (acc) process.stdout.write(`Task classifier accuracy (%)\n${markdownTable(acc)}\n\n`);
        } finally {
          gpu.destroy();
        }
      },
    );
}
