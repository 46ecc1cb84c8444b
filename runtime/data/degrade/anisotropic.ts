// Anisotropic blur, an Unknown-set degradation (docs/data.md, "The Unknown group"): BasicSR's
// `bivariate_Gaussian(k, σx, σy, θ, isotropic=False)` (the kernel Real-ESRGAN draws for realistic SR), applied as
// `filter2D`: reflect padding of k//2, the same kernel for every channel.

import { type DegradeFn, fromPlanes, param, toPlanes } from "./common.js";
import { correlatePlanes } from "./filter.js";

/**
 * The normalised k×k kernel (row-major) exp(−½ [x y] Σ⁻¹ [x y]ᵀ) on the centred grid, x along a row, y down the
 * rows, with Σ = R(θ) diag(σx², σy²) R(θ)ᵀ and θ = `angle` in degrees: so Σ⁻¹'s quadratic form is
 * (x cos θ + y sin θ)²/σx² + (−x sin θ + y cos θ)²/σy².
 *
 * @example anisotropicKernel(3, 1, 1, 0) // the isotropic Gaussian: gaussianKernel2d(3, 1)
 */
export function anisotropicKernel(size: number, sigmaX: number, sigmaY: number, angle: number): Float64Array {
  const p = { kernel: size, sigma_x: sigmaX, sigma_y: sigmaY, angle };
  for (const name of Object.keys(p)) param(p, name, "anisotropic_blur");
  const theta = (angle * Math.PI) / 180;
  const [c, s] = [Math.cos(theta), Math.sin(theta)];
  const half = (size - 1) / 2;
  const k = new Float64Array(size * size);
  let sum = 0;
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) {
      const [x, y] = [j - half, i - half];
      const u = (c * x + s * y) / sigmaX;
      const v = (-s * x + c * y) / sigmaY;
      const w = Math.exp(-0.5 * (u * u + v * v));
      k[i * size + j] = w;
      sum += w;
    }
  }
  for (let i = 0; i < k.length; i++) k[i] = (k[i] ?? 0) / sum;
  return k;
}

/** `anisotropic_blur(kernel, sigma_x, sigma_y, angle)`: the blurred image, quantised to 8 bits. */
export const anisotropicBlur: DegradeFn = (img, params) => {
  const size = param(params, "kernel", "anisotropic_blur");
  const k = anisotropicKernel(
    size,
    param(params, "sigma_x", "anisotropic_blur"),
    param(params, "sigma_y", "anisotropic_blur"),
    param(params, "angle", "anisotropic_blur"),
  );
  const out = correlatePlanes(toPlanes(img), 3, img.height, img.width, k, size);
  return { image: fromPlanes(out, img.width, img.height), info: {} };
};
