import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import type { RgbImage } from "../../../runtime/data/image.js";
import {
  composeRow,
  GAP,
  LABEL_BAND,
  outputLabel,
  PSNR_BAND,
  ROW_LABEL,
  writeSampleGrid,
  writeSampleGrids,
} from "../../../runtime/report/grid.js";

function pattern(w: number, h: number, seed: number): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 13 + seed * 71) % 256;
  return { width: w, height: h, data };
}

/** Dark pixels in a rectangle of a decoded PNG: where text was drawn. */
function ink(png: PNG, x0: number, y0: number, w: number, h: number): number {
  let n = 0;
  for (let y = y0; y < y0 + h; y++)
    for (let x = x0; x < x0 + w; x++) if ((png.data[(y * png.width + x) * 4] as number) < 128) n++;
  return n;
}

describe("sample grids", () => {
  it("writes a row per set of LQ | output | GT, each panel's pixels unchanged, its PSNR under it", async () => {
    const rows = [1, 4].map((seed, k) => ({
      label: k === 0 ? "In-Dis" : "Out-Dis",
      lq: pattern(128, 40, seed),
      out: pattern(128, 40, seed + 1),
      gt: pattern(128, 40, seed + 2),
      lqPsnr: 21.5,
      outPsnr: 23.75,
    }));
    const dir = mkdtempSync(join(tmpdir(), "mio-grid-"));
    const path = join(dir, "samples", "sr.png");
    await writeSampleGrid(path, rows);
    const png = PNG.sync.read(readFileSync(path));
    rmSync(dir, { recursive: true });
    const rowHeight = 40 + PSNR_BAND;
    expect([png.width, png.height]).toEqual([ROW_LABEL + 128 * 3 + 2 * GAP, LABEL_BAND + 2 * rowHeight + GAP]);
    rows.forEach((r, k) => {
      const top = LABEL_BAND + k * (rowHeight + GAP);
      [r.lq, r.out, r.gt].forEach((im, i) => {
        const x0 = ROW_LABEL + i * (128 + GAP);
        for (const [x, y] of [
          [0, 0],
          [127, 39],
          [17, 23],
        ] as const) {
          const o = ((top + y) * png.width + x0 + x) * 4;
          const s = (y * 128 + x) * 3;
          expect([png.data[o], png.data[o + 1], png.data[o + 2]]).toEqual([im.data[s], im.data[s + 1], im.data[s + 2]]);
        }
      });
      // Text under the LQ and output panels, none under the GT's; the set's name on the left.
      const under = top + 40;
      expect(ink(png, ROW_LABEL, under, 128, PSNR_BAND)).toBeGreaterThan(20);
      expect(ink(png, ROW_LABEL + 128 + GAP, under, 128, PSNR_BAND)).toBeGreaterThan(20);
      expect(ink(png, ROW_LABEL + 2 * (128 + GAP), under, 128, PSNR_BAND)).toBe(0);
      expect(ink(png, 0, top, ROW_LABEL, 40)).toBeGreaterThan(20);
    });
    expect(ink(png, ROW_LABEL, 0, 3 * 128, LABEL_BAND)).toBeGreaterThan(20);
    // The gaps are white.
    const gapPixel = ((LABEL_BAND + 5) * png.width + ROW_LABEL + 128) * 4;
    expect([png.data[gapPixel], png.data[gapPixel + 1], png.data[gapPixel + 2]]).toEqual([255, 255, 255]);
  });

  it("labels the output with its gain over the input", () => {
    expect(outputLabel(23.75, 21.5)).toBe("23.75 dB (+2.25)");
    expect(outputLabel(20, 21.5)).toBe("20.00 dB (−1.50)");
    expect(outputLabel(Number.POSITIVE_INFINITY, 30)).toBe("∞ dB");
  });

  it("writes one grid per task or testset, its rows in the order of the samples", async () => {
    const s = (set: string, task: string, seed: number) => ({
      set,
      task,
      lq: pattern(50, 30, seed),
      out: pattern(50, 30, seed),
      gt: pattern(50, 30, seed),
      lqPsnr: 20,
      outPsnr: 21,
      energy: 1,
    });
    const dir = mkdtempSync(join(tmpdir(), "mio-grids-"));
    await writeSampleGrids(dir, [s("in_dist", "sr", 1), s("out_dist", "sr", 2), s("unknown", "mild", 3)]);
    const sr = PNG.sync.read(readFileSync(join(dir, "sr.png")));
    const mild = PNG.sync.read(readFileSync(join(dir, "mild.png")));
    rmSync(dir, { recursive: true });
    expect(sr.height).toBe(LABEL_BAND + 2 * (30 + PSNR_BAND) + GAP);
    expect(mild.height).toBe(LABEL_BAND + 30 + PSNR_BAND);
    // The Out-Dis row holds the Out-Dis sample's pixels.
    const o = ((LABEL_BAND + 30 + PSNR_BAND + GAP) * sr.width + ROW_LABEL) * 4;
    expect([sr.data[o], sr.data[o + 1], sr.data[o + 2]]).toEqual(Array.from(pattern(50, 30, 2).data.subarray(0, 3)));
  });

  it("top-aligns images of different heights on white", () => {
    const row = composeRow([pattern(2, 3, 1), pattern(3, 1, 2)], 1);
    expect([row.width, row.height]).toEqual([6, 3]);
    expect(Array.from(row.data.subarray((2 * 6 + 3) * 3, (2 * 6 + 3) * 3 + 3))).toEqual([255, 255, 255]);
    expect(Array.from(row.data.subarray(3 * 3, 3 * 3 + 3))).toEqual(Array.from(pattern(3, 1, 2).data.subarray(0, 3)));
  });
});
