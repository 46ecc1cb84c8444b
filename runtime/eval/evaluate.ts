// Evaluation: restores every image of the in- and out-of-distribution test sets with the trained weights (raw or
// EMA, as the spec says) through one compiled forward plan applied tile by tile, so memory stays bounded whatever
// the image size, and scores each set with the spec's metrics.
import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { basename, extname, join } from "node:path";
import { stateNames } from "../../compiler/autodiff/optim.js";
import { lowerModel } from "../../compiler/lower/model.js";
import { compileProgram } from "../../compiler/passes/pipeline.js";
import type { Program as LoadedProgram } from "../../compiler/program.js";
import type { ExperimentSpec } from "../../compiler/spec/experiment.js";
import { toPlanes } from "../data/degrade/common.js";
import { cropImage, type RgbImage, readImage, writePng } from "../data/image.js";
import { hashString } from "../data/rng.js";
import { buildTestsets, listImages, type TestsetsManifest } from "../data/testsets.js";
import { MioRuntimeError } from "../errors.js";
import { Executor } from "../exec/executor.js";
import { type PromptMaps, promptBatch } from "../train/prompts.js";
import type { Gpu } from "../webgpu/device.js";
import { type Accuracy, type Classifier, tally } from "./classifier.js";
import { calculatePsnr, calculateSsim } from "./metrics.js";

export interface SetScore {
  psnr: number;
  ssim?: number;
  /** PSNR of the degraded input itself: the baseline a model must beat. */
  lq_psnr: number;
  images: number;
}

export interface EvalResult {
  sets: Record<string, Record<string, SetScore>>;
  /** For each set and task, the first image: LQ, output and GT, for the report's grids. */
  samples: { set: string; task: string; lq: RgbImage; out: RgbImage; gt: RgbImage }[];
  depth: string[];
  /** With a classifier: per set and task, the fraction of images whose prompt it picked right. */
  classifierAccuracy?: Accuracy;
}

export interface EvalOptions {
  gpu: Gpu;
  program: LoadedProgram;
  spec: ExperimentSpec;
  /** Parameter values by name (raw weights or the EMA's). */
  weights: ReadonlyMap<string, Float32Array>;
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
 * Builds (once) the paper's 7 + 7 synthetic test sets from the spec's test folder. With `center_crop`, the sets are
 * built from the central squares of the test images, so building them costs what evaluating them does.
 */
export async function ensureTestsets(spec: ExperimentSpec, cacheDir: string, onImage?: (d: number, t: number) => void) {
  const test = spec.data.test;
  if (!test) throw new MioRuntimeError("the experiment has no test folder", 'add data { test "folder" }');
  const crop = spec.eval.center_crop;
  const key = hashString(JSON.stringify({ test, tasks: spec.tasks, seed: spec.seed, crop })).toString(16);
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
    await buildTestsets(src, root, { tasks: spec.tasks, seed: spec.seed, onImage: (d, t) => onImage?.(d, t) });
  }
  const manifest = JSON.parse(await readFile(manifestPath, "utf8")) as TestsetsManifest;
  return { root, manifest };
}

/** Picks the parameter values the spec evaluates: the raw weights, or their EMA. */
export function evalWeights(
  spec: ExperimentSpec,
  values: Record<string, Float32Array>,
  params: string[],
): Map<string, Float32Array> {
  return new Map(
    params.map((p) => [p, (spec.eval.weights === "ema" ? values[stateNames(p).ema] : values[p]) as Float32Array]),
  );
}

/** The central `size`×`size` square of an image (the whole image when it is no larger). */
export function centerCrop(img: RgbImage, size: number): RgbImage {
  if (size <= 0 || (img.width <= size && img.height <= size)) return img;
  const w = Math.min(size, img.width);
  const h = Math.min(size, img.height);
  return cropImage(img, Math.floor((img.width - w) / 2), Math.floor((img.height - h) / 2), w, h);
}

/** Tile origins along one axis: `size`-wide tiles with at least `overlap` shared pixels, the last flush with the end. */
export function tileOrigins(length: number, size: number, overlap: number): number[] {
  if (length <= size) return [0];
  const step = Math.max(1, size - overlap);
  const out: number[] = [];
  for (let o = 0; o + size < length; o += step) out.push(o);
  out.push(length - size);
  return out;
}

/** Runs the forward plan over an image in tiles, averaging overlaps; returns the 8-bit result. */
async function restore(
  exe: Executor,
  img: RgbImage,
  tile: number,
  overlap: number,
  prompt?: Float32Array,
): Promise<RgbImage> {
  const { width: W, height: H } = img;
  const acc = new Float64Array(3 * W * H);
  const weight = new Float64Array(W * H);
  const input = new Float32Array(3 * tile * tile);
  if (prompt) exe.write("prompt", prompt);
  else if (exe.plan.inputs.prompt) exe.write("prompt", toPlanes(img));
  for (const y0 of tileOrigins(H, tile, overlap)) {
    for (const x0 of tileOrigins(W, tile, overlap)) {
      // Tiles larger than the image reflect at its edges, as the reference pads at test time.
      for (let c = 0; c < 3; c++) {
        for (let y = 0; y < tile; y++) {
          const sy = reflect(y0 + y, H);
          for (let x = 0; x < tile; x++)
            input[(c * tile + y) * tile + x] = (img.data[(sy * W + reflect(x0 + x, W)) * 3 + c] ?? 0) / 255;
        }
      }
      exe.write("lq", input);
      const out = (await exe.run(["out"])).out as Float32Array;
      for (let y = 0; y < Math.min(tile, H - y0); y++) {
        for (let x = 0; x < Math.min(tile, W - x0); x++) {
          const p = (y0 + y) * W + x0 + x;
          weight[p] = (weight[p] ?? 0) + 1;
          for (let c = 0; c < 3; c++)
            acc[c * W * H + p] = (acc[c * W * H + p] ?? 0) + (out[(c * tile + y) * tile + x] ?? 0);
        }
      }
    }
  }
  const data = new Uint8Array(3 * W * H);
  for (let p = 0; p < W * H; p++) {
    for (let c = 0; c < 3; c++) {
      // The reference's tensor2img: clamp to [0, 1], scale, round.
      const v = (acc[c * W * H + p] ?? 0) / (weight[p] ?? 1);
      data[p * 3 + c] = Math.round(Math.min(1, Math.max(0, v)) * 255);
    }
  }
  return { width: W, height: H, data };
}

function reflect(i: number, n: number): number {
  if (n === 1) return 0;
  let j = i;
  while (j < 0 || j >= n) j = j < 0 ? -j : 2 * n - 2 - j;
  return j;
}

export async function evaluate(o: EvalOptions): Promise<EvalResult> {
  const { spec } = o;
  // Default tile: the whole (center-cropped) image when it is small, else 128 pixels.
  const tile = spec.eval.tile > 0 ? spec.eval.tile : spec.eval.center_crop > 0 ? spec.eval.center_crop : 128;
  const overlap = Math.min(spec.eval.overlap, tile / 2);
  const executors = new Map<string, Executor>();
  /** The tile plan; with adaptive prompts on an image that is not one tile, one whose extractor sees the image. */
  const executorFor = async (img: RgbImage): Promise<Executor> => {
    const whole = spec.prompt.kind === "adaptive" && (img.height !== tile || img.width !== tile);
    const key = whole ? `${img.height}x${img.width}` : "tile";
    let exe = executors.get(key);
    if (!exe) {
      const promptImage = whole ? { height: img.height, width: img.width } : undefined;
      const model = lowerModel(o.program, spec, { batch: 1, height: tile, width: tile, promptImage });
      const plan = compileProgram({ g: model.b.g, outputs: new Map([["out", model.out]]), updates: [] });
      exe = await Executor.create(o.gpu, plan);
      for (const [name, value] of o.weights) exe.write(name, value);
      executors.set(key, exe);
    }
    return exe;
  };
  try {
    const { root, manifest } = await ensureTestsets(spec, o.cacheDir, (d, t) =>
      o.onProgress?.(d, t, "building test sets"),
    );
    const groups = spec.eval.sets.filter((s) => s.path === null).map((s) => s.name);
    const result: EvalResult = { sets: {}, samples: [], depth: [] };
    const taskIndex = new Map(spec.tasks.map((t, i) => [t.name, i]));
    const jobs = manifest.sets.filter(
      (s) => groups.includes(s.dist === "in" ? "in_dist" : "out_dist") && taskIndex.has(s.task),
    );
    const total = jobs.reduce((n, s) => n + Math.min(s.images.length, spec.eval.max_images || Infinity), 0);
    let done = 0;
    const names = spec.tasks.map((t) => t.name);
    const [accuracy, counts]: [Accuracy, Accuracy] = [{}, {}];
    const wantSsim = spec.eval.metrics.find((m) => m.name === "ssim");
    const psnrMetric = spec.eval.metrics.find((m) => m.name === "psnr") ?? { crop: 4, y_channel: false };
    for (const s of jobs) {
      const set = s.dist === "in" ? "in_dist" : "out_dist";
      // Explicit prompts: the true task's map (oracle selection) unless a classifier picks it per image below.
      const oracle = o.prompts ? promptBatch(o.prompts, [taskIndex.get(s.task) ?? 0]) : undefined;
      const images = spec.eval.max_images ? s.images.slice(0, spec.eval.max_images) : s.images;
      let [psnrSum, ssimSum, lqSum] = [0, 0, 0];
      for (const [i, im] of images.entries()) {
        const gt = centerCrop(await readImage(join(root, manifest.gt, im.file)), spec.eval.center_crop);
        const lq = centerCrop(await readImage(join(root, s.folder, im.file)), spec.eval.center_crop);
        let prompt = oracle;
        if (o.prompts && o.classifier) {
          // The classifier sees the whole LQ image, as the reference's *_EP_class models do.
          const p = await o.classifier.predict(lq, names);
          tally(accuracy, counts, set, s.task, p.task === s.task);
          prompt = promptBatch(o.prompts, [taskIndex.get(p.task) ?? 0]);
        }
        const out = await restore(await executorFor(lq), lq, tile, overlap, prompt);
        psnrSum += calculatePsnr(out, gt, psnrMetric.crop, psnrMetric.y_channel);
        lqSum += calculatePsnr(lq, gt, psnrMetric.crop, psnrMetric.y_channel);
        if (wantSsim) ssimSum += calculateSsim(out, gt, wantSsim.crop, wantSsim.y_channel);
        if (i === 0) result.samples.push({ set, task: s.task, lq, out, gt });
        if (im.depth && !result.depth.includes(im.depth.split(":")[0] ?? ""))
          result.depth.push(im.depth.split(":")[0] ?? "");
        o.onProgress?.(++done, total, `${set}/${s.task}`);
      }
      const n = images.length;
      const score: SetScore = {
        psnr: psnrSum / n,
        lq_psnr: lqSum / n,
        images: n,
        ...(wantSsim ? { ssim: ssimSum / n } : {}),
      };
      result.sets[set] ??= {};
      (result.sets[set] as Record<string, SetScore>)[s.task] = score;
    }
    if (o.prompts && o.classifier) result.classifierAccuracy = accuracy;
    return result;
  } finally {
    for (const exe of executors.values()) exe.destroy();
  }
}
