// Motion blur, an Unknown-set degradation (docs/data.md, "The Unknown group"): a camera moving in a straight line
// during the exposure. The kernel is a line of `length` ones through the centre of a length×length grid, turned by
// `angle` degrees with OpenCV's `warpAffine` (bilinear, so a slanted line spreads over neighbouring pixels), and
// normalised; it is applied as `filter2D` with reflect padding, the same kernel for every channel.

import { type DegradeFn, fromPlanes, param, toPlanes } from "./common.js";
import { correlatePlanes } from "./filter.js";
import { cvWarpAffine } from "./rain.js";

/**
 * The normalised L×L motion kernel (row-major): the centre row of ones, rotated by `angle`° (counter-clockwise on
 * screen, as `cv2.getRotationMatrix2D`) about the centre pixel ((L−1)/2, (L−1)/2) and sampled by `cv2.warpAffine`.
 *
 * @example motionKernel(3, 0) // [0,0,0, 1/3,1/3,1/3, 0,0,0]
 */
export function motionKernel(length: number, angle: number): Float64Array {
  param({ length, angle }, "length", "motion_blur");
  param({ length, angle }, "angle", "motion_blur");
  const L = length;
  const line = new Float64Array(L * L);
  line.fill(1, ((L - 1) / 2) * L, ((L + 1) / 2) * L);
  const theta = (angle * Math.PI) / 180;
  const [a, b] = [Math.cos(theta), Math.sin(theta)];
  const c = (L - 1) / 2;
  // cv2.getRotationMatrix2D((c, c), angle, 1)
  const k = cvWarpAffine(line, L, L, [a, b, (1 - a) * c - b * c, -b, a, b * c + (1 - a) * c], L, L);
  const sum = k.reduce((s, v) => s + v, 0);
  for (let i = 0; i < k.length; i++) k[i] = (k[i] ?? 0) / sum;
  return k;
}

/** `motion_blur(length, angle)`: the blurred image, quantised to 8 bits. */
export const motionBlur: DegradeFn = (img, params) => {
  const length = param(params, "length", "motion_blur");
  const k = motionKernel(length, param(params, "angle", "motion_blur"));
  const out = correlatePlanes(toPlanes(img), 3, img.height, img.width, k, length);
  return { image: fromPlanes(out, img.width, img.height), info: {} };
};
