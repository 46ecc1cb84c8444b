// Evaluating a classifier experiment (`loss cross_entropy`): per-task accuracy on the synthetic test sets, each LQ
// image classified whole (or its central crop, with eval.center_crop), as at test time.
import { join } from "node:path";
import type { Program as LoadedProgram } from "../../compiler/program.js";
import type { ExperimentSpec } from "../../compiler/spec/experiment.js";
import { readImage } from "../data/image.js";
import type { Gpu } from "../webgpu/device.js";
import { type Accuracy, Classifier, type ClassifierModel, tally } from "./classifier.js";
import { centerCrop, ensureTestsets } from "./evaluate.js";

export interface ClassifyEvalOptions {
  gpu: Gpu;
  program: LoadedProgram;
  /** A classifier experiment (`loss cross_entropy`): its model, tasks (= classes) and test sets. */
  spec: ExperimentSpec;
  weights: ReadonlyMap<string, Float32Array>;
  cacheDir: string;
  onProgress?: (done: number, total: number, what: string) => void;
}

/** Evaluates a classifier experiment: each test set's LQ images (whole, or their central crop) classified. */
export async function evaluateClassifier(o: ClassifyEvalOptions): Promise<{ accuracy: Accuracy; images: Accuracy }> {
  const { spec } = o;
  const model: ClassifierModel = {
    call: { name: spec.model.name, args: spec.model.args },
    classes: spec.tasks.map((t) => t.name),
    weights: new Map(o.weights),
    source: "this run",
  };
  const cls = await Classifier.create(o.gpu, o.program, spec, model);
  try {
    const { root, manifest } = await ensureTestsets(spec, o.cacheDir, (d, t) =>
      o.onProgress?.(d, t, "building test sets"),
    );
    const groups = spec.eval.sets.filter((s) => s.path === null).map((s) => s.name);
    const jobs = manifest.sets.filter(
      (s) => groups.includes(s.dist === "in" ? "in_dist" : "out_dist") && model.classes.includes(s.task),
    );
    const cap = (n: number) => Math.min(n, spec.eval.max_images || Infinity);
    const total = jobs.reduce((n, s) => n + cap(s.images.length), 0);
    const [accuracy, images]: [Accuracy, Accuracy] = [{}, {}];
    let done = 0;
    for (const s of jobs) {
      const set = s.dist === "in" ? "in_dist" : "out_dist";
      for (const im of s.images.slice(0, cap(s.images.length))) {
        const lq = centerCrop(await readImage(join(root, s.folder, im.file)), spec.eval.center_crop);
        const p = await cls.predict(lq);
        tally(accuracy, images, set, s.task, p.task === s.task);
        o.onProgress?.(++done, total, `${set}/${s.task}`);
      }
    }
    return { accuracy, images };
  } finally {
    cls.destroy();
  }
}
