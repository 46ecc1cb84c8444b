// Rain degradation: the reference's streak model (docs/data.md, "The reference's synthesis", Rain), step by step
// with OpenCV's semantics:
//
//   noise  = U(0,256) per pixel, zeroed below 256 − amount/100          (np.random.uniform; ~0.2–0.6 % survive)
//   noise  = filter2D(noise, [[0,.1,0],[.1,8,.1],[0,.1,0]])           (cv2.filter2D, BORDER_REFLECT_101)
//   streak = warpAffine(diag(ones(L)), getRotationMatrix2D((L/2,L/2), angle−45, 1−L/100), (L,L))
//   streak = GaussianBlur(streak, (w,w), 0)                            (not normalised)
//   rain   = uint8(normalize(filter2D(noise, streak), 0, 255, NORM_MINMAX))
//   out    = clip(img + rain, 0, 255), the same rain on R, G and B
//
// The big filter2D runs as a scatter over the few non-zero noise pixels, which is exact (same sums, another order).
// NOTE: the reference first crops the image to multiples of 4 (for its depth maps); degradations here keep the size,
// and `mioc testsets build` crops its ground truth to multiples of 4 once for every task.

import { type DegradeFn, param, reflectIndex, roundHalfEven } from "./common.js";

/**
 * OpenCV's `getGaussianKernel(n, 0)`: fixed tables for n ≤ 9 (OpenCV 4's SMALL_GAUSSIAN_SIZE; 3.x stopped at 7),
 * else the sampled Gaussian with σ = 0.3((n−1)/2 − 1) + 0.8.
 */
export function cvGaussianKernel(n: number): Float64Array {
  const small: Record<number, number[]> = {
    1: [1],
    3: [0.25, 0.5, 0.25],
    5: [0.0625, 0.25, 0.375, 0.25, 0.0625],
    7: [0.03125, 0.109375, 0.21875, 0.28125, 0.21875, 0.109375, 0.03125],
    9: [0.015625, 0.05078125, 0.1171875, 0.19921875, 0.234375, 0.19921875, 0.1171875, 0.05078125, 0.015625],
  };
  const fixed = small[n];
  if (fixed) return Float64Array.from(fixed);
  const sigma = ((n - 1) * 0.5 - 1) * 0.3 + 0.8;
  const scale2 = -0.5 / (sigma * sigma);
  const k = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const x = i - (n - 1) * 0.5;
    k[i] = Math.exp(scale2 * x * x);
    sum += k[i] ?? 0;
  }
  for (let i = 0; i < n; i++) k[i] = (k[i] ?? 0) / sum;
  return k;
}

/** cvRound / saturate_cast<int>(double) round half to even, as torch.round does. */
const cvRound = roundHalfEven;

/**
 * `cv2.warpAffine(src, M, (w, h))` for a float64 single-channel image with INTER_LINEAR and a constant 0 border,
 * including OpenCV's fixed-point sampling (coordinates on a 1/32 pixel grid, weights from the 32×32 float table).
 */
export function cvWarpAffine(src: Float64Array, sw: number, sh: number, m: readonly number[], w: number, h: number) {
  // invertAffineTransform: warpAffine maps each destination pixel back through the inverse.
  const [m0 = 0, m1 = 0, m2 = 0, m3 = 0, m4 = 0, m5 = 0] = m;
  let d = m0 * m4 - m1 * m3;
  d = d !== 0 ? 1 / d : 0;
  const a11 = m4 * d;
  const a22 = m0 * d;
  const a12 = -m1 * d;
  const a21 = -m3 * d;
  const b1 = -a11 * m2 - a12 * m5;
  const b2 = -a21 * m2 - a22 * m5;
  const AB = 1024; // 1 << AB_BITS
  const roundDelta = 16; // AB_SCALE / INTER_TAB_SIZE / 2
  const out = new Float64Array(w * h);
  const at = (x: number, y: number) => (x >= 0 && y >= 0 && x < sw && y < sh ? (src[y * sw + x] ?? 0) : 0);
  for (let y = 0; y < h; y++) {
    const x0 = cvRound((a12 * y + b1) * AB) + roundDelta;
    const y0 = cvRound((a22 * y + b2) * AB) + roundDelta;
    for (let x = 0; x < w; x++) {
      const X = (x0 + cvRound(a11 * x * AB)) >> 5;
      const Y = (y0 + cvRound(a21 * x * AB)) >> 5;
      const sx = X >> 5;
      const sy = Y >> 5;
      const fx = Math.fround((X & 31) / 32);
      const fy = Math.fround((Y & 31) / 32);
      const w00 = Math.fround(Math.fround(1 - fy) * Math.fround(1 - fx));
      const w01 = Math.fround(Math.fround(1 - fy) * fx);
      const w10 = Math.fround(fy * Math.fround(1 - fx));
      const w11 = Math.fround(fy * fx);
      out[y * w + x] = at(sx, sy) * w00 + at(sx + 1, sy) * w01 + at(sx, sy + 1) * w10 + at(sx + 1, sy + 1) * w11;
    }
  }
  return out;
}

/** `cv2.sepFilter2D`-style separable correlation (rows, then columns) with BORDER_REFLECT_101, float64. */
function sepFilterReflect(src: Float64Array, w: number, h: number, k: Float64Array): Float64Array {
  const r = (k.length - 1) / 2;
  const tmp = new Float64Array(w * h);
  const out = new Float64Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let j = 0; j < k.length; j++) s += (k[j] ?? 0) * (src[y * w + reflectIndex(x - r + j, w)] ?? 0);
      tmp[y * w + x] = s;
    }
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let j = 0; j < k.length; j++) s += (k[j] ?? 0) * (tmp[reflectIndex(y - r + j, h) * w + x] ?? 0);
      out[y * w + x] = s;
    }
  }
  return out;
}

/**
 * The streak kernel (L×L, row-major): a diagonal line rotated by `angle − 45`° about (L/2, L/2), scaled by
 * 1 − L/100, then Gaussian-blurred with a w×w kernel. Not normalised, as in the reference.
 */
export function rainKernel(length: number, angle: number, width: number): Float64Array {
  const L = length;
  const theta = ((angle - 45) * Math.PI) / 180;
  const scale = 1 - L / 100;
  const alpha = Math.cos(theta) * scale;
  const beta = Math.sin(theta) * scale;
  const cx = L / 2;
  const cy = L / 2;
  // cv2.getRotationMatrix2D(center, angle, scale)
  const m = [alpha, beta, (1 - alpha) * cx - beta * cy, -beta, alpha, beta * cx + (1 - alpha) * cy];
  const diag = new Float64Array(L * L);
  for (let i = 0; i < L; i++) diag[i * L + i] = 1;
  const warped = cvWarpAffine(diag, L, L, m, L, L);
  return sepFilterReflect(warped, L, L, cvGaussianKernel(width));
}

/** The rain layer (uint8, H×W) for one image: sparse drops streaked by `kernel` and min–max normalised to 0..255. */
export function rainLayer(
  width: number,
  height: number,
  amount: number,
  kernel: Float64Array,
  kernelSize: number,
  uniform: () => number,
): Uint8Array {
  const n = width * height;
  // (1) drops: keep U(0,256) draws at or above 256 − amount/100.
  const noise = new Float64Array(n);
  const cut = 256 - amount * 0.01;
  for (let i = 0; i < n; i++) {
    const u = uniform() * 256;
    if (u >= cut) noise[i] = u;
  }
  // (2) the 3×3 filter (cross of 0.1 around a centre of 8), reflect-101 border.
  const f1 = new Float64Array(n);
  for (let y = 0; y < height; y++) {
    const yu = reflectIndex(y - 1, height) * width;
    const yd = reflectIndex(y + 1, height) * width;
    for (let x = 0; x < width; x++) {
      const xl = reflectIndex(x - 1, width);
      const xr = reflectIndex(x + 1, width);
      f1[y * width + x] =
        0.1 * (noise[yu + x] ?? 0) +
        0.1 * (noise[y * width + xl] ?? 0) +
        8 * (noise[y * width + x] ?? 0) +
        0.1 * (noise[y * width + xr] ?? 0) +
        0.1 * (noise[yd + x] ?? 0);
    }
  }
  // (3) filter2D with the streak kernel, anchor (L/2, L/2) (integer division), reflect-101 border:
  //     out(y,x) = Σ_ij K(i,j)·f1(refl(y+i−a), refl(x+j−a)). Scatter every non-zero padded sample instead.
  const L = kernelSize;
  const a = Math.floor(L / 2);
  const taps: number[] = [];
  for (let i = 0; i < L; i++) for (let j = 0; j < L; j++) if ((kernel[i * L + j] ?? 0) !== 0) taps.push(i, j);
  const out = new Float64Array(n);
  const pw = width + L - 1;
  const ph = height + L - 1;
  const colOf = new Int32Array(pw);
  for (let v = 0; v < pw; v++) colOf[v] = reflectIndex(v - a, width);
  for (let u = 0; u < ph; u++) {
    const row = reflectIndex(u - a, height) * width;
    for (let v = 0; v < pw; v++) {
      const val = f1[row + (colOf[v] ?? 0)] ?? 0;
      if (val === 0) continue;
      for (let t = 0; t < taps.length; t += 2) {
        const i = taps[t] ?? 0;
        const j = taps[t + 1] ?? 0;
        const y = u - i;
        const x = v - j;
        if (y >= 0 && y < height && x >= 0 && x < width) {
          const o = y * width + x;
          out[o] = (out[o] ?? 0) + (kernel[i * L + j] ?? 0) * val;
        }
      }
    }
  }
  // (4) cv2.normalize(NORM_MINMAX, 0..255), then numpy's uint8 cast (truncation).
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const v = out[i] ?? 0;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const scale = hi - lo > Number.EPSILON ? 255 / (hi - lo) : 0;
  const shift = -lo * scale;
  const layer = new Uint8Array(n);
  for (let i = 0; i < n; i++) layer[i] = Math.trunc((out[i] ?? 0) * scale + shift);
  return layer;
}

/** `rain(amount, length, angle, width)`: streaks added to every channel, clipped to 0..255. */
export const rain: DegradeFn = (img, params, rng) => {
  const amount = param(params, "amount", "rain");
  const length = param(params, "length", "rain");
  const angle = param(params, "angle", "rain");
  const width = param(params, "width", "rain");
  const kernel = rainKernel(length, angle, width);
  const layer = rainLayer(img.width, img.height, amount, kernel, length, () => rng.float());
  const data = new Uint8Array(img.data.length);
  for (let i = 0; i < layer.length; i++) {
    const r = layer[i] ?? 0;
    for (let c = 0; c < 3; c++) data[3 * i + c] = Math.min(255, (img.data[3 * i + c] ?? 0) + r);
  }
  return { image: { width: img.width, height: img.height, data }, info: {} };
};
