// Offline degradation of image folders: one task over a folder (`mioc degrade`) and the paper's test-set layout
// (`mioc testsets build`): one shared GT folder plus one LQ folder per task and distribution, with a manifest of every
// parameter drawn and of the depth source haze used.

import { existsSync, statSync } from "node:fs";
import { mkdir, readdir, readFile } from "node:fs/promises";
import { basename, extname, join } from "node:path";
import type { DegradationSpec, TaskSpec } from "../../compiler/spec/task.js";
import { MioRuntimeError } from "../errors.js";
import type { DepthMap } from "./degrade/common.js";
import { degradeWith } from "./degrade/index.js";
import { findDepthFile, readDepth } from "./depth.js";
import { cropToMultiple, isImageFile, type RgbImage, readImage, writeFileAtomic, writePng } from "./image.js";
import { psnr } from "./metrics.js";
import { hashString, Rng } from "./rng.js";

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
  return Rng.create(seed, hashString(task), hashString(dist), hashString(basename(file, extname(file))));
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

export interface DegradeFolderOptions {
  task: TaskSpec;
  dist: Dist;
  seed: number;
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
  const manifest: DegradeManifest = { task: opts.task.name, dist: opts.dist, spec, seed: opts.seed, images: [] };
  for (const [i, path] of paths.entries()) {
    const img = await readImage(path);
    const r = await degradeOne(spec, opts.task.name, opts.dist, opts.seed, path, img, img);
    await writePng(join(out, r.entry.file), r.image);
    manifest.images.push(r.entry);
    opts.onImage?.(i + 1, paths.length, path);
  }
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
  await mkdir(join(out, "GT"), { recursive: true });
  const sets = opts.tasks.flatMap((task) =>
    dists.map((dist) => ({
      task: task.name,
      dist,
      spec: dist === "in" ? task.inDist : task.outDist,
      seed: opts.seed,
      folder: testsetFolder(task.name, dist),
      images: [] as ManifestImage[],
    })),
  );
  for (const s of sets) await mkdir(join(out, s.folder), { recursive: true });
  for (const [i, path] of paths.entries()) {
    const original = await readImage(path);
    const gt = cropToMultiple(original, 4);
    if (gt.width < 8 || gt.height < 8)
      throw new DataError(`'${path}' is too small for a test set (${original.width}x${original.height})`);
    await writePng(join(out, "GT", outName(path)), gt);
    for (const s of sets) {
      const r = await degradeOne(s.spec, s.task, s.dist, opts.seed, path, gt, original);
      await writePng(join(out, s.folder, r.entry.file), r.image);
      s.images.push(r.entry);
    }
    opts.onImage?.(i + 1, paths.length, path);
  }
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
      sum += psnr(gt, lq, border);
    }
    rows.push({ task: s.task, dist: s.dist, images: s.images.length, psnr: sum / s.images.length });
  }
  return rows;
}
