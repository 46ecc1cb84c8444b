// Haze degradation: the atmospheric scattering model I = J·T + 255·A·(1 − T), T = exp(−β·d) (RESIDE's synthesis;
// docs/data.md, "The reference's synthesis", Haze), then the 8-bit quantisation. d ∈ (0, 1] is the scene depth
// normalised by its maximum.
//
// The reference reads depth maps predicted by a CNN (DCNF). Without such a map (see depth.ts for the files we read)
// haze uses `depthPrior`, a documented monocular cue, and reports which one it used.

import type { RgbImage } from "../image.js";
import { type DegradeFn, type DepthMap, param, quantize255 } from "./common.js";

/** Name of the depth prior in manifests. Bump the suffix whenever `depthPrior` changes. */
export const DEPTH_PRIOR = "prior:vertical-darkchannel-v1";

/** Sliding-window minimum along rows (dir 1) or columns (dir width) with radius r, clamped at the borders. */
function minFilter1d(src: Float32Array, width: number, height: number, r: number, alongRows: boolean): Float32Array {
  const out = new Float32Array(src.length);
  const [n, lines, step, lineStep] = alongRows ? [width, height, 1, width] : [height, width, width, 1];
  for (let l = 0; l < lines; l++) {
    const base = l * lineStep;
    for (let i = 0; i < n; i++) {
      let m = Number.POSITIVE_INFINITY;
      const a = Math.max(0, i - r);
      const b = Math.min(n - 1, i + r);
      for (let j = a; j <= b; j++) m = Math.min(m, src[base + j * step] ?? 0);
      out[base + i * step] = m;
    }
  }
  return out;
}

/** Box mean with radius r along rows or columns, window clamped at the borders (running sums). */
function boxFilter1d(src: Float32Array, width: number, height: number, r: number, alongRows: boolean): Float32Array {
  const out = new Float32Array(src.length);
  const [n, lines, step, lineStep] = alongRows ? [width, height, 1, width] : [height, width, width, 1];
  const prefix = new Float64Array(n + 1);
  for (let l = 0; l < lines; l++) {
    const base = l * lineStep;
    for (let i = 0; i < n; i++) prefix[i + 1] = (prefix[i] ?? 0) + (src[base + i * step] ?? 0);
    for (let i = 0; i < n; i++) {
      const a = Math.max(0, i - r);
      const b = Math.min(n - 1, i + r);
      out[base + i * step] = ((prefix[b + 1] ?? 0) - (prefix[a] ?? 0)) / (b - a + 1);
    }
  }
  return out;
}

/**
 * A deterministic monocular depth cue for images without a depth map, d ∈ (0, 1]:
 *
 *   d = max(0.6·v + 0.4·dc, 0.05) / max(...)
 *
 * - v = 1 − y/(H−1): the ground-plane prior of outdoor photographs (the top of the frame is farther).
 * - dc: the dark channel (He et al., CVPR 2009) — the minimum of R, G, B over a 15×15 window, on [0, 1] — box-smoothed
 *   over a window of ~1/8 of the image. Distant, bright, low-saturation regions (sky, haze) have a high dark channel.
 *
 * It is a prior, not a depth estimate: it makes haze thicker towards the top and in bright flat regions, which is how
 * real haze tends to look, but it is wrong for close-up scenes and for bright foreground objects.
 */
export function depthPrior(img: RgbImage): DepthMap {
  const { width, height, data } = img;
  const n = width * height;
  const minRgb = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    minRgb[i] = Math.min(data[3 * i] ?? 0, data[3 * i + 1] ?? 0, data[3 * i + 2] ?? 0) / 255;
  }
  const dark = minFilter1d(minFilter1d(minRgb, width, height, 7, true), width, height, 7, false);
  const r = Math.max(1, Math.round(Math.min(width, height) / 16));
  const smooth = boxFilter1d(boxFilter1d(dark, width, height, r, true), width, height, r, false);
  const d = new Float32Array(n);
  let max = 0;
  for (let y = 0; y < height; y++) {
    const v = height > 1 ? 1 - y / (height - 1) : 1;
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const di = Math.max(0.6 * v + 0.4 * (smooth[i] ?? 0), 0.05);
      d[i] = di;
      if (di > max) max = di;
    }
  }
  for (let i = 0; i < n; i++) d[i] = (d[i] ?? 0) / max;
  return { width, height, data: d, source: DEPTH_PRIOR };
}

/** `haze(atmosphere, beta)`: I = J·T + 255·A·(1 − T) with T = exp(−β·d); reports the depth source in `info.depth`. */
export const haze: DegradeFn = (img, params, _rng, ctx) => {
  const A = param(params, "atmosphere", "haze");
  const beta = param(params, "beta", "haze");
  const depth = ctx.depth ?? depthPrior(img);
  if (depth.width !== img.width || depth.height !== img.height) {
    throw new Error(
      `haze: the depth map is ${depth.width}x${depth.height} but the image is ${img.width}x${img.height}`,
    );
  }
  const n = img.width * img.height;
  const data = new Uint8Array(3 * n);
  const air = 255 * A;
  for (let i = 0; i < n; i++) {
    const t = Math.exp(-beta * (depth.data[i] ?? 0));
    const haze = air * (1 - t);
    for (let c = 0; c < 3; c++) data[3 * i + c] = quantize255((img.data[3 * i + c] ?? 0) * t + haze);
  }
  return { image: { width: img.width, height: img.height, data }, info: { depth: depth.source } };
};
