// SR degradation: PyTorch bicubic ×1/scale down, then bicubic back up to the original size (the reference's training
// synthesis; MIOIR.md §1 SR row and pitfall 2).
//
// The resize reproduces `F.interpolate(mode='bicubic', align_corners=False)` on the CPU in float32: Keys' cubic with
// a = −0.75, source index `scale·(dst+0.5)−0.5`, neighbours clamped at the border, no antialiasing, the horizontal
// pass inside the vertical one. Every product and sum is rounded to float32 (Math.fround) in the kernel's order, so
// the result matches torch's to the last bit or nearly (tests/runtime/data/bicubic.test.ts measures it).

import { type DegradeFn, fromPlanes, param, toPlanes } from "./common.js";

const A = -0.75;
const f = Math.fround;

/** PyTorch's `get_cubic_upsample_coefficients(t)` in float32. */
function cubicCoefficients(t: number, out: Float32Array, o: number): void {
  // cubic_convolution1(x) = ((A+2)x − (A+3))x² + 1 for |x| ≤ 1; cubic_convolution2(x) = ((Ax − 5A)x + 8A)x − 4A.
  const c1 = (x: number) => f(f(f(f(f(A + 2) * x) - f(A + 3)) * x) * x) + 1;
  const c2 = (x: number) => f(f(f(f(f(f(A * x) - f(5 * A)) * x) + f(8 * A)) * x) - f(4 * A));
  const x1 = t;
  out[o] = c2(f(x1 + 1));
  out[o + 1] = c1(x1);
  const x2 = f(1 - t);
  out[o + 2] = c1(x2);
  out[o + 3] = c2(f(x2 + 1));
}

/** For each output index: the four clamped source indices and their weights along one axis. */
function axisTaps(inSize: number, outSize: number, scaleFactor: number | undefined) {
  // area_pixel_compute_scale: 1/scale_factor when one was given, else in/out.
  const scale = scaleFactor !== undefined && scaleFactor > 0 ? f(1 / scaleFactor) : f(inSize / outSize);
  const idx = new Int32Array(outSize * 4);
  const w = new Float32Array(outSize * 4);
  for (let o = 0; o < outSize; o++) {
    const real = f(f(scale * f(o + 0.5)) - 0.5);
    const i0 = Math.floor(real);
    const t = f(real - i0);
    cubicCoefficients(t, w, 4 * o);
    for (let k = 0; k < 4; k++) idx[4 * o + k] = Math.min(Math.max(i0 - 1 + k, 0), inSize - 1);
  }
  return { idx, w };
}

/**
 * Bicubic resize of float planes (C×H×W) as PyTorch's CPU `upsample_bicubic2d` computes it in float32.
 * `scaleH`/`scaleW` are the `scale_factor`s when the caller passed one (they set the source-index scale).
 *
 * @example resizeBicubic(planes, 3, 64, 48, 16, 12, 0.25, 0.25) // F.interpolate(x, scale_factor=0.25, mode='bicubic')
 */
export function resizeBicubic(
  src: Float32Array,
  channels: number,
  height: number,
  width: number,
  outH: number,
  outW: number,
  scaleH?: number,
  scaleW?: number,
): Float32Array {
  const ty = axisTaps(height, outH, scaleH);
  const tx = axisTaps(width, outW, scaleW);
  const out = new Float32Array(channels * outH * outW);
  const rows = new Float32Array(4);
  for (let c = 0; c < channels; c++) {
    const base = c * height * width;
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        for (let k = 0; k < 4; k++) {
          const r = base + (ty.idx[4 * oy + k] ?? 0) * width;
          // Horizontal interpolation of source row k: x0·w0 + x1·w1 + x2·w2 + x3·w3, left to right.
          let acc = f((src[r + (tx.idx[4 * ox] ?? 0)] ?? 0) * (tx.w[4 * ox] ?? 0));
          for (let j = 1; j < 4; j++) {
            acc = f(acc + f((src[r + (tx.idx[4 * ox + j] ?? 0)] ?? 0) * (tx.w[4 * ox + j] ?? 0)));
          }
          rows[k] = acc;
        }
        let v = f((rows[0] ?? 0) * (ty.w[4 * oy] ?? 0));
        for (let k = 1; k < 4; k++) v = f(v + f((rows[k] ?? 0) * (ty.w[4 * oy + k] ?? 0)));
        out[(c * outH + oy) * outW + ox] = v;
      }
    }
  }
  return out;
}

/** Quantises float planes to the 8-bit grid in place, as `clamp(round(x*255),0,255)/255`. */
function quantizePlanes(p: Float32Array, width: number, height: number): Float32Array {
  const img = fromPlanes(p, width, height);
  return toPlanes(img);
}

/**
 * `bicubic_down_up(scale)`: `F.interpolate(scale_factor=1/scale)` then `F.interpolate(size=(h, w))`, both bicubic,
 * each followed by the 8-bit quantisation (the low-resolution image is an 8-bit image in the reference's test data).
 */
export const bicubicDownUp: DegradeFn = (img, params) => {
  const scale = param(params, "scale", "bicubic_down_up");
  const { width, height } = img;
  // F.interpolate's output size: floor(size · scale_factor), in double precision.
  const lowH = Math.floor(height * (1 / scale));
  const lowW = Math.floor(width * (1 / scale));
  if (lowH < 1 || lowW < 1) {
    throw new Error(`bicubic_down_up: a ${width}x${height} image is too small for scale ${scale}`);
  }
  const low = quantizePlanes(
    resizeBicubic(toPlanes(img), 3, height, width, lowH, lowW, 1 / scale, 1 / scale),
    lowW,
    lowH,
  );
  const up = resizeBicubic(low, 3, lowH, lowW, height, width);
  return { image: fromPlanes(up, width, height), info: {} };
};
