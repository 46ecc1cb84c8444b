// What every degradation shares: its signature, the 8-bit quantisation the reference applies after each step, and
// conversions between interleaved 8-bit RGB and float planes.

import {
  DEGRADATIONS,
  type DegradationName,
  describeLimit,
  paramLimit,
  roundHalfEven,
  withinLimit,
} from "../../../compiler/schema/task.js";
import type { RgbImage } from "../image.js";
import type { Rng } from "../rng.js";

/** A depth map for haze: `data[y * width + x]` in (0, 1], larger = farther, the image's size. */
export interface DepthMap {
  width: number;
  height: number;
  data: Float32Array;
  /** Where it came from, for manifests: `file:<path>` or `prior:<name>`. */
  source: string;
}

/** Inputs some degradations need besides the image (only haze so far). */
export interface DegradeContext {
  /** The scene depth for haze; without it haze computes its documented depth prior from the image. */
  depth?: DepthMap;
}

/** What a degradation reports besides the image (recorded in manifests). */
export interface DegradeInfo {
  /** haze: `file:<path>` or `prior:<name>`. */
  depth?: string;
}

export interface DegradeResult {
  image: RgbImage;
  info: DegradeInfo;
}

/**
 * A degradation: a pure function of (image, parameters, random stream, context). It never mutates its input and it
 * returns an image of the same size.
 */
export type DegradeFn = (
  img: RgbImage,
  params: Readonly<Record<string, number>>,
  rng: Rng,
  ctx: DegradeContext,
) => DegradeResult | Promise<DegradeResult>;

/**
 * Reads a required numeric parameter and holds it to the degradation's limits (compiler/schema/task.ts,
 * `DEGRADATION_LIMITS`, which `mioc check` applies to task declarations): a missing or out-of-range one is a spec bug,
 * named with the degradation.
 */
export function param(params: Readonly<Record<string, number>>, name: string, fn: string): number {
  const v = params[name];
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new Error(`degradation '${fn}' needs a numeric parameter '${name}', got ${String(v)}`);
  }
  if (DEGRADATIONS.includes(fn as DegradationName)) {
    const limit = paramLimit(fn as DegradationName, name);
    if (!withinLimit(limit, v))
      throw new Error(`Argument '${name}' of '${fn}' must be ${describeLimit(limit)}, got ${v}`);
  }
  return v;
}

/** The project's one round-half-to-even lives with the degradation limits (compiler/ cannot import runtime/). */
export { roundHalfEven };

/**
 * The project's one 8-bit quantiser, of a value on the 0..255 scale: `clamp(round(x), 0, 255)`, half to even. It is
 * the degradations' `clamp(round(x*255),0,255)/255` (with the /255 deferred to whoever reads the bytes) and BasicSR's
 * `tensor2img` of a network output (`(clamp(x,0,1)*255).round()`): clamping before or after rounding agrees.
 *
 * @example quantize255(0.5) // 0; quantize255(1.5) // 2; quantize255(254.5) // 254
 */
export function quantize255(x: number): number {
  if (!(x > 0)) return 0; // also maps NaN to 0
  if (x >= 255) return 255;
  return roundHalfEven(x);
}

/**
 * Float32 planes (C×H×W, values on [0,1]) of an 8-bit image, as `img2tensor` makes them (float32 of v/255): what a
 * network reads. Into `out` from `offset` when given (one image of a batch), else into a new array.
 */
export function toPlanes(img: RgbImage, out = new Float32Array(3 * img.width * img.height), offset = 0): Float32Array {
  const n = img.width * img.height;
  const d = img.data;
  for (let i = 0; i < n; i++) {
    out[offset + i] = (d[3 * i] ?? 0) / 255;
    out[offset + n + i] = (d[3 * i + 1] ?? 0) / 255;
    out[offset + 2 * n + i] = (d[3 * i + 2] ?? 0) / 255;
  }
  return out;
}

/** Quantises float planes on [0,1] back to an 8-bit image (`quantize255(x*255)` per sample). */
export function fromPlanes(planes: Float32Array, width: number, height: number): RgbImage {
  const n = width * height;
  const data = new Uint8Array(3 * n);
  for (let i = 0; i < n; i++) {
    data[3 * i] = quantize255((planes[i] ?? 0) * 255);
    data[3 * i + 1] = quantize255((planes[n + i] ?? 0) * 255);
    data[3 * i + 2] = quantize255((planes[2 * n + i] ?? 0) * 255);
  }
  return { width, height, data };
}

/** The project's one reflect index lives with the pad op's reference (compiler/ cannot import runtime/). */
export { reflectIndex } from "../../../compiler/ir/indexing.js";
