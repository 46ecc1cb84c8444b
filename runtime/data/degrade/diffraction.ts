// Diffraction blur, an Unknown-set degradation (docs/data.md, "The Unknown group"): light through a display panel's
// grid of rectangular openings (an under-display camera) spreads into the Fraunhofer pattern of a rectangular
// aperture, sinc²(x/w)·sinc²(y/w): a sharp core with side lobes along the rows and columns that fall off as 1/x².

import { blurPlanes } from "./blur.js";
import { type DegradeFn, fromPlanes, param, toPlanes } from "./common.js";

/** sinc(t) = sin(πt)/(πt), 1 at 0 (numpy's `np.sinc`). */
export function sinc(t: number): number {
  if (t === 0) return 1;
  const a = Math.PI * t;
  return Math.sin(a) / a;
}

/**
 * The normalised 1-D profile sinc²(x/w) on the centred grid −(k−1)/2 .. (k−1)/2; the 2-D pattern is its outer
 * product, so it runs separably.
 *
 * @example diffractionKernel1d(5, 1) // [0, 0, 1, 0, 0]: at w = 1 every other pixel sits on a dark fringe
 */
export function diffractionKernel1d(size: number, width: number): Float64Array {
  param({ kernel: size, width }, "kernel", "diffraction_blur");
  param({ kernel: size, width }, "width", "diffraction_blur");
  const half = (size - 1) / 2;
  const g = Float64Array.from({ length: size }, (_, i) => sinc((i - half) / width) ** 2);
  const sum = g.reduce((s, v) => s + v, 0);
  return g.map((v) => v / sum);
}

/** `diffraction_blur(kernel, width)`: the blurred image, quantised to 8 bits. */
export const diffractionBlur: DegradeFn = (img, params) => {
  const g = diffractionKernel1d(
    param(params, "kernel", "diffraction_blur"),
    param(params, "width", "diffraction_blur"),
  );
  const out = blurPlanes(toPlanes(img), 3, img.height, img.width, g);
  return { image: fromPlanes(out, img.width, img.height), info: {} };
};
