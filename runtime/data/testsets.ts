// Offline degradation of image folders: one task or testset over a folder (`mioc degrade`) and the paper's test-set
// layout (`mioc testsets build`): one shared GT folder plus one LQ folder per task and distribution and one per
// Unknown testset, with a manifest of every parameter drawn and of the depth source haze used.

import { randomBytes } from "node:crypto";
import { type Dirent, existsSync, statSync } from "node:fs";
import { mkdir, opendir, readdir, readFile, rename, rm } from "node:fs/promises";
import { basename, dirname, extname, isAbsolute, join, relative, sep } from "node:path";
import { Worker } from "node:worker_threads";
import type { DegradationSpec, TaskSpec, TestsetSpec } from "../../compiler/schema/task.js";
import { MioInputError, MioRuntimeError } from "../errors.js";
import { calculatePsnr } from "../eval/metrics.js";
import type { DepthMap } from "./degrade/common.js";
import { degradeChain } from "./degrade/index.js";
import { findDepthFile, readDepth } from "./depth.js";
import {
  cropToMultiple,
  isImageFile,
  type RgbImage,
  readImage,
  realPathOf,
  writeFileAtomic,
  writePng,
} from "./image.js";
import { dataHash, Rng } from "./rng.js";
import { workerUrl } from "./worker-url.js";

/** A task's in- or out-of-distribution degradation, or (`unknown`) a testset's. */
export type Dist = "in" | "out" | "unknown";

/** The `eval sets` group each distribution's sets belong to (metrics.json's set names). */
export const GROUP_OF_DIST: Readonly<Record<Dist, string>> = { in: "in_dist", out: "out_dist", unknown: "unknown" };

/** What one LQ set is made with: a task at one distribution, or a testset; its degradations run in order. */
export interface SetRecipe {
  /** The task's or the testset's name. */
  task: string;
  dist: Dist;
  steps: DegradationSpec[];
}

/** The recipe of a task's in- or out-of-distribution set. */
export function taskRecipe(task: TaskSpec, dist: "in" | "out"): SetRecipe {
  return { task: task.name, dist, steps: [dist === "in" ? task.inDist : task.outDist] };
}

/** The recipe of an Unknown testset. */
export function testsetRecipe(t: TestsetSpec): SetRecipe {
  return { task: t.name, dist: "unknown", steps: t.degrade };
}

/** One degraded image in a manifest. */
export interface ManifestImage {
  /** Output file name (always `<stem>.png`). */
  file: string;
  /** The source image it was made from. */
  source: string;
  width: number;
  height: number;
  /** The parameters drawn, one record per step of the recipe. */
  params: Record<string, number>[];
  /** haze only: `file:<path>` or `prior:<name>`. */
  depth?: string;
}

/** One recipe (a task at one distribution, or a testset) over a folder. */
export interface DegradeManifest extends SetRecipe {
  seed: number;
  images: ManifestImage[];
}

/** A problem with the data a command was given (missing or empty folder): exit 1 from the runtime's side. */
export class DataError extends MioRuntimeError {}

/** The most images `listImages` takes from one folder (docs/data.md, "Offline degradation"). */
export const MAX_FOLDER_IMAGES = 100_000;

/**
 * Image files of a folder (not recursive), sorted by name; a single image path gives itself. Only regular files are
 * sources: a pipe or device (even one named x.png) is refused before anything reads it, since reading it might never
 * end, and so is a folder of more than `max` images.
 */
export async function listImages(src: string, max = MAX_FOLDER_IMAGES): Promise<string[]> {
  if (!existsSync(src)) throw new DataError(`'${src}' does not exist`);
  const st = statSync(src);
  if (!st.isFile() && !st.isDirectory())
    throw new DataError(`'${src}' is not a file or a folder (a pipe, device or socket)`, "give a folder of images");
  if (st.isFile()) {
    if (!isImageFile(src)) throw new DataError(`'${src}' is not a PNG, JPEG or WebP image`);
    return [src];
  }
  const entries: Dirent[] = [];
  for await (const e of await opendir(src)) {
    if (!isImageFile(e.name)) continue;
    entries.push(e);
    if (entries.length > max)
      throw new DataError(
        `'${src}' has more than ${max.toLocaleString("en-US")} images`,
        "split it into several folders",
      );
  }
  if (entries.length === 0) throw new DataError(`'${src}' has no PNG, JPEG or WebP images`);
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const path = join(src, e.name);
    // A symlink is followed; what it leads to must be a regular file too.
    if (!e.isFile() && !(e.isSymbolicLink() && existsSync(path) && statSync(path).isFile()))
      throw new DataError(
        `'${path}' is not a regular file (a pipe, device, socket or folder)`,
        "remove it from the folder",
      );
  }
  return entries.map((e) => join(src, e.name));
}

/** True when `child` is `parent` or lies under it (both absolute, resolved). */
function isWithin(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/**
 * Refuses (exit 2) an output folder that would overwrite or swallow the sources: the source folder itself (for one
 * image, the folder it is in), a folder containing it (the output replaces the whole folder), or one inside it (its
 * images would then be read as sources: the training loader searches folders recursively). Paths are compared after
 * resolving symlinks.
 */
export function checkOutputPlace(src: string, out: string): void {
  const s = realPathOf(src);
  const single = existsSync(s) && statSync(s).isFile();
  const folder = single ? dirname(s) : s;
  const o = realPathOf(out);
  const what = single ? `the folder of the source image '${src}'` : `the source folder '${src}'`;
  const hint = "write the output to a folder outside the source's";
  if (single && o === s)
    throw new MioInputError(`output '${out}' is the source '${src}': it would be overwritten`, hint);
  if (o === folder) throw new MioInputError(`output '${out}' is ${what}: the originals would be overwritten`, hint);
  if (isWithin(folder, o))
    throw new MioInputError(`output '${out}' contains ${what}: the originals would be replaced`, hint);
  if (isWithin(o, folder))
    throw new MioInputError(
      `output '${out}' is inside ${what}: its images would be read back as sources`,
      `${hint} (folders of images are searched recursively for training)`,
    );
}

/** Every file under `dir`, relative to it, recursively. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => !e.isDirectory()).map((e) => relative(dir, join(e.parentPath, e.name)));
}

/** The files a manifest says its folder holds (relative paths, with the manifest), or undefined if it is not one. */
function manifestFiles(m: unknown): Set<string> | undefined {
  const out = new Set(["manifest.json"]);
  const files = (im: unknown) =>
    im && typeof im === "object" && "images" in im && Array.isArray(im.images) ? im.images : undefined;
  if (m && typeof m === "object" && "sets" in m && Array.isArray(m.sets) && "gt" in m && typeof m.gt === "string") {
    for (const set of m.sets) {
      const images = files(set);
      if (!images || typeof set.folder !== "string") return undefined;
      for (const im of images) {
        out.add(join(set.folder, String(im.file)));
        out.add(join(m.gt, String(im.file)));
      }
    }
    return out;
  }
  const images = files(m);
  if (!images) return undefined;
  for (const im of images) out.add(String(im.file));
  return out;
}

/**
 * Refuses an existing `out` that a new build could not replace without losing something: a file, or a non-empty
 * folder that is not a previous output (a manifest.json listing every file in it).
 */
async function checkReplaceable(out: string, shown: string): Promise<void> {
  if (!existsSync(out)) return;
  if (!statSync(out).isDirectory()) throw new MioInputError(`output '${shown}' exists and is not a folder`);
  const present = await filesUnder(out);
  if (present.length === 0) return;
  const hint = "choose a new folder, or remove this one";
  let known: Set<string> | undefined;
  try {
    known = manifestFiles(JSON.parse(await readFile(join(out, "manifest.json"), "utf8")));
  } catch {
    known = undefined;
  }
  if (!known)
    throw new MioInputError(`output '${shown}' is not empty and holds no manifest.json of a previous build`, hint);
  const extra = present.filter((f) => !known.has(f));
  if (extra.length > 0)
    throw new MioInputError(
      `output '${shown}' holds files no previous build wrote (${extra.slice(0, 3).join(", ")}${extra.length > 3 ? ", ..." : ""}); a new build would delete them`,
      hint,
    );
}

/** Removes `.<name>.partial-<pid>-*` folders next to `out` left by runs that were killed (their process is gone). */
async function removeStalePartials(parent: string, name: string): Promise<void> {
  const prefix = `.${name}.partial-`;
  for (const e of await readdir(parent)) {
    if (!e.startsWith(prefix)) continue;
    const pid = Number(e.slice(prefix.length).split("-")[0]);
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch (err) {
      alive = (err as NodeJS.ErrnoException).code === "EPERM";
    }
    if (!alive) await rm(join(parent, e), { recursive: true, force: true });
  }
}

/**
 * Builds a folder output all or nothing: `build` writes into a hidden sibling folder, which replaces `out` only once
 * it is complete (with its manifest). A failed build removes it, so `out` is never left half-written or without a
 * manifest; a re-run replaces a previous output whole. A run killed outright leaves only a hidden
 * `.<name>.partial-<pid>-*` sibling, removed by the next run.
 */
async function buildInPlace<T>(out: string, build: (dir: string) => Promise<T>): Promise<T> {
  const target = realPathOf(out);
  await checkReplaceable(target, out);
  const parent = dirname(target);
  const name = basename(target);
  await mkdir(parent, { recursive: true });
  await removeStalePartials(parent, name);
  const tag = `${process.pid}-${randomBytes(4).toString("hex")}`;
  const tmp = join(parent, `.${name}.partial-${tag}`);
  await mkdir(tmp);
  let result: T;
  try {
    result = await build(tmp);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
  if (existsSync(target)) {
    // Moved aside, not deleted first: between the two renames `out` is absent, never half there.
    const old = join(parent, `.${name}.old-${tag}`);
    await rename(target, old);
    await rename(tmp, target);
    await rm(old, { recursive: true, force: true });
  } else {
    await rename(tmp, target);
  }
  return result;
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
 * The random stream of one image of one set: a function of (seed, task or testset, dist, image stem) only, so an
 * image's degradation does not change when other images are added or removed.
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

/** Degrades one image with a recipe; returns the image and its manifest entry. */
async function degradeOne(
  recipe: SetRecipe,
  seed: number,
  path: string,
  img: RgbImage,
  original: { width: number; height: number },
): Promise<{ image: RgbImage; entry: ManifestImage }> {
  const depth = recipe.steps.some((s) => s.fn === "haze") ? await depthFor(path, original, img) : undefined;
  const rng = imageRng(seed, recipe.task, recipe.dist, path);
  const r = await degradeChain(recipe.steps, img, rng, depth ? { depth } : {});
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

/** One set an image is degraded into: its recipe and its folder under the output root. */
export interface SetPlan extends SetRecipe {
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
    const r = await degradeOne(s, job.seed, job.path, img, original);
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
  recipe: SetRecipe;
  seed: number;
  /** Worker threads (default 0: this thread). */
  workers?: number;
  /** Called after each image (for progress output). */
  onImage?: (done: number, total: number, file: string) => void;
}

/**
 * Degrades every image of `src` (a folder or one image) with one recipe, writing `<stem>.png`
 * files and `manifest.json` to `out`. Sizes are kept, so each output pairs with its source pixel for pixel. `out`
 * must lie outside the source's folder (`checkOutputPlace`) and appears only complete (`buildInPlace`).
 */
export async function degradeFolder(src: string, out: string, opts: DegradeFolderOptions): Promise<DegradeManifest> {
  const paths = await listImages(src);
  checkUniqueStems(paths);
  checkOutputPlace(src, out);
  return buildInPlace(out, (dir) => degradeInto(paths, dir, opts));
}

async function degradeInto(paths: string[], out: string, opts: DegradeFolderOptions): Promise<DegradeManifest> {
  const set: SetPlan = { ...opts.recipe, folder: "" };
  const jobs = paths.map((path) => ({ path, out, seed: opts.seed, gt: false, sets: [set] }));
  const results = await runImageJobs(jobs, opts.workers ?? 0, opts.onImage);
  const manifest: DegradeManifest = {
    ...opts.recipe,
    seed: opts.seed,
    images: results.map((r) => r[0] as ManifestImage),
  };
  await writeFileAtomic(join(out, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** The folder of one LQ set inside a test-set root: `indist/<task>`, `outdist/<task>` or `unknown/<testset>`. */
export function testsetFolder(task: string, dist: Dist): string {
  return join({ in: "indist", out: "outdist", unknown: "unknown" }[dist], task);
}

export interface TestsetsManifest {
  seed: number;
  /** The shared ground-truth folder, relative to the root. */
  gt: string;
  sets: (DegradeManifest & { folder: string })[];
}

export interface BuildTestsetsOptions {
  tasks: TaskSpec[];
  /** The Unknown testsets to build besides the tasks' sets (default: none). */
  testsets?: TestsetSpec[];
  seed: number;
  /** Worker threads (default 0: this thread). */
  workers?: number;
  onImage?: (done: number, total: number, file: string) => void;
}

/**
 * Builds the paper's synthetic test sets from the images of `src`: `GT/` (each image cropped to multiples of 4, as
 * DIV2K's sizes are, so ×4 SR and the reference's mod-4 crops are no-ops), for every task `indist/<task>/` and
 * `outdist/<task>/`, for every testset `unknown/<testset>/`, plus `manifest.json`. Like `degradeFolder`, `out` lies outside the sources and appears whole.
 */
export async function buildTestsets(src: string, out: string, opts: BuildTestsetsOptions): Promise<TestsetsManifest> {
  const paths = await listImages(src);
  checkUniqueStems(paths);
  checkOutputPlace(src, out);
  return buildInPlace(out, (dir) => buildTestsetsInto(paths, dir, opts));
}

async function buildTestsetsInto(paths: string[], out: string, opts: BuildTestsetsOptions): Promise<TestsetsManifest> {
  const recipes = [
    ...opts.tasks.flatMap((task) => [taskRecipe(task, "in"), taskRecipe(task, "out")]),
    ...(opts.testsets ?? []).map(testsetRecipe),
  ];
  const plans: SetPlan[] = recipes.map((r) => ({ ...r, folder: testsetFolder(r.task, r.dist) }));
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
