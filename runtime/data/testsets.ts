// Offline degradation of image folders: one task over a folder (`mioc degrade`) and the paper's test-set layout
// (`mioc testsets build`): one shared GT folder plus one LQ folder per task and distribution, with a manifest of every
// parameter drawn and of the depth source haze used.

import { existsSync, statSync } from "node:fs";
import { mkdir, readdir, readFile } from "node:fs/promises";
import { basename, extname, join } from "node:path";
import { Worker } from "node:worker_threads";
import type { DegradationSpec, TaskSpec } from "../../compiler/schema/task.js";
import { MioRuntimeError } from "../errors.js";
import { calculatePsnr } from "../eval/metrics.js";
import type { DepthMap } from "./degrade/common.js";
import { degradeWith } from "./degrade/index.js";
import { findDepthFile, readDepth } from "./depth.js";
import { cropToMultiple, isImageFile, type RgbImage, readImage, writeFileAtomic, writePng } from "./image.js";
import { dataHash, Rng } from "./rng.js";
import { workerUrl } from "./worker-url.js";

export type Dist = "in" | "out";

/** One degraded image in a manifest. */
export interface ManifestImage {
  /** Output file name (always `<stem>.png`). */
  file: string;
  /** The source image it was made from. */
  source: string;
  width: number;
  height: number;
  params: Record<string, number>;
  /** haze only: `file:<path>` or `prior:<name>`. */
  depth?: string;
}

/** One task at one distribution over a folder. */
export interface DegradeManifest {
  task: string;
  dist: Dist;
  spec: DegradationSpec;
  seed: number;
  images: ManifestImage[];
}

/** A problem with the data a command was given (missing or empty folder): exit 1 from the runtime's side. */
export class DataError extends MioRuntimeError {}

/** Image files of a folder (not recursive), sorted by name; a single image path gives itself. */
export async function listImages(src: string): Promise<string[]> {
  if (!existsSync(src)) throw new DataError(`'${src}' does not exist`);
  if (statSync(src).isFile()) {
    if (!isImageFile(src)) throw new DataError(`'${src}' is not a PNG, JPEG or WebP image`);
    return [src];
  }
  const names = (await readdir(src)).filter(isImageFile).sort();
  if (names.length === 0) throw new DataError(`'${src}' has no PNG, JPEG or WebP images`);
  return names.map((n) => join(src, n));
}

/** The output name of a source image: its stem as a PNG. Two sources with one stem would collide. */
function outName(path: string): string {
  return `${basename(path, extname(path))}.png`;
}

function checkUniqueStems(paths: string[]): void {
  const seen = new Map<string, string>();
  for (const p of paths) {
    const n = outName(p);
    const other = seen.get(n);
    if (other) throw new DataError(`'${other}' and '${p}' would both be written as '${n}'`);
    seen.set(n, p);
  }
}

/**
 * The random stream of one image of one set: a function of (seed, task, dist, image stem) only, so an image's
 * degradation does not change when other images are added or removed.
 */
export function imageRng(seed: number, task: string, dist: Dist, file: string): Rng {
  return Rng.create(seed, dataHash(task), dataHash(dist), dataHash(basename(file, extname(file))));
}

/** Crops a depth map to its top-left `width`×`height` window (the image's mod crop), keeping the normalisation. */
function cropDepth(d: DepthMap, width: number, height: number): DepthMap {
  if (d.width === width && d.height === height) return d;
  const data = new Float32Array(width * height);
  for (let y = 0; y < height; y++) data.set(d.data.subarray(y * d.width, y * d.width + width), y * width);
  return { width, height, data, source: d.source };
}

/** The depth map for a source image, if a depth file sits next to it, fitted to its original size then cropped. */
async function depthFor(path: string, original: { width: number; height: number }, img: RgbImage) {
  const file = findDepthFile(path);
  if (!file) return undefined;
  return cropDepth(await readDepth(file, original.width, original.height), img.width, img.height);
}

/** Degrades one image for a task spec; returns the image and its manifest entry. */
async function degradeOne(
  spec: DegradationSpec,
  task: string,
  dist: Dist,
  seed: number,
  path: string,
  img: RgbImage,
  original: { width: number; height: number },
): Promise<{ image: RgbImage; entry: ManifestImage }> {
  const depth = spec.fn === "haze" ? await depthFor(path, original, img) : undefined;
  const r = await degradeWith(spec, img, imageRng(seed, task, dist, path), depth ? { depth } : {});
  const entry: ManifestImage = {
    file: outName(path),
    source: path,
    width: img.width,
    height: img.height,
    params: r.params,
  };
  if (r.info.depth) entry.depth = r.info.depth;
  return { image: r.image, entry };
}

/** One set an image is degraded into: the task, the distribution, its spec and its folder under the output root. */
export interface SetPlan {
  task: string;
  dist: Dist;
  spec: DegradationSpec;
  folder: string;
}

/** All the work for one source image; a pure function of the job, so jobs can run in any worker, in any order. */
export interface ImageJob {
  path: string;
  out: string;
  seed: number;
  /** Test sets: write the mod-4 cropped GT to `out/GT` and degrade that; otherwise degrade the image as it is. */
  gt: boolean;
  sets: SetPlan[];
}

/** Runs one image job: reads the image, writes its outputs, returns one manifest entry per set (in `sets` order). */
export async function processImage(job: ImageJob): Promise<ManifestImage[]> {
  const original = await readImage(job.path);
  let img = original;
  if (job.gt) {
    img = cropToMultiple(original, 4);
    if (img.width < 8 || img.height < 8) {
      throw new DataError(`'${job.path}' is too small for a test set (${original.width}x${original.height})`);
    }
    await writePng(join(job.out, "GT", outName(job.path)), img);
  }
  const entries: ManifestImage[] = [];
  for (const s of job.sets) {
    const r = await degradeOne(s.spec, s.task, s.dist, job.seed, job.path, img, original);
    await writePng(join(job.out, s.folder, r.entry.file), r.image);
    entries.push(r.entry);
  }
  return entries;
}

type JobReply =
  | { type: "done"; index: number; entries: ManifestImage[] }
  | { type: "error"; index: number; message: string; user: boolean; stack?: string };

/**
 * Runs image jobs on `workers` worker threads (0: one after the other in this thread) and returns each job's entries
 * in job order. The outputs do not depend on the number of workers. The first failure stops the run.
 */
export async function runImageJobs(
  jobs: ImageJob[],
  workers: number,
  onImage?: (done: number, total: number, file: string) => void,
): Promise<ManifestImage[][]> {
  const results: ManifestImage[][] = new Array(jobs.length);
  let done = 0;
  if (workers <= 0 || jobs.length <= 1) {
    for (const [i, job] of jobs.entries()) {
      results[i] = await processImage(job);
      done++;
      onImage?.(done, jobs.length, job.path);
    }
    return results;
  }
  const pool = Array.from({ length: Math.min(workers, jobs.length) }, () => new Worker(workerUrl("testsets-worker")));
  let next = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      const feed = (w: Worker) => {
        if (next < jobs.length) {
          const index = next++;
          w.postMessage({ index, job: jobs[index] });
        }
      };
      for (const w of pool) {
        w.on("message", (m: JobReply) => {
          if (m.type === "error") {
            const where = jobs[m.index]?.path ?? "?";
            // A user's problem (unreadable image, too small) stays one; anything else is a bug with its stack.
            reject(
              m.user ? new DataError(m.message) : new Error(`while degrading '${where}': ${m.message}\n${m.stack}`),
            );
            return;
          }
          results[m.index] = m.entries;
          // NOTE: not `onImage?.(++done, ...)`: optional chaining skips evaluating the arguments when there is no
          // callback, and the count would never move.
          done++;
          onImage?.(done, jobs.length, jobs[m.index]?.path ?? "");
          if (done === jobs.length) resolve();
          else feed(w);
        });
        w.on("error", reject);
        feed(w);
      }
    });
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
  return results;
}

export interface DegradeFolderOptions {
  task: TaskSpec;
  dist: Dist;
  seed: number;
  /** Worker threads (default 0: this thread). */
  workers?: number;
  /** Called after each image (for progress output). */
  onImage?: (done: number, total: number, file: string) => void;
}

/**
 * Degrades every image of `src` (a folder or one image) with one task at one distribution, writing `<stem>.png`
 * files and `manifest.json` to `out`. Sizes are kept, so each output pairs with its source pixel for pixel.
 */
export async function degradeFolder(src: string, out: string, opts: DegradeFolderOptions): Promise<DegradeManifest> {
  const paths = await listImages(src);
  checkUniqueStems(paths);
  await mkdir(out, { recursive: true });
  const spec = opts.dist === "in" ? opts.task.inDist : opts.task.outDist;
  const set: SetPlan = { task: opts.task.name, dist: opts.dist, spec, folder: "" };
  const jobs = paths.map((path) => ({ path, out, seed: opts.seed, gt: false, sets: [set] }));
  const results = await runImageJobs(jobs, opts.workers ?? 0, opts.onImage);
  const manifest: DegradeManifest = {
    task: opts.task.name,
    dist: opts.dist,
    spec,
    seed: opts.seed,
    images: results.map((r) => r[0] as ManifestImage),
  };
  await writeFileAtomic(join(out, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** The folder of one LQ set inside a test-set root. */
export function testsetFolder(task: string, dist: Dist): string {
  return join(dist === "in" ? "indist" : "outdist", task);
}

export interface TestsetsManifest {
  seed: number;
  /** The shared ground-truth folder, relative to the root. */
  gt: string;
  sets: (DegradeManifest & { folder: string })[];
}

export interface BuildTestsetsOptions {
  tasks: TaskSpec[];
  seed: number;
  /** Worker threads (default 0: this thread). */
  workers?: number;
  onImage?: (done: number, total: number, file: string) => void;
}

/**
 * Builds the paper's synthetic test sets from the images of `src`: `GT/` (each image cropped to multiples of 4, as
 * DIV2K's sizes are, so ×4 SR and the reference's mod-4 crops are no-ops), and for every task `indist/<task>/` and
 * `outdist/<task>/`, plus `manifest.json`.
 */
export async function buildTestsets(src: string, out: string, opts: BuildTestsetsOptions): Promise<TestsetsManifest> {
  const paths = await listImages(src);
  checkUniqueStems(paths);
  const dists: Dist[] = ["in", "out"];
  const plans: SetPlan[] = opts.tasks.flatMap((task) =>
    dists.map((dist) => ({
      task: task.name,
      dist,
      spec: dist === "in" ? task.inDist : task.outDist,
      folder: testsetFolder(task.name, dist),
    })),
  );
  await mkdir(join(out, "GT"), { recursive: true });
  for (const p of plans) await mkdir(join(out, p.folder), { recursive: true });
  const jobs = paths.map((path) => ({ path, out, seed: opts.seed, gt: true, sets: plans }));
  const results = await runImageJobs(jobs, opts.workers ?? 0, opts.onImage);
  const sets = plans.map((p, k) => ({ ...p, seed: opts.seed, images: results.map((r) => r[k] as ManifestImage) }));
  const manifest: TestsetsManifest = { seed: opts.seed, gt: "GT", sets };
  await writeFileAtomic(join(out, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** Mean PSNR (RGB, 8-bit, border crop) of each LQ set of a built test-set root against its GT. */
export async function testsetsPsnr(
  root: string,
  border = 4,
): Promise<{ task: string; dist: Dist; images: number; psnr: number }[]> {
  const manifestPath = join(root, "manifest.json");
  if (!existsSync(manifestPath))
    throw new DataError(`'${root}' has no manifest.json (build it with 'mioc testsets build')`);
  const manifest = JSON.parse(await readFile(manifestPath, "utf8")) as TestsetsManifest;
  const rows = [];
  for (const s of manifest.sets) {
    let sum = 0;
    for (const im of s.images) {
      const gt = await readImage(join(root, manifest.gt, im.file));
      const lq = await readImage(join(root, s.folder, im.file));
      sum += calculatePsnr(gt, lq, border);
    }
    rows.push({ task: s.task, dist: s.dist, images: s.images.length, psnr: sum / s.images.length });
  }
  return rows;
}
