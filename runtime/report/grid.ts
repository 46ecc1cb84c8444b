// Sample grids: the degraded input, the model's output and the ground truth side by side, under a label band,
// so a reader sees what a PSNR number means. The trainer writes one per test set and task (samples/<set>/<task>.png).

import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import sharp from "sharp";
import { type RgbImage, writeFileAtomic } from "../data/image.js";

/** White pixels between the panels. */
export const GAP = 4;
/** Height of the label band above the panels. */
export const LABEL_BAND = 18;

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

/** The label band as SVG: each label centred over its panel. */
function labelSvg(images: readonly RgbImage[], labels: readonly string[], width: number): string {
  // Labels would overlap over panels narrower than about "output" in 12 px type; the band then stays blank.
  if (images.some((im) => im.width < 48)) labels = [];
  let x0 = 0;
  const texts = images.map((im, i) => {
    const cx = x0 + im.width / 2;
    x0 += im.width + GAP;
    return `<text x="${cx}" y="${LABEL_BAND - 5}" text-anchor="middle">${labels[i] ?? ""}</text>`;
  });
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${LABEL_BAND}">` +
    `<g font-family="DejaVu Sans, sans-serif" font-size="12" fill="#222">${texts.join("")}</g></svg>`
  );
}

/**
 * Encodes images side by side under a band of labels as an RGB PNG.
 *
 * @example await encodeLabelledRow([lq, out, gt], ["LQ", "output", "GT"])
 */
export async function encodeLabelledRow(images: readonly RgbImage[], labels: readonly string[]): Promise<Buffer> {
  const row = composeRow(images);
  return sharp(row.data, { raw: { width: row.width, height: row.height, channels: 3 } })
    .extend({ top: LABEL_BAND, background: { r: 255, g: 255, b: 255 } })
    .composite([{ input: Buffer.from(labelSvg(images, labels, row.width)), top: 0, left: 0 }])
    .removeAlpha()
    .png({ compressionLevel: 6, adaptiveFiltering: false })
    .toBuffer();
}

/**
 * Writes `LQ | output | GT` as one PNG (atomically, creating the folder): the panels are the images' own pixels,
 * `GAP` pixels apart, below a `LABEL_BAND`-pixel band of labels.
 *
 * @example await writeTriptych("runs/x/samples/in_dist/sr.png", lq, out, gt)
 */
export async function writeTriptych(path: string, lq: RgbImage, out: RgbImage, gt: RgbImage): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, await encodeLabelledRow([lq, out, gt], ["LQ", "output", "GT"]));
}
