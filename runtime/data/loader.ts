// The training data loader: batches of random paired crops, degraded on the fly with the current stage's task mix,
// made by worker threads ahead of the trainer, seeded and resumable from a cursor.
//
//   const loader = await openLoader({ sources: [{ root: "data/train" }], tasks, stageTasks: ["sr", "blur"],
//                                     crop: 128, batch: 8, seed: 0 });
//   const b = await loader.next();   // b.lq, b.gt: Float32Array NCHW in [0,1]; b.task: Int32Array; b.cursor
//   ...save b.cursor with the checkpoint...
//   await loader.close();
//   const again = await openLoader({ ...sameConfig, cursor: savedCursor }); // continues with the next batch
//
// Sample i is a pure function of (config, seed, i) (see sampler.ts), so a cursor is just the next sample index plus
// a fingerprint of the config, and the batches are the same with 0, 1 or 8 workers.

import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join, relative } from "node:path";
import { Worker } from "node:worker_threads";
import sharp from "sharp";
import type { TaskSpec } from "../../compiler/schema/task.js";
import { MioInputError } from "../errors.js";
import { toPlanes } from "./degrade/common.js";
import { isImageFile } from "./image.js";
import { dataHash } from "./rng.js";
import {
  noReadableImages,
  REFERENCE_TILES,
  type Sample,
  Sampler,
  type SamplerConfig,
  type TileGrid,
} from "./sampler.js";
import { DataError } from "./testsets.js";
import { workerUrl } from "./worker-url.js";

/** A folder of ground-truth images (searched recursively) and its share of the samples. */
export interface LoaderSource {
  root: string;
  /** Relative sampling weight of this source (default 1): P(source) = weight / Σ weights. */
  weight?: number;
}

export interface LoaderConfig {
  sources: LoaderSource[];
  /** The label space: `batch.task[i]` is an index into this list (all the experiment's tasks, in its order). */
  tasks: TaskSpec[];
  /** The current stage's tasks by name, mixed uniformly (default: all of `tasks`). */
  stageTasks?: string[];
  /**
   * Sample 300×300 sub-images (step 150) uniformly, then a crop inside, as the reference's gen_sub.py + meta file do
   * (so an image is drawn in proportion to its area) — the default; another grid; or `false` for whole images
   * uniformly. Image sizes are read (headers only) when the loader opens.
   */
  tiles?: TileGrid | false;
  /** Square patch size (default 128, the paper's gt_size). */
  crop?: number;
  /** Samples per batch. */
  batch: number;
  seed: number;
  /** Random flips (default true) and transposition (default true), as BasicSR's use_flip / use_rot. */
  flip?: boolean;
  rot?: boolean;
  /** Context pixels degraded around each crop (default 16). */
  margin?: number;
  /** Random crop positions drawn per sample, the most detailed kept (default 1: uniform). */
  cropCandidates?: number;
  /** Worker threads (default: 1; 0 makes samples in the calling thread). */
  workers?: number;
  /** Batches made ahead of the trainer (default 2). */
  prefetch?: number;
  /** Decoded-image cache per worker in MiB (default 256). */
  cacheMiB?: number;
  /** Where to continue: a `batch.cursor` / `loader.cursor()` saved with a checkpoint. */
  cursor?: LoaderCursor;
}

/** The loader's position: serialisable as JSON, valid only for the config whose fingerprint it carries. */
export interface LoaderCursor {
  version: 1;
  seed: number;
  /** The index of the next sample to serve. */
  sample: number;
  /** A hash of everything that decides the samples (files, weights, tasks, crop, augmentation). */
  fingerprint: string;
}

/** A batch in the layout the trainer uploads: NCHW float32 in [0, 1]. */
export interface Batch {
  n: number;
  channels: 3;
  height: number;
  width: number;
  lq: Float32Array;
  gt: Float32Array;
  /** Index into `config.tasks` per sample. */
  task: Int32Array;
  /** The source file of each sample (for logs). */
  files: string[];
  /** The cursor after this batch: pass it to `openLoader` to continue with the next one. */
  cursor: LoaderCursor;
}

/** What the loader has seen so far. */
export interface LoaderStats {
  samples: number;
  /** Draws of unreadable images that were skipped (each sample redraws until it finds a readable image). */
  skipped: number;
  /** Unreadable images: path → the decoder's message. */
  corrupt: Map<string, string>;
}

/** Image files under a folder, recursively, sorted by relative path (stable across machines). */
export async function listImageTree(root: string): Promise<string[]> {
  if (!existsSync(root)) throw new DataError(`training source '${root}' does not exist`);
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((e) => e.isFile() && isImageFile(e.name))
    .map((e) => relative(root, join(e.parentPath, e.name)))
    .sort();
  if (files.length === 0) throw new DataError(`training source '${root}' has no PNG, JPEG or WebP images`);
  return files.map((f) => join(root, f));
}

/**
 * Reads each file's size from its header (after EXIF orientation). Unreadable files are returned apart, so the
 * loader can report them once and leave them out.
 */
async function readSizes(
  files: string[],
): Promise<{ ok: string[]; sizes: [number, number][]; bad: [string, string][] }> {
  const ok: string[] = [];
  const sizes: [number, number][] = [];
  const bad: [string, string][] = [];
  for (const f of files) {
    try {
      const m = await sharp(f).metadata();
      ok.push(f);
      sizes.push([m.autoOrient.width, m.autoOrient.height]);
    } catch (e) {
      bad.push([f, `cannot read image '${f}': ${(e as Error).message.split("\n")[0]}`]);
    }
  }
  return { ok, sizes, bad };
}

function fingerprint(c: SamplerConfig): string {
  const { seed: _seed, cropCandidates, ...others } = c;
  // A uniform position (1) is left out, so cursors saved before the setting existed stay valid.
  const rest = cropCandidates > 1 ? { ...others, cropCandidates } : others;
  // The roots only name the sources in messages; the file paths already say where the images are.
  const sources = rest.sources.map(({ root: _root, ...s }) => s);
  return dataHash(JSON.stringify({ ...rest, sources }))
    .toString(16)
    .padStart(8, "0");
}

/** What a worker sends back for a failed sample. */
type WorkerFailure = { index?: number; message?: string; stack?: string; input?: boolean; hint?: string };

/** A worker's failure as an error here: the user's problem (unreadable data) stays an MioInputError. */
function workerError(m: WorkerFailure): Error {
  if (m.input) return new MioInputError(m.message ?? "", m.hint);
  return new Error(`data loader worker: ${m.message}\n${m.stack ?? ""}`);
}

type Pending = { resolve: (s: Sample) => void; reject: (e: Error) => void; promise: Promise<Sample> };

/** The loader. Make one with `openLoader`. */
export class DataLoader {
  readonly stats: LoaderStats = { samples: 0, skipped: 0, corrupt: new Map() };
  private nextSample: number;
  private requested: number;
  private readonly pending = new Map<number, Pending>();
  private readonly workers: Worker[] = [];
  private readonly local: Sampler | undefined;
  private failure: Error | undefined;
  private closing = false;
  private rr = 0;

  constructor(
    readonly config: SamplerConfig,
    private readonly batchSize: number,
    startAt: number,
    private readonly ahead: number,
    workers: number,
    cacheBytes: number,
    readonly fingerprint: string,
    readonly onCorrupt?: (path: string, message: string) => void,
  ) {
    this.nextSample = startAt;
    this.requested = startAt;
    if (workers === 0) {
      this.local = new Sampler(config, cacheBytes);
      return;
    }
    for (let i = 0; i < workers; i++) {
      const w = new Worker(workerUrl("loader-worker"));
      w.on("message", (m: { type: string; sample?: Sample } & WorkerFailure) => {
        if (m.type === "sample" && m.sample) this.settle(m.sample.index, m.sample);
        else this.fail(m.index ?? -1, workerError(m));
      });
      w.on("error", (e) => this.fail(-1, e));
      w.on("exit", (code) => {
        if (!this.closing) this.fail(-1, new Error(`data loader worker exited unexpectedly (code ${code})`));
      });
      w.postMessage({ type: "init", config, cacheBytes });
      this.workers.push(w);
    }
  }

  private entry(i: number): Pending {
    let p = this.pending.get(i);
    if (!p) {
      let resolve!: (s: Sample) => void;
      let reject!: (e: Error) => void;
      const promise = new Promise<Sample>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      promise.catch(() => {}); // rejections are observed by whoever awaits the batch
      p = { resolve, reject, promise };
      this.pending.set(i, p);
    }
    return p;
  }

  private settle(i: number, s: Sample): void {
    this.entry(i).resolve(s);
  }

  /** A worker failure fails every batch from now on: the loader cannot know which samples it would have made. */
  private fail(i: number, e: Error): void {
    this.failure ??= e;
    if (i >= 0) this.entry(i).reject(e);
    for (const p of this.pending.values()) p.reject(e);
  }

  /** Keeps `ahead` batches requested beyond the one being served. */
  private fill(): void {
    const target = this.nextSample + this.batchSize * (1 + this.ahead);
    for (; this.requested < target; this.requested++) {
      const i = this.requested;
      const p = this.entry(i);
      if (this.local) {
        this.local.sample(i).then(p.resolve, p.reject);
      } else {
        const w = this.workers[this.rr++ % this.workers.length] as Worker;
        w.postMessage({ type: "sample", index: i });
      }
    }
  }

  /** Records an unreadable image once and tells `onCorrupt`. */
  reportCorrupt(path: string, message: string): void {
    if (this.stats.corrupt.has(path)) return;
    this.stats.corrupt.set(path, message);
    this.onCorrupt?.(path, message);
  }

  /** The position after the last batch served. */
  cursor(): LoaderCursor {
    return { version: 1, seed: this.config.seed, sample: this.nextSample, fingerprint: this.fingerprint };
  }

  /** The next batch (waits only when the workers have not made it yet). */
  async next(): Promise<Batch> {
    if (this.failure) throw this.failure;
    this.fill();
    const start = this.nextSample;
    const n = this.batchSize;
    const samples: Sample[] = [];
    for (let i = start; i < start + n; i++) samples.push(await this.entry(i).promise);
    for (let i = start; i < start + n; i++) this.pending.delete(i);
    this.nextSample = start + n;
    this.fill();
    const crop = this.config.crop;
    const plane = crop * crop;
    const lq = new Float32Array(n * 3 * plane);
    const gt = new Float32Array(n * 3 * plane);
    const task = new Int32Array(n);
    for (const [b, s] of samples.entries()) {
      toPlanes({ width: crop, height: crop, data: s.lq }, lq, b * 3 * plane);
      toPlanes({ width: crop, height: crop, data: s.gt }, gt, b * 3 * plane);
      task[b] = s.task;
      this.stats.skipped += s.skipped;
      for (const [path, msg] of s.corrupt) this.reportCorrupt(path, msg);
    }
    this.stats.samples += n;
    return {
      n,
      channels: 3,
      height: crop,
      width: crop,
      lq,
      gt,
      task,
      files: samples.map((s) => s.file),
      cursor: this.cursor(),
    };
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }
}

/**
 * Opens a loader: lists the sources, checks the stage's tasks, and starts the workers. With `cursor`, it continues
 * exactly where that cursor was taken; a cursor from another config is refused.
 */
export async function openLoader(
  config: LoaderConfig,
  onCorrupt?: (path: string, message: string) => void,
): Promise<DataLoader> {
  if (config.sources.length === 0) throw new DataError("the loader needs at least one source folder");
  if (!Number.isInteger(config.batch) || config.batch < 1) {
    throw new Error(`Argument 'batch' of 'openLoader' must be a positive integer, got ${config.batch}`);
  }
  const crop = config.crop ?? 128;
  if (!Number.isInteger(crop) || crop < 8)
    throw new Error(`Argument 'crop' of 'openLoader' must be an integer >= 8, got ${crop}`);
  const tiles = config.tiles === false ? null : (config.tiles ?? REFERENCE_TILES);
  const sources: SamplerConfig["sources"] = [];
  const unreadable: [string, string][] = [];
  for (const s of config.sources) {
    const files = await listImageTree(s.root);
    if (!tiles) {
      sources.push({ files, weight: s.weight ?? 1, root: s.root });
      continue;
    }
    const { ok, sizes, bad } = await readSizes(files);
    unreadable.push(...bad);
    if (ok.length === 0) {
      throw noReadableImages(
        { files, root: s.root },
        `${bad.length} of ${files.length} unreadable, e.g. ${bad[0]?.[1]}`,
      );
    }
    sources.push({ files: ok, weight: s.weight ?? 1, sizes, root: s.root });
  }
  const sc: SamplerConfig = {
    sources,
    tiles,
    tasks: config.tasks,
    stageTasks: config.stageTasks ?? config.tasks.map((t) => t.name),
    crop,
    margin: config.margin ?? 16,
    cropCandidates: config.cropCandidates ?? 1,
    flip: config.flip ?? true,
    rot: config.rot ?? true,
    seed: config.seed,
  };
  new Sampler(sc, 0); // validates the stage's tasks and the weights here, in the caller's thread
  const fp = fingerprint(sc);
  let start = 0;
  if (config.cursor) {
    const c = config.cursor;
    if (c.version !== 1 || c.fingerprint !== fp || c.seed !== config.seed) {
      throw new DataError(
        `the loader cursor (seed ${c.seed}, fingerprint ${c.fingerprint}) was taken with another data config ` +
          `(seed ${config.seed}, fingerprint ${fp}): the sources, tasks, crop or augmentation changed`,
      );
    }
    start = c.sample;
  }
  const workers = config.workers ?? 1;
  const loader = new DataLoader(
    sc,
    config.batch,
    start,
    config.prefetch ?? 2,
    workers,
    (config.cacheMiB ?? 256) << 20,
    fp,
    onCorrupt,
  );
  for (const [path, message] of unreadable) loader.reportCorrupt(path, message);
  return loader;
}
