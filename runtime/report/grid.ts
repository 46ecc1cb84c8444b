// Sample grids: for one task (or Unknown set), a row per test set with the degraded input, the model's output and
// the ground truth side by side, each panel's PSNR printed under it, so a reader sees what a PSNR number means. The
// trainer writes one per task and testset (samples/<name>.png) from the region evaluation picked (eval/samples.ts).

import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import sharp from "sharp";
import { type RgbImage, writeFileAtomic } from "../data/image.js";
import type { Sample } from "../eval/samples.js";
import { setTitle } from "./tables.js";

/** White pixels between the panels and between the rows. */
export const GAP = 4;
/** Height of the label band above the panels. */
export const LABEL_BAND = 18;
/** Height of the band under each row that holds its panels' PSNRs. */
export const PSNR_BAND = 16;
/** Width of the column left of the panels that names each row's test set. */
export const ROW_LABEL = 64;

/** One row of a grid: a test set's panels and their PSNRs against the GT panel. */
export interface GridRow {
  /** The test set's title: In-Dis, Out-Dis, Unknown. */
  label: string;
  lq: RgbImage;
  out: RgbImage;
  gt: RgbImage;
  lqPsnr: number;
  outPsnr: number;
}

/**
 * Places images left to right, `gap` white pixels apart and top-aligned, on a white canvas as tall as the tallest.
 *
 * @example composeRow([lq, out, gt]) // a (3w + 8) × h image
 */
export function composeRow(images: readonly RgbImage[], gap = GAP): RgbImage {
  const width = images.reduce((s, im) => s + im.width, 0) + gap * Math.max(images.length - 1, 0);
  const height = Math.max(0, ...images.map((im) => im.height));
  const data = new Uint8Array(width * height * 3).fill(255);
  let x0 = 0;
  for (const im of images) {
    for (let y = 0; y < im.height; y++) {
      data.set(im.data.subarray(y * im.width * 3, (y + 1) * im.width * 3), (y * width + x0) * 3);
    }
    x0 += im.width + gap;
  }
  return { width, height, data };
}

/** "24.31 dB"; a PSNR of Infinity (identical images) as "∞ dB". */
const dB = (v: number) => `${Number.isFinite(v) ? v.toFixed(2) : "∞"} dB`;

/** The output's PSNR and its gain over the input's: "24.31 dB (+2.21)". */
export function outputLabel(outPsnr: number, lqPsnr: number): string {
  const d = outPsnr - lqPsnr;
  return Number.isFinite(d) ? `${dB(outPsnr)} (${d >= 0 ? "+" : "−"}${Math.abs(d).toFixed(2)})` : dB(outPsnr);
}

const text = (x: number, y: number, s: string, anchor = "middle") =>
  `<text x="${x}" y="${y}" text-anchor="${anchor}">${s}</text>`;

/**
 * Encodes rows of `LQ | output | GT` as one RGB PNG: a band of column labels on top, each row's set title on its
 * left, each panel's own pixels `GAP` apart, and under the LQ and output panels their PSNR to the GT panel (the
 * output's with its gain over the input, on panels wide enough for it). Text is left out where panels are narrower than 48 pixels, where it
 * would overlap.
 *
 * @example await encodeGrid([{ label: "In-Dis", lq, out, gt, lqPsnr: 22.1, outPsnr: 24.3 }])
 */
export async function encodeGrid(rows: readonly GridRow[]): Promise<Buffer> {
  const composed = rows.map((r) => composeRow([r.lq, r.out, r.gt]));
  const width = ROW_LABEL + Math.max(0, ...composed.map((c) => c.width));
  const rowHeight = (c: RgbImage) => c.height + PSNR_BAND;
  const height = LABEL_BAND + composed.reduce((s, c) => s + rowHeight(c), 0) + GAP * Math.max(rows.length - 1, 0);
  const data = new Uint8Array(width * height * 3).fill(255);
  const texts: string[] = [];
  let y0 = LABEL_BAND;
  rows.forEach((r, k) => {
    const c = composed[k] as RgbImage;
    for (let y = 0; y < c.height; y++)
      data.set(c.data.subarray(y * c.width * 3, (y + 1) * c.width * 3), ((y0 + y) * width + ROW_LABEL) * 3);
    const panels = [r.lq, r.out, r.gt];
    if (panels.every((p) => p.width >= 48)) {
      const centres = panels.map((_, i) => ROW_LABEL + panels.slice(0, i).reduce((s, p) => s + p.width + GAP, 0));
      const [lqX, outX] = centres.map((x, i) => x + (panels[i] as RgbImage).width / 2);
      const under = y0 + c.height + PSNR_BAND - 4;
      // "24.31 dB (+2.21)" needs about 112 pixels at 12 px; a narrower panel shows the PSNR alone.
      const outText = r.out.width >= 112 ? outputLabel(r.outPsnr, r.lqPsnr) : dB(r.outPsnr);
      texts.push(text(lqX ?? 0, under, dB(r.lqPsnr)), text(outX ?? 0, under, outText));
      if (k === 0)
        texts.push(
          ...["LQ", "output", "GT"].map((s, i) =>
            text((centres[i] ?? 0) + (panels[i] as RgbImage).width / 2, LABEL_BAND - 5, s),
          ),
        );
      texts.push(text(4, y0 + Math.min(c.height / 2 + 4, c.height), r.label, "start"));
    }
    y0 += rowHeight(c) + GAP;
  });
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
    `<g font-family="DejaVu Sans, sans-serif" font-size="12" fill="#222">${texts.join("")}</g></svg>`;
  return sharp(data, { raw: { width, height, channels: 3 } })
    .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
    .removeAlpha()
    .png({ compressionLevel: 6, adaptiveFiltering: false })
    .toBuffer();
}

/**
 * Writes one grid per task or testset, `<dir>/<name>.png`, a row per test set in the order the samples come (the
 * evaluation's: In-Dis, Out-Dis, then Unknown).
 *
 * @example await writeSampleGrids(join(runDir, "samples"), evaluation.samples)
 */
export async function writeSampleGrids(dir: string, samples: readonly Sample[]): Promise<void> {
  const byName = new Map<string, GridRow[]>();
  for (const s of samples) {
    const rows = byName.get(s.task) ?? [];
    rows.push({ label: setTitle(s.set), lq: s.lq, out: s.out, gt: s.gt, lqPsnr: s.lqPsnr, outPsnr: s.outPsnr });
    byName.set(s.task, rows);
  }
  for (const [name, rows] of byName) await writeSampleGrid(join(dir, `${name}.png`), rows);
}

/**
 * Writes a sample grid as one PNG, atomically, creating the folder.
 *
 * @example await writeSampleGrid("runs/x/samples/noise.png", [inDisRow, outDisRow])
 */
export async function writeSampleGrid(path: string, rows: readonly GridRow[]): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, await encodeGrid(rows));
}
