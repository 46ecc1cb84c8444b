import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writePng } from "../../../runtime/data/image.js";
import { type Batch, type DataLoader, type LoaderConfig, openLoader } from "../../../runtime/data/loader.js";
import { Rng } from "../../../runtime/data/rng.js";
import { augment, detail, padToAtLeast, REFERENCE_TILES, tileStarts } from "../../../runtime/data/sampler.js";
import { MioInputError } from "../../../runtime/errors.js";
import { IDENTITY, TASKS } from "./tasks.js";

const root = mkdtempSync(join(tmpdir(), "mio-loader-"));
const srcA = join(root, "a");
const srcB = join(root, "b");
const opened: DataLoader[] = [];

async function photo(path: string, w: number, h: number, seed: number) {
  const r = Rng.create(seed);
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) {
    const x = i % w;
    const y = Math.floor(i / w);
    for (let c = 0; c < 3; c++) {
      data[3 * i + c] = Math.max(
        0,
        Math.min(255, Math.round(128 + 80 * Math.sin(x / (6 + seed) + c) * Math.cos(y / 9) + 8 * r.normal())),
      );
    }
  }
  await writePng(path, { width: w, height: h, data });
}

beforeAll(async () => {
  mkdirSync(join(srcA, "sub"), { recursive: true });
  mkdirSync(srcB);
  await photo(join(srcA, "a1.png"), 96, 80, 1);
  await photo(join(srcA, "sub", "a2.png"), 120, 64, 2);
  await photo(join(srcA, "tiny.png"), 30, 20, 3); // smaller than the crop
  writeFileSync(join(srcA, "broken.png"), "not a png at all");
  // A valid header (so its size can be read) and truncated pixel data: it fails only when decoded.
  await photo(join(root, "whole.png"), 64, 64, 5);
  writeFileSync(join(srcA, "truncated.png"), readFileSync(join(root, "whole.png")).subarray(0, 120));
  await photo(join(srcB, "b1.png"), 72, 72, 4);
});

afterAll(async () => {
  await Promise.all(opened.map((l) => l.close()));
});

async function open(c: Partial<LoaderConfig>, onCorrupt?: (p: string, m: string) => void) {
  const l = await openLoader(
    { sources: [{ root: srcA }, { root: srcB }], tasks: TASKS, crop: 40, batch: 4, seed: 5, workers: 0, ...c },
    onCorrupt,
  );
  opened.push(l);
  return l;
}

async function take(l: DataLoader, n: number): Promise<Batch[]> {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await l.next());
  return out;
}

const same = (a: Batch, b: Batch) =>
  Buffer.from(a.lq.buffer).equals(Buffer.from(b.lq.buffer)) &&
  Buffer.from(a.gt.buffer).equals(Buffer.from(b.gt.buffer)) &&
  Array.from(a.task).join() === Array.from(b.task).join();

describe("training loader", () => {
  it("gives NCHW float batches in [0,1] with task indices of the stage's tasks", async () => {
    const l = await open({ stageTasks: ["blur", "rain", "dark"] });
    const [b] = await take(l, 1);
    if (!b) throw new Error("no batch");
    expect([b.n, b.channels, b.height, b.width]).toEqual([4, 3, 40, 40]);
    expect(b.lq.length).toBe(4 * 3 * 40 * 40);
    expect(b.gt.length).toBe(b.lq.length);
    let lo = 1;
    let hi = 0;
    for (const v of b.lq) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThanOrEqual(1);
    const allowed = ["blur", "rain", "dark"].map((n) => TASKS.findIndex((t) => t.name === n));
    const more = await take(l, 10);
    const seen = new Set(more.flatMap((x) => Array.from(x.task)));
    expect([...seen].sort()).toEqual(allowed.sort());
  });

  it("makes the same batches with 0 or 2 workers, and different ones for another seed", async () => {
    const inThread = await take(await open({}), 4);
    const threaded = await take(await open({ workers: 2 }), 4);
    for (let i = 0; i < 4; i++) expect(same(inThread[i] as Batch, threaded[i] as Batch), `batch ${i}`).toBe(true);
    const other = await take(await open({ seed: 6 }), 1);
    expect(same(other[0] as Batch, inThread[0] as Batch)).toBe(false);
  });

  it("resumes from a cursor (JSON round trip) with exactly the following batches", async () => {
    const l = await open({ workers: 2 });
    const [b0, b1, b2] = await take(l, 3);
    const saved = JSON.parse(JSON.stringify(b0?.cursor));
    expect(saved.sample).toBe(4);
    const r = await open({ workers: 1, cursor: saved });
    const [r1, r2] = await take(r, 2);
    expect(same(r1 as Batch, b1 as Batch)).toBe(true);
    expect(same(r2 as Batch, b2 as Batch)).toBe(true);
    expect(r.cursor().sample).toBe(12);
    await expect(open({ crop: 48, cursor: saved })).rejects.toThrow(/another data config/);
  });

  it("reports, skips and counts unreadable images, and crops images smaller than the patch", async () => {
    const reported: string[] = [];
    const l = await open({}, (p) => reported.push(p));
    const broken = join(srcA, "broken.png");
    const truncated = join(srcA, "truncated.png");
    // Unreadable headers are found when the loader opens; truncated data when the image is first drawn.
    expect(reported).toEqual([broken]);
    const batches = await take(l, 8);
    expect(reported).toEqual([broken, truncated]);
    expect(l.stats.corrupt.get(broken)).toMatch(/cannot read image/);
    expect(l.stats.corrupt.get(truncated)).toMatch(/cannot read image/);
    expect(l.stats.skipped).toBeGreaterThan(0);
    expect(l.stats.samples).toBe(32);
    const files = batches.flatMap((b) => b.files);
    expect(files).not.toContain(broken);
    expect(files).not.toContain(truncated);
    expect(files).toContain(join(srcA, "tiny.png"));
  });

  it("skips every kind of unreadable file the same way with 0 or 2 workers, tiled or not", async () => {
    const dir = join(root, "mixed");
    mkdirSync(dir);
    await photo(join(dir, "good1.png"), 64, 48, 11);
    await photo(join(dir, "good2.png"), 48, 64, 12);
    writeFileSync(join(dir, "x.png"), "a text file named x.png");
    writeFileSync(join(dir, "empty.png"), "");
    writeFileSync(join(dir, "cut.png"), readFileSync(join(dir, "good1.png")).subarray(0, 200));
    // Without read permission; root reads it anyway, so its bytes are no image either: unreadable for everyone.
    writeFileSync(join(dir, "locked.png"), "locked and not a png");
    chmodSync(join(dir, "locked.png"), 0o000);
    const bad = ["x.png", "empty.png", "cut.png", "locked.png"].map((f) => join(dir, f)).sort();
    for (const tiles of [undefined, false] as const) {
      const runs = [];
      for (const workers of [0, 2]) {
        const reported: string[] = [];
        const l = await open({ sources: [{ root: dir }], tiles, workers, crop: 24, batch: 6 }, (p) => reported.push(p));
        const batches = await take(l, 6);
        runs.push({ batches, reported, skipped: l.stats.skipped, corrupt: [...l.stats.corrupt.keys()] });
        expect(
          batches.flatMap((b) => b.files).every((f) => f.includes("good")),
          `tiles ${tiles}`,
        ).toBe(true);
        expect([...l.stats.corrupt.keys()].sort(), `tiles ${tiles}, ${workers} workers`).toEqual(bad);
        for (const m of l.stats.corrupt.values()) expect(m).toMatch(/cannot read image '.*'/);
        expect(l.stats.skipped).toBeGreaterThan(0);
        expect(l.stats.samples).toBe(36);
      }
      const [a, b] = runs as [(typeof runs)[0], (typeof runs)[0]];
      for (let i = 0; i < 6; i++) expect(same(a.batches[i] as Batch, b.batches[i] as Batch), `batch ${i}`).toBe(true);
      expect(b.skipped).toBe(a.skipped);
      // Each file is reported once, at the first sample that drew it: the same order whoever made the samples.
      expect(b.reported).toEqual(a.reported);
    }
  });

  it("fails with 'no readable training images' (an MioInputError) when a source has none, never looping", async () => {
    const dir = join(root, "allbad");
    mkdirSync(dir);
    writeFileSync(join(dir, "x.png"), "text");
    writeFileSync(join(dir, "empty.png"), "");
    await photo(join(root, "whole2.png"), 64, 64, 13);
    writeFileSync(join(dir, "cut.png"), readFileSync(join(root, "whole2.png")).subarray(0, 150));
    const cutOnly = join(root, "cutonly");
    mkdirSync(cutOnly);
    writeFileSync(join(cutOnly, "cut.png"), readFileSync(join(root, "whole2.png")).subarray(0, 150));
    for (const src of [dir, cutOnly]) {
      for (const tiles of [undefined, false] as const) {
        for (const workers of [0, 2]) {
          const what = `${src} tiles ${tiles}, ${workers} workers`;
          // Tiled, bad headers fail when the loader opens; bad data fails the first batch. Either way, at once.
          const err = await open({ sources: [{ root: srcB }, { root: src }], tiles, workers })
            .then((l) => take(l, 20))
            .then(
              () => undefined,
              (e: unknown) => e,
            );
          expect(err, what).toBeInstanceOf(MioInputError);
          expect((err as Error).message, what).toMatch(
            new RegExp(`^no readable training images in '${src.replaceAll("/", "\\/")}'`),
          );
        }
      }
    }
  });

  it("lays sub-images out like BasicSR extract_subimages (300, step 150, threshold 48)", () => {
    const g = REFERENCE_TILES;
    expect(tileStarts(2040, g)).toEqual([0, 150, 300, 450, 600, 750, 900, 1050, 1200, 1350, 1500, 1650, 1740]);
    expect(tileStarts(1356, g)).toEqual([0, 150, 300, 450, 600, 750, 900, 1050]);
    expect(tileStarts(350, g)).toEqual([0, 50]);
    expect(tileStarts(340, g)).toEqual([0]);
    expect(tileStarts(300, g)).toEqual([0]);
    expect(tileStarts(120, g)).toEqual([0]);
  });

  it("draws images in proportion to their sub-images (reference), or uniformly with tiles: false", async () => {
    const dir = join(root, "area");
    mkdirSync(dir);
    await photo(join(dir, "big.png"), 600, 450, 6); // 3 × 2 sub-images
    await photo(join(dir, "small.png"), 200, 150, 7); // 1
    const share = async (tiles: false | undefined) => {
      const l = await open({ sources: [{ root: dir }], tiles, crop: 16, batch: 70 });
      const files = (await take(l, 4)).flatMap((b) => b.files);
      return files.filter((f) => f.endsWith("big.png")).length / files.length;
    };
    const tiled = await share(undefined);
    expect(tiled).toBeGreaterThan(0.78); // 6/7 = 0.857
    expect(tiled).toBeLessThan(0.93);
    const whole = await share(false);
    expect(whole).toBeGreaterThan(0.4); // 1/2
    expect(whole).toBeLessThan(0.6);
  });

  it("samples sources by weight", async () => {
    const l = await open({
      sources: [
        { root: srcA, weight: 3 },
        { root: srcB, weight: 1 },
      ],
      crop: 16,
      batch: 50,
    });
    const files = (await take(l, 4)).flatMap((b) => b.files);
    const fromB = files.filter((f) => f.startsWith(srcB)).length / files.length;
    // 200 draws, P(B) = 1/4 among the draws (broken draws of A are redrawn, which changes this only slightly).
    expect(fromB).toBeGreaterThan(0.14);
    expect(fromB).toBeLessThan(0.36);
  });

  it("measures a window's detail as the sum of |right - here| and |below - here| inside it, over R, G and B", () => {
    // 3x2 image, grey rows 0 10 30 / 5 5 5 in every channel; the 2x2 window at (1, 0) holds 10 30 / 5 5.
    const rows = [0, 10, 30, 5, 5, 5];
    const im = { width: 3, height: 2, data: new Uint8Array(rows.flatMap((v) => [v, v, v])) };
    expect(detail(im, 1, 0, 2)).toBe(3 * (20 + 0 + 5 + 25));
    expect(detail(im, 0, 0, 2)).toBe(3 * (10 + 0 + 5 + 5));
  });

  it("keeps the most detailed of crop_candidates positions: crops land on the textured half of a half-flat photo", async () => {
    const dir = join(root, "half-flat");
    mkdirSync(dir);
    const [w, h] = [160, 40];
    const r = Rng.create(9);
    const data = new Uint8Array(w * h * 3);
    for (let i = 0; i < w * h; i++) for (let c = 0; c < 3; c++) data[3 * i + c] = i % w < 80 ? 128 : r.int(0, 255);
    await writePng(join(dir, "half.png"), { width: w, height: h, data });
    // The mean GT level of a crop's flat columns is 128/255; count crops wholly inside the textured right half by
    // their detail instead: a crop touching the flat half has at most half the detail of one inside the texture.
    const share = async (cropCandidates?: number) => {
      const l = await open({
        sources: [{ root: dir }],
        tasks: [IDENTITY],
        crop: 32,
        tiles: false,
        flip: false,
        rot: false,
        ...(cropCandidates ? { cropCandidates } : {}),
      });
      let textured = 0;
      let n = 0;
      for (const b of await take(l, 8)) {
        for (let k = 0; k < b.n; k++) {
          const plane = b.gt.subarray(k * 3 * 32 * 32, k * 3 * 32 * 32 + 32 * 32);
          let flat = 0;
          for (const v of plane) if (Math.abs(v - 128 / 255) < 1e-6) flat++;
          if (flat < 32) textured++;
          n++;
        }
      }
      return textured / n;
    };
    const uniform = await share();
    const picked = await share(8);
    expect(uniform).toBeLessThan(0.5);
    expect(picked).toBeGreaterThan(0.85);
    // Deterministic, and 1 candidate is the uniform draw itself.
    const [a, b, c] = await Promise.all([share(8), share(1), share()]);
    expect(a).toBe(picked);
    expect(b).toBe(c);
  });

  it("crops the GT where the LQ is (identity task): LQ equals GT, both augmented alike", async () => {
    const l = await open({ tasks: [IDENTITY], crop: 24 });
    for (const b of await take(l, 3)) expect(Buffer.from(b.lq.buffer).equals(Buffer.from(b.gt.buffer))).toBe(true);
  });

  it("hazes crops with the whole image's depth file", async () => {
    const dir = join(root, "hazy");
    mkdirSync(dir);
    await photo(join(dir, "h.png"), 64, 48, 8);
    // A constant depth map (at a quarter of the size): T = e^(−β) everywhere, so LQ is a per-pixel function of GT.
    await sharp(new Uint16Array(16 * 12).fill(4000), { raw: { width: 16, height: 12, channels: 1 } })
      .toColourspace("grey16")
      .png()
      .toFile(join(dir, "h.depth.png"));
    const hazeTask = {
      ...IDENTITY,
      name: "haze1",
      inDist: {
        fn: "haze" as const,
        params: { atmosphere: { dist: "const" as const, value: 1 }, beta: { dist: "const" as const, value: 1 } },
      },
    };
    const l = await open({ sources: [{ root: dir }], tasks: [hazeTask], crop: 24 });
    const t = Math.exp(-1);
    for (const b of await take(l, 2)) {
      for (let i = 0; i < b.gt.length; i += 97) {
        const g = Math.round((b.gt[i] ?? 0) * 255);
        expect(Math.round((b.lq[i] ?? 0) * 255)).toBe(Math.round(g * t + 255 * (1 - t)));
      }
    }
  });

  it("augments like BasicSR (hflip, vflip, transpose) and pads small images by reflection", () => {
    // 2×2 patch, one channel replicated: [[1,2],[3,4]]
    const p = Uint8Array.from([1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]);
    const first = (a: Uint8Array) => [a[0], a[3], a[6], a[9]];
    expect(first(augment(p, 2, true, false, false))).toEqual([2, 1, 4, 3]);
    expect(first(augment(p, 2, false, true, false))).toEqual([3, 4, 1, 2]);
    expect(first(augment(p, 2, false, false, true))).toEqual([1, 3, 2, 4]);
    const padded = padToAtLeast({ width: 2, height: 1, data: Uint8Array.from([10, 10, 10, 20, 20, 20]) }, 4, 2);
    expect([padded.width, padded.height]).toEqual([4, 2]);
    expect(Array.from(padded.data.filter((_, i) => i % 3 === 0))).toEqual([10, 20, 10, 20, 10, 20, 10, 20]);
  });

  it("fails the batch with the worker's error, in a worker or in this thread", async () => {
    const bad = { ...IDENTITY, name: "bad", inDist: { fn: "no_such_fn" as "jpeg", params: {} } };
    for (const workers of [0, 1]) {
      const l = await open({ tasks: [bad], workers });
      await expect(l.next()).rejects.toThrow(/unknown degradation 'no_such_fn'/);
    }
    await expect(open({ stageTasks: ["fog"] })).rejects.toThrow(/stage task 'fog'/);
    await expect(open({ sources: [{ root: join(root, "nope") }] })).rejects.toThrow(/does not exist/);
  });

  it("measures throughput (128×128 crops, all seven tasks, 2 workers)", async () => {
    const big = join(root, "big");
    mkdirSync(big);
    for (let i = 0; i < 4; i++) await photo(join(big, `p${i}.png`), 480, 320, 10 + i);
    const l = await openLoader({ sources: [{ root: big }], tasks: TASKS, crop: 128, batch: 8, seed: 1, workers: 2 });
    opened.push(l);
    await l.next(); // warm-up: workers start and decode
    const t0 = performance.now();
    const n = 6;
    for (let i = 0; i < n; i++) await l.next();
    const s = (n * 8) / ((performance.now() - t0) / 1000);
    console.log(`loader throughput: ${s.toFixed(1)} samples/s (crop 128, batch 8, 2 workers, all 7 tasks)`);
    expect(s).toBeGreaterThan(0);
  });
});
