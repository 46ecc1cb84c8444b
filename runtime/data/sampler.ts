// One training sample as a pure function of (config, seed, sample index): the loader's workers and its in-thread mode
// both call `Sampler.sample(i)`, so the batches do not depend on how many workers made them or in which order.
//
// A sample (BasicSR's paired pipeline, with degradation on the fly instead of offline folders):
//   1. pick a source by weight, then (reference mode) one of its 300×300 sub-images uniformly — BasicSR's
//      `extract_subimages` grid, step 150, so a large image is drawn in proportion to its area — or an image
//      uniformly; an unreadable image is reported and redrawn (a source whose every image is unreadable is an error)
//   2. pad images smaller than the crop by reflection; pick a crop position uniformly inside the sub-image
//   3. pick a task uniformly among the stage's tasks; draw its in-distribution parameters
//   4. degrade the crop plus a margin of context (so blur, rain and resampling see real neighbours, not a border),
//      then cut the crop out of both; haze uses the whole image's depth (file or prior), cropped
//   5. the same random hflip / vflip / transpose (BasicSR `augment(hflip, rotation)`) on LQ and GT

import type { TaskSpec } from "../../compiler/schema/task.js";
import { MioInputError } from "../errors.js";
import type { DepthMap } from "./degrade/common.js";
import { depthPrior } from "./degrade/haze.js";
import { degradeWith } from "./degrade/index.js";
import { findDepthFile, readDepth } from "./depth.js";
import { cropImage, ImageReadError, type RgbImage, readImage } from "./image.js";
import { dataHash, Rng } from "./rng.js";

/** Everything that decides a sample's content (the cursor's fingerprint covers all of it). */
/** BasicSR `extract_subimages` (gen_sub.py): crop size, step and the threshold for adding a last row/column. */
export interface TileGrid {
  size: number;
  step: number;
  threshold: number;
}

/** The reference's sub-images: 300×300, step 150, a last row/column when more than 48 pixels remain. */
export const REFERENCE_TILES: TileGrid = { size: 300, step: 150, threshold: 48 };

/**
 * Start offsets of the sub-images along one side of `n` pixels (`extract_subimages`: `arange(0, n−size+1, step)`,
 * plus `n − size` when more than `threshold` pixels remain). A side shorter than `size` gives one window at 0.
 */
export function tileStarts(n: number, g: TileGrid): number[] {
  if (n <= g.size) return [0];
  const starts: number[] = [];
  for (let s = 0; s <= n - g.size; s += g.step) starts.push(s);
  const last = starts[starts.length - 1] ?? 0;
  if (n - (last + g.size) > g.threshold) starts.push(n - g.size);
  return starts;
}

export interface SamplerConfig {
  /**
   * Per source: its image files (sorted), its sampling weight and, with `tiles`, each image's size (width, height
   * after EXIF orientation) and, for messages, the folder it was listed from.
   */
  sources: { files: string[]; weight: number; sizes?: [number, number][]; root?: string }[];
  /** Sample sub-images of this grid uniformly (the reference), or, when null, whole images uniformly. */
  tiles: TileGrid | null;
  /** The label space: a sample's task index is its position here. */
  tasks: TaskSpec[];
  /** Names of the tasks this stage mixes, uniformly (a subset of `tasks`). */
  stageTasks: string[];
  /** Square patch size (the paper's gt_size, 128). */
  crop: number;
  /** Context pixels degraded around the crop on each side (clamped to the image). */
  margin: number;
  /** Crop positions drawn per sample; the one with the most detail (`detail`) is kept. 1: uniform. */
  cropCandidates: number;
  /** Random horizontal and vertical flips. */
  flip: boolean;
  /** Random transposition (with the flips: all 8 rotations/reflections). */
  rot: boolean;
  seed: number;
}

/** One sample: LQ and GT crops (8-bit RGB, crop×crop), the task index and the file it came from. */
export interface Sample {
  index: number;
  lq: Uint8Array;
  gt: Uint8Array;
  task: number;
  file: string;
  /** How many unreadable images were drawn (and skipped) before this one. */
  skipped: number;
  /**
   * The unreadable images this sample drew, in draw order, each once: path → message. Every draw counts, not only
   * the first that found the file bad, so what a sample reports does not depend on which samples ran before it in
   * this thread (the loader reports each file at the first sample that drew it, with 0 or N workers alike).
   */
  corrupt: [string, string][];
}

/** Reflect-pads an image on the right and bottom up to at least `w`×`h` (for images smaller than the crop). */
export function padToAtLeast(img: RgbImage, w: number, h: number): RgbImage {
  const W = Math.max(w, img.width);
  const H = Math.max(h, img.height);
  if (W === img.width && H === img.height) return img;
  const refl = (i: number, n: number) => {
    if (n === 1) return 0;
    const p = 2 * (n - 1);
    const m = ((i % p) + p) % p;
    return m < n ? m : p - m;
  };
  const data = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) {
    const sy = refl(y, img.height);
    for (let x = 0; x < W; x++) {
      const s = (sy * img.width + refl(x, img.width)) * 3;
      data.set(img.data.subarray(s, s + 3), (y * W + x) * 3);
    }
  }
  return { width: W, height: H, data };
}

/** Applies BasicSR's paired augmentation to a square HWC patch: hflip, then vflip, then transpose. */
export function augment(src: Uint8Array, size: number, hflip: boolean, vflip: boolean, transpose: boolean): Uint8Array {
  if (!hflip && !vflip && !transpose) return src;
  const out = new Uint8Array(src.length);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      // Output (y, x) reads the source after the flips; transposition swaps the roles of x and y.
      let sx = transpose ? y : x;
      let sy = transpose ? x : y;
      if (hflip) sx = size - 1 - sx;
      if (vflip) sy = size - 1 - sy;
      const s = (sy * size + sx) * 3;
      const o = (y * size + x) * 3;
      out[o] = src[s] ?? 0;
      out[o + 1] = src[s + 1] ?? 0;
      out[o + 2] = src[s + 2] ?? 0;
    }
  }
  return out;
}

interface Cached {
  img: RgbImage;
  /** The haze depth of the whole image (its depth file, else the depth prior), made on first use. */
  depth?: Promise<DepthMap>;
  depthBytes: number;
}

/** Makes samples; keeps a small LRU cache of decoded images (by bytes) and remembers unreadable files. */
export class Sampler {
  private readonly cache = new Map<string, Cached>();
  private readonly loading = new Map<string, Promise<Cached>>();
  private cacheBytes = 0;
  private readonly bad = new Map<string, string>();
  /** Per source, how many of its files are known to be unreadable. */
  private readonly badCount: number[];
  private readonly stage: number[];
  private readonly cumWeights: number[];
  /** With tiles: per source, the cumulative number of sub-images over its files. */
  private readonly cumTiles: number[][] = [];

  constructor(
    readonly config: SamplerConfig,
    private readonly cacheLimitBytes = 256 << 20,
  ) {
    this.stage = config.stageTasks.map((n) => {
      const i = config.tasks.findIndex((t) => t.name === n);
      if (i < 0) throw new Error(`stage task '${n}' is not one of ${config.tasks.map((t) => t.name).join(", ")}`);
      return i;
    });
    if (this.stage.length === 0) throw new Error("a stage needs at least one task");
    let acc = 0;
    this.cumWeights = config.sources.map((s) => {
      if (!(s.weight > 0) || s.files.length === 0)
        throw new Error("every source needs a weight > 0 and at least one image");
      acc += s.weight;
      return acc;
    });
    this.badCount = config.sources.map(() => 0);
    const g = config.tiles;
    if (g) {
      for (const s of config.sources) {
        if (!s.sizes || s.sizes.length !== s.files.length)
          throw new Error("tiled sampling needs the size of every image");
        let n = 0;
        this.cumTiles.push(s.sizes.map(([w, h]) => (n += tileStarts(w, g).length * tileStarts(h, g).length)));
      }
    }
  }

  /** Decodes (or finds in the cache) an image; concurrent requests for one file share one decode. */
  private load(path: string): Promise<Cached> {
    const hit = this.cache.get(path);
    if (hit) {
      this.cache.delete(path); // re-insert: Map order is the LRU order
      this.cache.set(path, hit);
      return Promise.resolve(hit);
    }
    let p = this.loading.get(path);
    if (!p) {
      p = readImage(path)
        .then((img) => {
          const entry: Cached = { img, depthBytes: 0 };
          this.cache.set(path, entry);
          this.cacheBytes += img.data.length;
          for (const [k, v] of this.cache) {
            if (this.cacheBytes <= this.cacheLimitBytes || k === path) break;
            this.cache.delete(k);
            this.cacheBytes -= v.img.data.length + v.depthBytes;
          }
          return entry;
        })
        .finally(() => this.loading.delete(path));
      this.loading.set(path, p);
    }
    return p;
  }

  /**
   * The depth map of a whole cached image: its depth file, else the depth prior of the whole image (so a patch of sky
   * is far and a patch of ground is near, as in the test sets, instead of every patch getting its own gradient).
   */
  private depthOf(path: string, c: Cached): Promise<DepthMap> {
    c.depth ??= (async () => {
      const file = findDepthFile(path);
      const d = file ? await readDepth(file, c.img.width, c.img.height) : depthPrior(c.img);
      c.depthBytes = d.data.byteLength;
      this.cacheBytes += c.depthBytes;
      return d;
    })();
    return c.depth;
  }

  /**
   * Draws an image and the window to crop from: a source by weight, then a sub-image uniformly (tiles) or a file
   * uniformly (the window is then the whole image, marked by a negative size).
   */
  private drawWindow(rng: Rng): { source: number; file: string; tx: number; ty: number; tw: number; th: number } {
    const total = this.cumWeights[this.cumWeights.length - 1] ?? 0;
    const u = rng.float() * total;
    let s = this.cumWeights.findIndex((c) => u < c);
    if (s < 0) s = this.cumWeights.length - 1;
    const src = this.config.sources[s];
    const files = src?.files ?? [];
    const g = this.config.tiles;
    const cum = this.cumTiles[s];
    if (!g || !cum || !src?.sizes)
      return { source: s, file: files[rng.int(0, files.length - 1)] ?? "", tx: 0, ty: 0, tw: -1, th: -1 };
    const t = rng.int(0, (cum[cum.length - 1] ?? 1) - 1);
    // The first file whose cumulative count exceeds t (binary search).
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cum[mid] ?? 0) > t) hi = mid;
      else lo = mid + 1;
    }
    const [w, h] = src.sizes[lo] ?? [0, 0];
    const local = t - (lo > 0 ? (cum[lo - 1] ?? 0) : 0);
    const xs = tileStarts(w, g);
    const ys = tileStarts(h, g);
    // extract_subimages walks rows (h) in the outer loop and columns (w) inside.
    const tx = xs[local % xs.length] ?? 0;
    const ty = ys[Math.floor(local / xs.length)] ?? 0;
    return { source: s, file: files[lo] ?? "", tx, ty, tw: Math.min(g.size, w), th: Math.min(g.size, h) };
  }

  /** Sample `index` of this config: the same bytes wherever and whenever it is made. */
  async sample(index: number): Promise<Sample> {
    const { crop, margin } = this.config;
    const rng = Rng.create(this.config.seed, dataHash("sample"), index >>> 0, Math.floor(index / 2 ** 32));
    const corrupt = new Map<string, string>();
    let skipped = 0;
    let file = "";
    let win = { tx: 0, ty: 0, tw: -1, th: -1 };
    let entry: Cached | undefined;
    for (let attempt = 0; !entry; attempt++) {
      // A safety net for a source with a few readable images among very many unreadable ones (a source with none
      // fails below as soon as this thread knows it); the count is per sample, so where it fails is deterministic.
      if (attempt >= 1000) {
        throw new MioInputError(
          `no readable training image in ${attempt} draws (${this.bad.size} unreadable files so far, e.g. ` +
            `'${[...corrupt.keys()][0] ?? ""}')`,
          "remove or replace the unreadable images in data.train",
        );
      }
      const w = this.drawWindow(rng);
      file = w.file;
      win = w;
      const known = this.bad.get(file);
      if (known === undefined) {
        try {
          entry = await this.load(file);
          continue;
        } catch (e) {
          if (!(e instanceof ImageReadError)) throw e;
          if (!this.bad.has(file)) {
            this.bad.set(file, e.message);
            this.badCount[w.source] = (this.badCount[w.source] ?? 0) + 1;
          }
        }
      }
      skipped++;
      if (!corrupt.has(file)) corrupt.set(file, this.bad.get(file) ?? "");
      const src = this.config.sources[w.source];
      if (src && (this.badCount[w.source] ?? 0) >= src.files.length) {
        throw noReadableImages(src, `${src.files.length} of its images fail to decode, e.g. ${this.bad.get(file)}`);
      }
    }
    const full = padToAtLeast(entry.img, crop, crop);
    // The window to crop from: the sub-image (clamped to the image: a size list can be stale), or the whole image.
    const tw = win.tw < 0 ? full.width : Math.max(crop, Math.min(win.tw, full.width));
    const th = win.th < 0 ? full.height : Math.max(crop, Math.min(win.th, full.height));
    const tx = Math.min(win.tx, full.width - tw);
    const ty = Math.min(win.ty, full.height - th);
    let x = tx + rng.int(0, tw - crop);
    let y = ty + rng.int(0, th - crop);
    // Our photos are smoother than DF2K's: mostly flat crops teach a small model that any fine structure is noise
    // to remove (docs/data.md, "Training loader"). The first of equally detailed candidates wins.
    if (this.config.cropCandidates > 1) {
      let best = detail(full, x, y, crop);
      for (let c = 1; c < this.config.cropCandidates; c++) {
        const [cx, cy] = [tx + rng.int(0, tw - crop), ty + rng.int(0, th - crop)];
        const d = detail(full, cx, cy, crop);
        if (d > best) [best, x, y] = [d, cx, cy];
      }
    }
    const x0 = Math.max(0, x - margin);
    const y0 = Math.max(0, y - margin);
    const x1 = Math.min(full.width, x + crop + margin);
    const y1 = Math.min(full.height, y + crop + margin);
    const region = cropImage(full, x0, y0, x1 - x0, y1 - y0);
    const taskIndex = this.stage[rng.int(0, this.stage.length - 1)] ?? 0;
    const task = this.config.tasks[taskIndex] as TaskSpec;
    let ctx = {};
    if (task.inDist.fn === "haze") {
      // An image padded up to the crop gets the prior of the padded image.
      const d = full === entry.img ? await this.depthOf(file, entry) : depthPrior(full);
      ctx = { depth: cropDepth(d, x0, y0, x1 - x0, y1 - y0) };
    }
    const lqRegion = (await degradeWith(task.inDist, region, rng.fork(dataHash("degrade")), ctx)).image;
    const hflip = this.config.flip && rng.float() < 0.5;
    const vflip = this.config.flip && rng.float() < 0.5;
    const transpose = this.config.rot && rng.float() < 0.5;
    const cut = (im: RgbImage) =>
      augment(cropImage(im, x - x0, y - y0, crop, crop).data, crop, hflip, vflip, transpose);
    return { index, lq: cut(lqRegion), gt: cut(region), task: taskIndex, file, skipped, corrupt: [...corrupt] };
  }
}

/**
 * Detail of the `size`×`size` window at (x, y): the sum over R, G and B of the absolute differences between each
 * pixel and its right and lower neighbours inside the window (8-bit levels).
 */
export function detail(im: RgbImage, x: number, y: number, size: number): number {
  const { data, width } = im;
  let sum = 0;
  for (let j = y; j < y + size; j++) {
    for (let i = x; i < x + size; i++) {
      const o = (j * width + i) * 3;
      for (let c = 0; c < 3; c++) {
        const v = data[o + c] ?? 0;
        if (i + 1 < x + size) sum += Math.abs(v - (data[o + 3 + c] ?? 0));
        if (j + 1 < y + size) sum += Math.abs(v - (data[o + width * 3 + c] ?? 0));
      }
    }
  }
  return sum;
}

/** A training source none of whose images can be read: the loader cannot go on (nor silently drop the source). */
export function noReadableImages(src: { files: string[]; root?: string }, detail?: string): MioInputError {
  const where = src.root ?? (src.files.length === 1 ? src.files[0] : `${src.files.length} files`);
  return new MioInputError(
    `no readable training images in '${where}'${detail ? ` (${detail})` : ""}`,
    "every image of this data.train folder fails to decode: replace the files (a truncated copy, a 0-byte file, " +
      "a text file named .png, a file without read permission)",
  );
}

function cropDepth(d: DepthMap, x: number, y: number, w: number, h: number): DepthMap {
  const data = new Float32Array(w * h);
  for (let r = 0; r < h; r++) data.set(d.data.subarray((y + r) * d.width + x, (y + r) * d.width + x + w), r * w);
  return { width: w, height: h, data, source: d.source };
}
