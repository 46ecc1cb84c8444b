// Image quality metrics as the reference computes them (BasicSR `calculate_psnr`, test_y_channel=false).

import type { RgbImage } from "./image.js";

/**
 * PSNR in dB between two 8-bit RGB images of the same size, over all three channels, after cropping `border` pixels
 * from every side (the paper's `crop_border: 4`). Identical images give Infinity.
 *
 * @example psnr(gt, lq, 4) // 27.31
 */
export function psnr(a: RgbImage, b: RgbImage, border = 4): number {
  if (a.width !== b.width || a.height !== b.height) {
    throw new Error(`psnr: image sizes differ (${a.width}x${a.height} vs ${b.width}x${b.height})`);
  }
  const { width, height } = a;
  if (width <= 2 * border || height <= 2 * border) {
    throw new Error(`psnr: a ${width}x${height} image has nothing left after a ${border}-pixel border crop`);
  }
  let se = 0;
  for (let y = border; y < height - border; y++) {
    for (let i = (y * width + border) * 3; i < (y * width + width - border) * 3; i++) {
      const d = (a.data[i] ?? 0) - (b.data[i] ?? 0);
      se += d * d;
    }
  }
  const mse = se / ((width - 2 * border) * (height - 2 * border) * 3);
  return mse === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10((255 * 255) / mse);
}
