// The task classifier at test time (MIOIR.md §5): a backbone that returns one score per task, run on the whole LQ
// image; the argmax picks the task, and so the explicit prompt map of an EP model. Its checkpoints carry their
// backbone, arguments and class names (safetensors metadata), so they can be used without their experiment.
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Scalar } from "../../compiler/check/builtins.js";
import { initialParams } from "../../compiler/ir/builder.js";
import { lowerModel } from "../../compiler/lower/model.js";
import { compileProgram } from "../../compiler/passes/pipeline.js";
import type { Program as LoadedProgram } from "../../compiler/program.js";
import type { ExperimentSpec } from "../../compiler/spec/experiment.js";
import { toPlanes } from "../data/degrade/common.js";
import type { RgbImage } from "../data/image.js";
import { MioRuntimeError } from "../errors.js";
import { Executor } from "../exec/executor.js";
import { readSafetensors, type TensorMap, writeSafetensors } from "../interop/safetensors.js";
import type { Gpu } from "../webgpu/device.js";

/** The reference classifier's label order (MIOIR.md §3: blur 0, noise 1, ..., sr 6), for checkpoints without one. */
export const REFERENCE_LABELS = ["blur", "noise", "jpeg", "rain", "haze", "dark", "sr"] as const;

/** The metadata key under which a classifier's backbone, arguments and class names travel in its safetensors. */
const META_KEY = "mio.classifier";

export interface ClassifierModel {
  /** The backbone to lower (it must be declared in, or used by, the experiment's file). */
  call: { name: string; args: Record<string, Scalar> };
  /** Class k's task name. */
  classes: string[];
  /** Parameter values by name. */
  weights: Map<string, Float32Array>;
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

/** The classifier's parameters (names and initial values), from a small lowering. */
function expectedParams(program: LoadedProgram, base: ExperimentSpec, call: ClassifierModel["call"]) {
  const m = lowerModel(program, classifierSpec(base, call), { batch: 1, height: 64, width: 64 });
  return { params: initialParams(m.b), classes: m.out.shape[1] ?? 0 };
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
  const file = classifierFile(path);
  const { tensors, metadata } = await readSafetensors(file).catch((e: Error) => {
    throw new MioRuntimeError(`cannot read the classifier checkpoint '${file}': ${e.message}`);
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
  const weights = new Map<string, Float32Array>();
  for (const [name, init] of params) {
    const t = tensors[name];
    if (!t) {
      throw new MioRuntimeError(
        `the classifier checkpoint '${file}' has no '${name}', a parameter of ${callText(call)}`,
        "is it a checkpoint of a task classifier?",
      );
    }
    if (t.data.length !== init.length) {
      throw new MioRuntimeError(
        `the classifier checkpoint '${file}' has '${name}' of shape [${t.shape}] (${t.data.length} values); ` +
          `${callText(call)} needs ${init.length}`,
        "the checkpoint and the classifier's arguments disagree (width? classes?)",
      );
    }
    weights.set(name, t.data);
  }
  return { call, classes, weights, source: file };
}

/** The safetensors file a classifier path names (a file, a run folder or a checkpoint folder). */
function classifierFile(path: string): string {
  if (!existsSync(path)) throw new MioRuntimeError(`no such classifier checkpoint: ${path}`);
  if (!statSync(path).isDirectory()) return path;
  for (const f of ["classifier.safetensors", "state.safetensors"]) if (existsSync(join(path, f))) return join(path, f);
  throw new MioRuntimeError(
    `${path} holds no classifier.safetensors or state.safetensors`,
    "pass the classifier.safetensors of a classifier run",
  );
}

/**
 * Writes the weights a classifier run evaluated as one safetensors file whose metadata names its backbone,
 * arguments and classes, so `--classifier FILE` rebuilds it without its experiment.
 * @example await writeClassifier(join(runDir, "classifier.safetensors"), spec, weights, shapes);
 */
export async function writeClassifier(
  path: string,
  spec: ExperimentSpec,
  weights: ReadonlyMap<string, Float32Array>,
  shapes: ReadonlyMap<string, readonly number[]>,
): Promise<void> {
  const tensors: TensorMap = {};
  for (const [name, data] of weights) tensors[name] = { shape: shapes.get(name) ?? [data.length], data };
  const meta = { backbone: spec.model.name, args: spec.model.args, classes: spec.tasks.map((t) => t.name) };
  await writeSafetensors(path, tensors, { format: "mio-classifier", [META_KEY]: JSON.stringify(meta) });
}

/**
 * A classifier ready to run: one compiled forward plan per image size (test images may differ in size).
 * @example const cls = await Classifier.create(gpu, program, spec, model); (await cls.predict(img)).task
 */
export class Classifier {
  private readonly exes = new Map<string, Executor>();
  private constructor(
    private readonly gpu: Gpu,
    private readonly program: LoadedProgram,
    private readonly base: ExperimentSpec,
    readonly model: ClassifierModel,
  ) {}

  static async create(gpu: Gpu, program: LoadedProgram, base: ExperimentSpec, model: ClassifierModel) {
    return new Classifier(gpu, program, base, model);
  }

  private async executor(width: number, height: number): Promise<Executor> {
    const key = `${width}x${height}`;
    const hit = this.exes.get(key);
    if (hit) return hit;
    // A few sizes stay compiled; a set of all-different sizes must not pile up device memory.
    if (this.exes.size >= 4) this.destroy();
    const spec = classifierSpec(this.base, this.model.call);
    const m = lowerModel(this.program, spec, { batch: 1, height, width });
    const plan = compileProgram({ g: m.b.g, outputs: new Map([["out", m.out]]), updates: [] });
    const exe = await Executor.create(this.gpu, plan);
    for (const [name, value] of this.model.weights) exe.write(name, value);
    this.exes.set(key, exe);
    return exe;
  }

  /** The classifier's output for the whole image (RGB in [0, 1], as in training). */
  async scores(img: RgbImage): Promise<Float32Array> {
    const { width: W, height: H } = img;
    const exe = await this.executor(W, H);
    exe.write("lq", toPlanes(img));
    return (await this.gpu.scoped("running the task classifier", () => exe.run(["out"]))).out ?? new Float32Array();
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
    for (const exe of this.exes.values()) exe.destroy();
    this.exes.clear();
  }
}

/** Per test set and task: the fraction of images whose predicted task is right. */
export type Accuracy = Record<string, Record<string, number>>;

/** Adds one prediction to a running accuracy (counts in `n`). */
export function tally(acc: Accuracy, n: Accuracy, set: string, task: string, right: boolean): void {
  const a: Record<string, number> = acc[set] ?? {};
  const c: Record<string, number> = n[set] ?? {};
  acc[set] = a;
  n[set] = c;
  const seen = c[task] ?? 0;
  a[task] = ((a[task] ?? 0) * seen + (right ? 1 : 0)) / (seen + 1);
  c[task] = seen + 1;
}
