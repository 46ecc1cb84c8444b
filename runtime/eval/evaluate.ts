// Evaluation: restores every image of the in- and out-of-distribution test sets with the trained weights (raw or
// EMA, as the spec says) through one compiled forward plan applied tile by tile, so memory stays bounded whatever
// the image size, and scores each set with the spec's metrics.
import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { basename, extname, join } from "node:path";
import type { LoadedProgram } from "../../compiler/program.js";
import { type ExperimentSpec, evalTiling } from "../../compiler/schema/experiment.js";
import { cropImage, type RgbImage, readImage, writePng } from "../data/image.js";
import { type PromptMaps, promptBatch } from "../data/prompts.js";
import { dataHash } from "../data/rng.js";
import { buildTestsets, GROUP_OF_DIST, listImages, type TestsetsManifest } from "../data/testsets.js";
import { MioRuntimeError } from "../errors.js";
import { ForwardPlans, restoreTiled } from "../exec/forward.js";
import type { TensorMap } from "../interop/safetensors.js";
import type { Confusion, TaskScore } from "../run-folder.js";
import type { Gpu } from "../webgpu/device.js";
import { type Classifier, tally } from "./classifier.js";
import { calculatePsnr, calculateSsim } from "./metrics.js";
import { type DetailWindow, detailWindow, type Sample, sampleOf } from "./samples.js";

export interface EvalResult {
  sets: Record<string, Record<string, TaskScore>>;
  /** For each set and task, the region of its images with the most detail: LQ, output and GT, for the grids. */
  samples: Sample[];
  depth: string[];
  /** With a classifier: per set, the images of each true task by the task it picked (the confusion matrix). */
  classifierConfusion?: Confusion;
}

export interface EvalOptions {
  gpu: Gpu;
  program: LoadedProgram;
  spec: ExperimentSpec;
  /** Parameter values by name (raw weights or the EMA's). */
  weights: TensorMap;
  /** Where built test sets are cached (shared by runs with the same test images, tasks and seed). */
  cacheDir: string;
  prompts?: PromptMaps;
  /**
   * Explicit prompts: picks each test image's map by classifying the whole LQ image (the paper's test-time
   * selection). Without it, each image gets its true task's map (oracle selection).
   */
  classifier?: Classifier;
  onProgress?: (done: number, total: number, what: string) => void;
}

/**
 * Builds (once) the paper's 7 + 7 synthetic test sets and the spec's Unknown testsets from its test folder. With
 * `center_crop`, the sets are built from the central squares of the test images, so building them costs what
 * evaluating them does.
 */
export async function ensureTestsets(spec: ExperimentSpec, cacheDir: string, onImage?: (d: number, t: number) => void) {
  const test = spec.data.test;
  if (!test) throw new MioRuntimeError("the experiment has no test folder", 'add data { test "folder" }');
  const crop = spec.eval.center_crop;
  const key = dataHash(
    JSON.stringify({ test, tasks: spec.tasks, testsets: spec.testsets, seed: spec.seed, crop }),
  ).toString(16);
  const root = join(cacheDir, `testsets-${key}`);
  const manifestPath = join(root, "manifest.json");
  if (!existsSync(manifestPath)) {
    let src = test;
    if (crop > 0) {
      src = join(cacheDir, `sources-${key}`);
      await mkdir(src, { recursive: true });
      for (const path of await listImages(test)) {
        const out = join(src, `${basename(path, extname(path))}.png`);
        if (!existsSync(out)) await writePng(out, centerCrop(await readImage(path), crop));
      }
    }
    await buildTestsets(src, root, {
      tasks: spec.tasks,
      testsets: spec.testsets,
      seed: spec.seed,
      onImage: (d, t) => onImage?.(d, t),
    });
  }
  const manifest = JSON.parse(await readFile(manifestPath, "utf8")) as TestsetsManifest;
  return { root, manifest };
}

/** The central `size`×`size` square of an image (the whole image when it is no larger). */
export function centerCrop(img: RgbImage, size: number): RgbImage {
  if (size <= 0 || (img.width <= size && img.height <= size)) return img;
  const w = Math.min(size, img.width);
  const h = Math.min(size, img.height);
  return cropImage(img, Math.floor((img.width - w) / 2), Math.floor((img.height - h) / 2), w, h);
}

export async function evaluate(o: EvalOptions): Promise<EvalResult> {
  const { spec } = o;
  // Default tile: the whole (center-cropped) image when it is small, else 128 pixels.
  const { tile, overlap } = evalTiling(spec);
  // The tile plan; with adaptive prompts on an image that is not one tile, one whose extractor sees the image.
  const plans = new ForwardPlans(o.gpu, o.program, spec, o.weights);
  const planFor = (img: RgbImage) => {
    const whole = spec.prompt.kind === "adaptive" && (img.height !== tile || img.width !== tile);
    return plans.get({
      height: tile,
      width: tile,
      ...(whole ? { promptImage: { height: img.height, width: img.width } } : {}),
    });
  };
  try {
    const { root, manifest } = await ensureTestsets(spec, o.cacheDir, (d, t) =>
      o.onProgress?.(d, t, "building test sets"),
    );
    const groups = spec.eval.sets.filter((s) => s.path === null).map((s) => s.name);
    const result: EvalResult = { sets: {}, samples: [], depth: [] };
    const taskIndex = new Map(spec.tasks.map((t, i) => [t.name, i]));
    const testsets = new Set(spec.testsets.map((t) => t.name));
    // An Unknown set has no true task: with explicit prompts only a classifier can pick its prompt (the paper's
    // *_EP_class models), so oracle selection leaves the group out, and the report says why.
    const unknownOk = !o.prompts || o.classifier !== undefined;
    const jobs = manifest.sets.filter(
      (s) =>
        groups.includes(GROUP_OF_DIST[s.dist]) &&
        (s.dist === "unknown" ? unknownOk && testsets.has(s.task) : taskIndex.has(s.task)),
    );
    const total = jobs.reduce((n, s) => n + Math.min(s.images.length, spec.eval.max_images || Infinity), 0);
    let done = 0;
    const names = spec.tasks.map((t) => t.name);
    const confusion: Confusion = {};
    const wantSsim = spec.eval.metrics.find((m) => m.name === "ssim");
    const psnrMetric = spec.eval.metrics.find((m) => m.name === "psnr") ?? { crop: 4, y_channel: false };
    // The GT is shared by every set, so each image's detail window is found once, and every set shows the same one.
    const windows = new Map<string, DetailWindow>();
    for (const s of jobs) {
      let sample: Sample | undefined;
      const set = GROUP_OF_DIST[s.dist];
      // Explicit prompts: the true task's map (oracle selection) unless a classifier picks it per image below.
      const oracle =
        o.prompts && s.dist !== "unknown" ? promptBatch(o.prompts, [taskIndex.get(s.task) ?? 0]) : undefined;
      const images = spec.eval.max_images ? s.images.slice(0, spec.eval.max_images) : s.images;
      let [psnrSum, ssimSum, lqSum] = [0, 0, 0];
      for (const im of images) {
        const gt = centerCrop(await readImage(join(root, manifest.gt, im.file)), spec.eval.center_crop);
        const lq = centerCrop(await readImage(join(root, s.folder, im.file)), spec.eval.center_crop);
        let prompt = oracle;
        if (o.prompts && o.classifier) {
          // The classifier sees the whole LQ image, as the reference's *_EP_class models do.
          const p = await o.classifier.predict(lq, names);
          if (s.dist !== "unknown") tally(confusion, set, s.task, p.task);
          prompt = promptBatch(o.prompts, [taskIndex.get(p.task) ?? 0]);
        }
        const out = await restoreTiled(await planFor(lq), lq, tile, overlap, prompt);
        psnrSum += calculatePsnr(out, gt, psnrMetric.crop, psnrMetric.y_channel);
        lqSum += calculatePsnr(lq, gt, psnrMetric.crop, psnrMetric.y_channel);
        if (wantSsim) ssimSum += calculateSsim(out, gt, wantSsim.crop, wantSsim.y_channel);
        const window = windows.get(im.file) ?? detailWindow(gt);
        windows.set(im.file, window);
        if (!sample || window.energy > sample.energy)
          sample = sampleOf(set, s.task, { lq, out, gt }, window, psnrMetric);
        if (im.depth && !result.depth.includes(im.depth.split(":")[0] ?? ""))
          result.depth.push(im.depth.split(":")[0] ?? "");
        o.onProgress?.(++done, total, `${set}/${s.task}`);
      }
      if (sample) result.samples.push(sample);
      const n = images.length;
      const score: TaskScore = {
        psnr: psnrSum / n,
        lq_psnr: lqSum / n,
        images: n,
        ...(wantSsim ? { ssim: ssimSum / n } : {}),
      };
      result.sets[set] ??= {};
      (result.sets[set] as Record<string, TaskScore>)[s.task] = score;
    }
    if (o.prompts && o.classifier) result.classifierConfusion = confusion;
    return result;
  } finally {
    plans.destroy();
  }
}
