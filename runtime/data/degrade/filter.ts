// 2-D correlation of float planes with a k×k kernel that need not be separable (anisotropic Gaussians, motion
// lines): BasicSR `filter2D` and `cv2.filter2D` semantics, reflect padding of k//2 (PyTorch 'reflect', OpenCV
// BORDER_REFLECT_101), the same kernel for every channel. Separable kernels use `blurPlanes` (blur.ts), which is
// faster.

import { reflectIndex } from "./common.js";

/**
 * out(c, y, x) = Σ_ij K(i, j) · in(c, refl(y + i − r), refl(x + j − r)), r = (k − 1)/2, in float64. Zero taps are
 * skipped, so a line kernel costs its length, not k².
 *
 * @example correlatePlanes(toPlanes(img), 3, img.height, img.width, motionKernel(9, 30), 9)
 */
export function correlatePlanes(
  planes: Float32Array,
  channels: number,
  height: number,
  width: number,
  kernel: Float64Array,
  k: number,
): Float32Array {
  if (kernel.length !== k * k || k % 2 !== 1) throw new Error(`a ${k}x${k} kernel needs k odd and k² taps`);
  const r = (k - 1) / 2;
  const taps: { dy: number; dx: number; w: number }[] = [];
  for (let i = 0; i < k; i++)
    for (let j = 0; j < k; j++) {
      const w = kernel[i * k + j] ?? 0;
      if (w !== 0) taps.push({ dy: i - r, dx: j - r, w });
    }
  const xs = taps.map((t) => Int32Array.from({ length: width }, (_, x) => reflectIndex(x + t.dx, width)));
  const rowOf = (y: number, t: { dy: number }) => reflectIndex(y + t.dy, height) * width;
  const out = new Float32Array(planes.length);
  const acc = new Float64Array(width);
  for (let c = 0; c < channels; c++) {
    const base = c * height * width;
    for (let y = 0; y < height; y++) {
      acc.fill(0);
      for (const [n, t] of taps.entries()) {
        const row = base + rowOf(y, t);
        const xi = xs[n] as Int32Array;
        for (let x = 0; x < width; x++) acc[x] = (acc[x] ?? 0) + t.w * (planes[row + (xi[x] ?? 0)] ?? 0);
      }
      out.set(acc, base + y * width);
    }
  }
  return out;
}
