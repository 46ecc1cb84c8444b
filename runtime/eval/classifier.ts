// The task classifier at test time (docs/training.md, "The task classifier and explicit prompts at test time"): a
// backbone that returns one score per task, run on the whole LQ image; the argmax picks the task, and so the
// explicit prompt map of an EP model. Its checkpoints carry their backbone, arguments and class names (safetensors
// metadata), so they can be used without their experiment.
import { existsSync } from "node:fs";
import type { Scalar } from "../../compiler/check/builtins.js";
import { lowerModel } from "../../compiler/lower/model.js";
import type { LoadedProgram } from "../../compiler/program.js";
import { type ExperimentSpec, isClassifier } from "../../compiler/schema/experiment.js";
import { toPlanes } from "../data/degrade/common.js";
import type { RgbImage } from "../data/image.js";
import { MioInputError, MioRuntimeError } from "../errors.js";
import { ForwardPlans } from "../exec/forward.js";
import { selectWeights, weightsFile } from "../exec/weights.js";
import { readSafetensors, type TensorMap, writeSafetensors } from "../interop/safetensors.js";
import type { Accuracy, Confusion } from "../run-folder.js";
import type { Gpu } from "../webgpu/device.js";

/** Why an EP model's Unknown sets go unevaluated under oracle selection (said on stderr and in its report). */
export const UNKNOWN_NEEDS_CLASSIFIER =
  "the Unknown sets have no true task, so only a task classifier can pick their explicit prompts: they are left out";

/** The reference classifier's label order (blur 0, noise 1, ..., sr 6; docs/training.md), for checkpoints
 * without one. */
export const REFERENCE_LABELS = ["blur", "noise", "jpeg", "rain", "haze", "dark", "sr"] as const;

/** The metadata key under which a classifier's backbone, arguments and class names travel in its safetensors. */
const META_KEY = "mio.classifier";

export interface ClassifierModel {
  /** The backbone to lower (it must be declared in, or used by, the experiment's file). */
  call: { name: string; args: Record<string, Scalar> };
  /** Class k's task name. */
  classes: string[];
  /** Parameter values (and shapes) by name. */
  weights: TensorMap;
  /** Where the weights came from (for messages and reports). */
  source: string;
}

export interface Prediction {
  task: string;
  /** The classifier's output for that task (a softmax probability for TaskClassifier). */
  prob: number;
  /** Every class's output, in class order. */
  probs: Float32Array;
}

/** The experiment's spec with the classifier as its model and no prompt: what `lowerModel` needs to build it. */
function classifierSpec(base: ExperimentSpec, call: ClassifierModel["call"]): ExperimentSpec {
  return {
    ...base,
    model: { name: call.name, args: call.args, params: 0, sites: [] },
    prompt: { kind: "none", sites: [], modulationParams: 0 },
  };
}

/** The classifier's parameter shapes and class count (its two k3 s3 convs need inputs of 9 pixels or more). */
function expectedParams(program: LoadedProgram, base: ExperimentSpec, call: ClassifierModel["call"]) {
  const m = lowerModel(program, classifierSpec(base, call), { batch: 1, height: 64, width: 64 });
  return { params: new Map(m.b.paramList().map((p) => [p.name, p.node.shape])), classes: m.out.shape[1] ?? 0 };
}

const callText = (c: ClassifierModel["call"]) =>
  `${c.name}(${Object.entries(c.args)
    .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
    .join(", ")})`;

/**
 * Reads a classifier checkpoint: the `classifier.safetensors` a classifier run leaves (or its run folder), a
 * checkpoint folder of that run, or a safetensors of parameters with PyTorch names (the reference's label order is
 * assumed without metadata). Every parameter of the backbone must be there with its shape.
 * @example const c = await loadClassifier("runs/classifier-…/classifier.safetensors", program, spec);
 */
export async function loadClassifier(
  path: string,
  program: LoadedProgram,
  base: ExperimentSpec,
): Promise<ClassifierModel> {
  // A classifier run leaves classifier.safetensors; its checkpoint folders hold state.safetensors.
  const file = weightsFile(
    path,
    ["classifier.safetensors", "state.safetensors"],
    "classifier checkpoint",
    "pass the classifier.safetensors of a classifier run ('mioc run pipelines/classifier.mio')",
  );
  const { tensors, metadata } = await readSafetensors(file).catch((e: Error) => {
    throw new MioInputError(`cannot read the classifier checkpoint '${file}': ${e.message}`);
  });
  let meta: { backbone?: string; args?: Record<string, Scalar>; classes?: string[] } = {};
  if (metadata[META_KEY]) meta = JSON.parse(metadata[META_KEY]) as typeof meta;
  const declared = base.prompt.classifier;
  const call = meta.backbone
    ? { name: meta.backbone, args: meta.args ?? {} }
    : declared
      ? { name: declared.name, args: declared.args }
      : { name: "TaskClassifier", args: { width: 128, classes: 7 } };
  const decl = program.root.scope.get(call.name);
  if (decl?.kind !== "backbone") {
    throw new MioRuntimeError(
      `the classifier checkpoint '${file}' is a ${call.name}, which the experiment's file does not declare`,
      call.name === "TaskClassifier" ? "add `use stdlib/prompts` to the experiment's file" : undefined,
    );
  }
  const { params, classes: k } = expectedParams(program, base, call);
  const classes = meta.classes ?? (k === REFERENCE_LABELS.length ? [...REFERENCE_LABELS] : undefined);
  if (!classes || classes.length !== k) {
    throw new MioRuntimeError(
      `the classifier checkpoint '${file}' does not say which task each of its ${k} classes is`,
      "use the classifier.safetensors a classifier run ('mioc run pipelines/classifier.mio') writes",
    );
  }
  const weights = selectWeights(tensors, params, "raw", `the classifier checkpoint '${file}'`, false, callText(call));
  return { call, classes, weights, source: file };
}

/**
 * Writes the weights a classifier run evaluated as one safetensors file whose metadata names its backbone,
 * arguments and classes, so `--classifier FILE` rebuilds it without its experiment.
 * @example await writeClassifier(join(runDir, "classifier.safetensors"), spec, weights);
 */
export async function writeClassifier(path: string, spec: ExperimentSpec, weights: TensorMap): Promise<void> {
  const meta = { backbone: spec.model.name, args: spec.model.args, classes: spec.tasks.map((t) => t.name) };
  await writeSafetensors(path, weights, { format: "mio-classifier", [META_KEY]: JSON.stringify(meta) });
}

/**
 * A classifier ready to run on whole images (test images differ in size: one plan per size).
 * @example const cls = await Classifier.create(gpu, program, spec, model); (await cls.predict(img)).task
 */
export class Classifier {
  private readonly plans: ForwardPlans;
  constructor(
    gpu: Gpu,
    program: LoadedProgram,
    base: ExperimentSpec,
    readonly model: ClassifierModel,
  ) {
    this.plans = new ForwardPlans(gpu, program, classifierSpec(base, model.call), model.weights, model.source);
  }

  static async create(gpu: Gpu, program: LoadedProgram, base: ExperimentSpec, model: ClassifierModel) {
    return new Classifier(gpu, program, base, model);
  }

  /** The classifier's output for the whole image (RGB in [0, 1], as in training). */
  async scores(img: RgbImage): Promise<Float32Array> {
    const plan = await this.plans.get({ height: img.height, width: img.width });
    return plan.run(toPlanes(img));
  }

  /**
   * The predicted task: the argmax over the classes, or over those in `among` (an EP model can only use the
   * prompt of a task it was trained on).
   */
  async predict(img: RgbImage, among?: readonly string[]): Promise<Prediction> {
    const probs = await this.scores(img);
    let best = -1;
    this.model.classes.forEach((task, k) => {
      if (among && !among.includes(task)) return;
      if (best < 0 || (probs[k] ?? 0) > (probs[best] ?? 0)) best = k;
    });
    if (best < 0) {
      throw new MioRuntimeError(
        `the classifier knows none of the model's tasks (${among?.join(", ")}); its classes: ${this.model.classes.join(", ")}`,
      );
    }
    return { task: this.model.classes[best] as string, prob: probs[best] ?? 0, probs };
  }

  destroy(): void {
    this.plans.destroy();
  }
}

/** Counts the prediction `predicted` for an image of `task` in `set` (the confusion matrix, per set). */
export function tally(confusion: Confusion, set: string, task: string, predicted: string): void {
  const rows: Record<string, Record<string, number>> = confusion[set] ?? {};
  confusion[set] = rows;
  const row: Record<string, number> = rows[task] ?? {};
  rows[task] = row;
  row[predicted] = (row[predicted] ?? 0) + 1;
}

/** From the confusion matrix: per set and task, the images (a row's sum) and the fraction predicted right. */
export function accuracyOf(confusion: Confusion): { accuracy: Accuracy; images: Accuracy } {
  const [accuracy, images]: [Accuracy, Accuracy] = [{}, {}];
  for (const [set, rows] of Object.entries(confusion)) {
    const [a, n]: [Record<string, number>, Record<string, number>] = [{}, {}];
    for (const [task, row] of Object.entries(rows)) {
      n[task] = Object.values(row).reduce((s, k) => s + k, 0);
      a[task] = (row[task] ?? 0) / (n[task] as number);
    }
    [accuracy[set], images[set]] = [a, n];
  }
  return { accuracy, images };
}

/**
 * How an explicit-prompt model's test images get their prompts: the classifier checkpoint `classifier` (else the
 * experiment's `classifier_weights`) picks each one, or with `oracleTask` (or no checkpoint) each image gets its
 * true task's. `note` says which, for people; the flags are refused where they mean nothing.
 */
export function promptSelection(
  spec: ExperimentSpec,
  opts: { classifier?: string | undefined; oracleTask?: boolean | undefined },
): { classifier?: string; note?: string } {
  if (opts.classifier && opts.oracleTask) throw new MioInputError("choose --classifier or --oracle-task, not both");
  if (isClassifier(spec) && (opts.classifier || opts.oracleTask))
    throw new MioInputError(`${spec.name} is a task classifier: --classifier and --oracle-task are for EP models`);
  if (spec.prompt.kind !== "explicit") {
    if (opts.classifier || opts.oracleTask)
      throw new MioInputError(
        `--classifier and --oracle-task are for explicit prompts; '${spec.name}' has ${spec.prompt.kind === "none" ? "no prompt" : "adaptive prompts"}`,
      );
    return {};
  }
  if (opts.classifier && !existsSync(opts.classifier))
    throw new MioInputError(
      `no such classifier checkpoint: ${opts.classifier}`,
      "train one: mioc run pipelines/classifier.mio",
    );
  const classifier = opts.oracleTask ? undefined : (opts.classifier ?? spec.prompt.classifier?.weights ?? undefined);
  const unknown = spec.eval.sets.some((s) => s.name === "unknown" && s.path === null)
    ? `; ${UNKNOWN_NEEDS_CLASSIFIER}`
    : "";
  const note = classifier
    ? `explicit prompts at test time: the task classifier ${classifier} picks each image's prompt`
    : opts.oracleTask
      ? `explicit prompts at test time: oracle (each image gets its true task's prompt), as --oracle-task asks${unknown}`
      : "explicit prompts at test time: oracle (each image gets its true task's prompt), because no classifier " +
        `checkpoint was given (--classifier CKPT, or classifier_weights in the experiment's prompt)${unknown}`;
  return { ...(classifier ? { classifier } : {}), note };
}
