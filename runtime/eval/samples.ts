// Which region of which test image a report shows for each test set: the window of the ground truth with the most
// detail, so the grids show texture and edges rather than a flat sky (docs/reports.md, "Samples"). Deterministic:
// the same images give the same pick.

import { cropImage, type RgbImage } from "../data/image.js";
import { calculatePsnr } from "./metrics.js";

/** The side of the square a sample shows (the whole image when it is smaller). */
export const SAMPLE_SIZE = 160;
/** Candidate windows start every this many pixels. */
const STRIDE = 8;

/** A window of an image and how much detail it holds. */
export interface DetailWindow {
  x: number;
  y: number;
  width: number;
  height: number;
  /** Mean gradient energy of the luma in the window: the mean of (∂x Y)² + (∂y Y)², forward differences. */
  energy: number;
}

/**
 * The `size`×`size` window (clamped to the image) with the highest mean gradient energy of its luma (BT.601
 * weights), among windows every `STRIDE` pixels plus the last row and column; the first in scan order on a tie.
 *
 * @example detailWindow(gt) // { x: 312, y: 96, width: 160, height: 160, energy: 412.7 }
 */
export function detailWindow(img: RgbImage, size = SAMPLE_SIZE): DetailWindow {
  const { width: W, height: H, data } = img;
  const luma = new Float64Array(W * H);
  for (let i = 0; i < W * H; i++)
    luma[i] = 0.299 * (data[3 * i] ?? 0) + 0.587 * (data[3 * i + 1] ?? 0) + 0.114 * (data[3 * i + 2] ?? 0);
  // A summed-area table of the gradient energy, one row and column of zeros ahead.
  const sat = new Float64Array((W + 1) * (H + 1));
  for (let y = 0; y < H; y++) {
    let row = 0;
    for (let x = 0; x < W; x++) {
      const v = luma[y * W + x] ?? 0;
      const dx = x + 1 < W ? (luma[y * W + x + 1] ?? 0) - v : 0;
      const dy = y + 1 < H ? (luma[(y + 1) * W + x] ?? 0) - v : 0;
      row += dx * dx + dy * dy;
      sat[(y + 1) * (W + 1) + x + 1] = (sat[y * (W + 1) + x + 1] ?? 0) + row;
    }
  }
  const w = Math.min(size, W);
  const h = Math.min(size, H);
  const starts = (n: number, s: number) => {
    const out: number[] = [];
    for (let p = 0; p + s <= n; p += STRIDE) out.push(p);
    if (out.at(-1) !== n - s) out.push(n - s);
    return out;
  };
  const at = (x: number, y: number) => sat[y * (W + 1) + x] ?? 0;
  let best: DetailWindow = { x: 0, y: 0, width: w, height: h, energy: Number.NEGATIVE_INFINITY };
  for (const y of starts(H, h))
    for (const x of starts(W, w)) {
      const energy = (at(x + w, y + h) - at(x, y + h) - at(x + w, y) + at(x, y)) / (w * h);
      if (energy > best.energy) best = { x, y, width: w, height: h, energy };
    }
  return best;
}

/** One test set's sample: its panels, cut to the chosen window, and their PSNRs to the GT panel. */
export interface Sample {
  set: string;
  task: string;
  lq: RgbImage;
  out: RgbImage;
  gt: RgbImage;
  lqPsnr: number;
  outPsnr: number;
  /** The detail of the window, which decides between images. */
  energy: number;
}

/**
 * Cuts one image's panels to its detail window and measures them with the set's PSNR (the border crop shrunk for
 * windows too small for it).
 */
export function sampleOf(
  set: string,
  task: string,
  images: { lq: RgbImage; out: RgbImage; gt: RgbImage },
  window: DetailWindow,
  psnr: { crop: number; y_channel: boolean },
): Sample {
  const cut = (im: RgbImage) => cropImage(im, window.x, window.y, window.width, window.height);
  const [lq, out, gt] = [cut(images.lq), cut(images.out), cut(images.gt)];
  const border = Math.min(psnr.crop, Math.floor((Math.min(window.width, window.height) - 1) / 2));
  return {
    set,
    task,
    lq,
    out,
    gt,
    lqPsnr: calculatePsnr(lq, gt, border, psnr.y_channel),
    outPsnr: calculatePsnr(out, gt, border, psnr.y_channel),
    energy: window.energy,
  };
}
