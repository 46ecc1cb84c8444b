// Blur degradation: an isotropic Gaussian kernel (BasicSR `bivariate_Gaussian(k, σ, σ, 0, isotropic=True)`) applied
// with BasicSR `filter2D`: reflect padding of k//2, the same kernel for every channel (docs/data.md, "The
// reference's synthesis", Blur).

import { type DegradeFn, fromPlanes, param, reflectIndex, toPlanes } from "./common.js";

/**
 * The normalised 1-D Gaussian on the centred grid −(k−1)/2 .. (k−1)/2. The isotropic 2-D kernel is its outer product:
 * exp(−(x²+y²)/2σ²) = exp(−x²/2σ²)·exp(−y²/2σ²), and the 2-D sum is the square of the 1-D sum.
 *
 * @example gaussianKernel1d(3, 1) // [0.2741, 0.4519, 0.2741]
 */
export function gaussianKernel1d(size: number, sigma: number): Float64Array {
  // Held to gaussian_blur's limits (compiler/schema/task.ts) when called directly, as through the degradation.
  param({ kernel: size, sigma }, "kernel", "gaussian_blur");
  param({ kernel: size, sigma }, "sigma", "gaussian_blur");
  const half = (size - 1) / 2;
  const g = new Float64Array(size);
  let sum = 0;
  for (let i = 0; i < size; i++) {
    const x = i - half;
    g[i] = Math.exp((-0.5 * x * x) / (sigma * sigma));
    sum += g[i] ?? 0;
  }
  for (let i = 0; i < size; i++) g[i] = (g[i] ?? 0) / sum;
  return g;
}

/** The k×k kernel BasicSR builds (row-major), for comparison with references. */
export function gaussianKernel2d(size: number, sigma: number): Float64Array {
  const g = gaussianKernel1d(size, sigma);
  const k = new Float64Array(size * size);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) k[y * size + x] = (g[y] ?? 0) * (g[x] ?? 0);
  return k;
}

/**
 * Correlates each plane with the separable kernel g⊗g, reflect-padded by k//2 (PyTorch 'reflect'), in float64.
 * The separable form is exact in real arithmetic; it differs from torch's float32 2-D conv by rounding only.
 */
export function blurPlanes(planes: Float32Array, channels: number, height: number, width: number, g: Float64Array) {
  const k = g.length;
  const r = (k - 1) / 2;
  const out = new Float32Array(planes.length);
  const tmp = new Float64Array(height * width);
  const xi = new Int32Array(width * k);
  for (let x = 0; x < width; x++) for (let j = 0; j < k; j++) xi[x * k + j] = reflectIndex(x - r + j, width);
  const yi = new Int32Array(height * k);
  for (let y = 0; y < height; y++) for (let j = 0; j < k; j++) yi[y * k + j] = reflectIndex(y - r + j, height);
  for (let c = 0; c < channels; c++) {
    const base = c * height * width;
    for (let y = 0; y < height; y++) {
      const row = base + y * width;
      for (let x = 0; x < width; x++) {
        let s = 0;
        for (let j = 0; j < k; j++) s += (g[j] ?? 0) * (planes[row + (xi[x * k + j] ?? 0)] ?? 0);
        tmp[y * width + x] = s;
      }
    }
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let s = 0;
        for (let j = 0; j < k; j++) s += (g[j] ?? 0) * (tmp[(yi[y * k + j] ?? 0) * width + x] ?? 0);
        out[base + y * width + x] = s;
      }
    }
  }
  return out;
}

/** `gaussian_blur(kernel, sigma)`: the blurred image, quantised to 8 bits. */
export const gaussianBlur: DegradeFn = (img, params) => {
  const size = param(params, "kernel", "gaussian_blur");
  const sigma = param(params, "sigma", "gaussian_blur");
  const g = gaussianKernel1d(size, sigma);
  const out = blurPlanes(toPlanes(img), 3, img.height, img.width, g);
  return { image: fromPlanes(out, img.width, img.height), info: {} };
};
