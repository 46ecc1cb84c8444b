// Evaluating an experiment's trained weights, as `mioc run` does after training and `mioc eval` does for saved
// weights: a restoration model is scored on its test sets (PSNR/SSIM against the degraded input's), a task
// classifier by its per-task accuracy on the test sets' LQ images, each image classified whole (or its central
// crop) as at test time.
import { join } from "node:path";
import type { LoadedProgram } from "../../compiler/program.js";
import { type ExperimentSpec, isClassifier } from "../../compiler/schema/experiment.js";
import { readImage } from "../data/image.js";
import { promptMaps } from "../data/prompts.js";
import { GROUP_OF_DIST } from "../data/testsets.js";
import type { TensorMap } from "../interop/safetensors.js";
import type { Confusion, LogEvent, RunMetrics } from "../run-folder.js";
import type { Gpu } from "../webgpu/device.js";
import { accuracyOf, Classifier, type ClassifierModel, tally } from "./classifier.js";
import { centerCrop, type EvalResult, ensureTestsets, evaluate } from "./evaluate.js";

export interface EvaluationOptions {
  gpu: Gpu;
  program: LoadedProgram;
  spec: ExperimentSpec;
  /** The evaluated parameter values, and which of the checkpoint's they are. */
  weights: TensorMap;
  which: "raw" | "ema";
  /** Where built test sets are cached. */
  cacheDir: string;
  /** Test set groups to evaluate (`in_dist`, `out_dist`, `unknown`); default: the spec's. */
  groups?: readonly string[];
  /** Explicit prompts: the task classifier that picks each test image's prompt; without it, the true task's. */
  classifier?: ClassifierModel;
  onProgress?: (done: number, total: number, what: string) => void;
}

/** What an evaluation adds to metrics.json. */
export type EvaluatedMetrics = Pick<
  RunMetrics,
  "weights" | "sets" | "prompt_selection" | "classifier" | "classifier_accuracy" | "classifier_confusion" | "depth"
>;

export interface Evaluation {
  metrics: EvaluatedMetrics;
  /** One `eval` log line per test set and task (at training step `step`). */
  events(step: number): LogEvent[];
  /** A restoration model's first image of each set and task: LQ, output and GT, for the report. */
  samples: EvalResult["samples"];
}

/** The spec with only the named test set groups. */
function withGroups(spec: ExperimentSpec, groups: readonly string[] | undefined): ExperimentSpec {
  if (!groups) return spec;
  return { ...spec, eval: { ...spec.eval, sets: groups.map((name) => ({ name, path: null })) } };
}

/** Evaluates `o.weights` on the experiment's test sets. */
export async function evaluateExperiment(o: EvaluationOptions): Promise<Evaluation> {
  const spec = withGroups(o.spec, o.groups);
  if (isClassifier(spec)) {
    const confusion = await classifierConfusion({ ...o, spec });
    const { accuracy, images } = accuracyOf(confusion);
    return {
      metrics: { weights: o.which, sets: {}, classifier_accuracy: accuracy, classifier_confusion: confusion },
      events: (step) =>
        Object.entries(accuracy).flatMap(([set, tasks]) =>
          Object.entries(tasks).map(([task, a]): LogEvent => {
            const n = images[set]?.[task];
            return { type: "eval", step, set, task, accuracy: a, ...(n !== undefined ? { images: n } : {}) };
          }),
        ),
      samples: [],
    };
  }
  const prompts = await promptMaps(spec);
  const classifier = o.classifier ? await Classifier.create(o.gpu, o.program, spec, o.classifier) : undefined;
  const r = await evaluate({
    gpu: o.gpu,
    program: o.program,
    spec,
    weights: o.weights,
    cacheDir: o.cacheDir,
    ...(prompts ? { prompts } : {}),
    ...(classifier ? { classifier } : {}),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
  }).finally(() => classifier?.destroy());
  return {
    metrics: {
      weights: o.which,
      sets: r.sets,
      prompt_selection: spec.prompt.kind !== "explicit" ? "none" : classifier ? "classifier" : "oracle",
      ...(o.classifier ? { classifier: o.classifier.source } : {}),
      ...(r.classifierConfusion
        ? {
            classifier_accuracy: accuracyOf(r.classifierConfusion).accuracy,
            classifier_confusion: r.classifierConfusion,
          }
        : {}),
      ...(r.depth.length ? { depth: r.depth.join("+") } : {}),
    },
    events: (step) =>
      Object.entries(r.sets).flatMap(([set, tasks]) =>
        Object.entries(tasks).map(([task, score]): LogEvent => ({ type: "eval", step, set, task, ...score })),
      ),
    samples: r.samples,
  };
}

/** A classifier experiment's predictions on its test sets: per set, images of each true task by predicted task. */
async function classifierConfusion(o: EvaluationOptions): Promise<Confusion> {
  const { spec } = o;
  const model: ClassifierModel = {
    call: { name: spec.model.name, args: spec.model.args },
    classes: spec.tasks.map((t) => t.name),
    weights: o.weights,
    source: "this run",
  };
  const cls = await Classifier.create(o.gpu, o.program, spec, model);
  try {
    const { root, manifest } = await ensureTestsets(spec, o.cacheDir, (d, t) =>
      o.onProgress?.(d, t, "building test sets"),
    );
    const groups = spec.eval.sets.filter((s) => s.path === null).map((s) => s.name);
    // Only sets with a true task have an accuracy: the Unknown sets have none.
    const jobs = manifest.sets.filter(
      (s) => s.dist !== "unknown" && groups.includes(GROUP_OF_DIST[s.dist]) && model.classes.includes(s.task),
    );
    const cap = (n: number) => Math.min(n, spec.eval.max_images || Infinity);
    const total = jobs.reduce((n, s) => n + cap(s.images.length), 0);
    const confusion: Confusion = {};
    let done = 0;
    for (const s of jobs) {
      const set = GROUP_OF_DIST[s.dist];
      for (const im of s.images.slice(0, cap(s.images.length))) {
        const lq = centerCrop(await readImage(join(root, s.folder, im.file)), spec.eval.center_crop);
        const p = await cls.predict(lq);
        tally(confusion, set, s.task, p.task);
        o.onProgress?.(++done, total, `${set}/${s.task}`);
      }
    }
    return confusion;
  } finally {
    cls.destroy();
  }
}
