// SR degradation: PyTorch bicubic ×1/scale down, then bicubic back up to the original size (the reference's training
// synthesis; its test data is made otherwise: docs/data.md, "The reference's synthesis", SR).
//
// The resize reproduces `F.interpolate(mode='bicubic', align_corners=False)` on the CPU in float32: Keys' cubic with
// a = −0.75, source index `scale·(dst+0.5)−0.5`, neighbours clamped at the border, no antialiasing, the horizontal
// pass inside the vertical one. Every product and sum is rounded to float32 (Math.fround) in the kernel's order, so
// the result matches torch's to the last bit or nearly (tests/runtime/data/bicubic.test.ts measures it).

import { MioInputError } from "../../errors.js";
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
  // Horizontal pass over every source row first (H × outW), then the vertical pass: PyTorch interpolates the same
  // four rows horizontally for each output pixel, in the same float32 order, so the result is bit-identical.
  const rows = new Float32Array(height * outW);
  for (let c = 0; c < channels; c++) {
    const base = c * height * width;
    for (let y = 0; y < height; y++) {
      const r = base + y * width;
      for (let ox = 0; ox < outW; ox++) {
        const t = 4 * ox;
        let acc = f((src[r + (tx.idx[t] ?? 0)] ?? 0) * (tx.w[t] ?? 0));
        acc = f(acc + f((src[r + (tx.idx[t + 1] ?? 0)] ?? 0) * (tx.w[t + 1] ?? 0)));
        acc = f(acc + f((src[r + (tx.idx[t + 2] ?? 0)] ?? 0) * (tx.w[t + 2] ?? 0)));
        acc = f(acc + f((src[r + (tx.idx[t + 3] ?? 0)] ?? 0) * (tx.w[t + 3] ?? 0)));
        rows[y * outW + ox] = acc;
      }
    }
    for (let oy = 0; oy < outH; oy++) {
      const t = 4 * oy;
      const r0 = (ty.idx[t] ?? 0) * outW;
      const r1 = (ty.idx[t + 1] ?? 0) * outW;
      const r2 = (ty.idx[t + 2] ?? 0) * outW;
      const r3 = (ty.idx[t + 3] ?? 0) * outW;
      const w0 = ty.w[t] ?? 0;
      const w1 = ty.w[t + 1] ?? 0;
      const w2 = ty.w[t + 2] ?? 0;
      const w3 = ty.w[t + 3] ?? 0;
      const o = (c * outH + oy) * outW;
      for (let ox = 0; ox < outW; ox++) {
        let v = f((rows[r0 + ox] ?? 0) * w0);
        v = f(v + f((rows[r1 + ox] ?? 0) * w1));
        v = f(v + f((rows[r2 + ox] ?? 0) * w2));
        v = f(v + f((rows[r3 + ox] ?? 0) * w3));
        out[o + ox] = v;
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
    // An image the user gave (mioc degrade --task sr on a thumbnail), not a bug.
    throw new MioInputError(
      `a ${width}x${height} image is too small for bicubic_down_up at scale ${scale} (it needs at least ${scale}x${scale} pixels)`,
    );
  }
  const low = quantizePlanes(
    resizeBicubic(toPlanes(img), 3, height, width, lowH, lowW, 1 / scale, 1 / scale),
    lowW,
    lowH,
  );
  const up = resizeBicubic(low, 3, lowH, lowW, height, width);
  return { image: fromPlanes(up, width, height), info: {} };
};
