// What a camera sensor does in linear light, for the Unknown test sets (docs/data.md, "The Unknown group"): the
// image's sRGB values are decoded to linear light (IEC 61966-2-1), dimmed or counted as photo-electrons with
// read noise, and encoded back, then quantised to 8 bits.

import { type DegradeFn, param, quantize255 } from "./common.js";

/** The sRGB decoding (IEC 61966-2-1) of v ∈ [0, 1]. srgbToLinear(0.5) ≈ 0.2140 */
export function srgbToLinear(v: number): number {
  return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
}

/** The sRGB encoding of linear light l ∈ [0, 1], clamped to it. linearToSrgb(0.2140) ≈ 0.5 */
export function linearToSrgb(l: number): number {
  const x = Math.min(1, Math.max(0, l));
  return x <= 0.0031308 ? 12.92 * x : 1.055 * x ** (1 / 2.4) - 0.055;
}

/** The linear light of each 8-bit level. */
const LINEAR = Float64Array.from({ length: 256 }, (_, v) => srgbToLinear(v / 255));

/** `dim(light)`: linear light × `light` (a panel or filter passing that fraction), per sample through a table. */
export const dim: DegradeFn = (img, params) => {
  const light = param(params, "light", "dim");
  const lut = LINEAR.map((l) => quantize255(linearToSrgb(l * light) * 255));
  const data = new Uint8Array(img.data.length);
  for (let i = 0; i < data.length; i++) data[i] = lut[img.data[i] ?? 0] ?? 0;
  return { image: { width: img.width, height: img.height, data }, info: {} };
};

/**
 * `camera_noise(photons, read)`: the Poisson–Gaussian model of a raw sensor, per RGB sample in linear light l:
 * Poisson(l·photons)/photons + read·N(0, 1), clamped to [0, 1] and encoded. Shot noise grows with the light (its
 * σ is √(l/photons)), read noise does not, so shadows are the noisiest after encoding — unlike the Noise task's
 * AWGN, which is the same everywhere.
 */
export const cameraNoise: DegradeFn = (img, params, rng) => {
  const photons = param(params, "photons", "camera_noise");
  const read = param(params, "read", "camera_noise");
  const src = img.data;
  const z = new Float64Array(src.length);
  rng.fillNormal(z);
  const data = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const electrons = rng.poisson((LINEAR[src[i] ?? 0] ?? 0) * photons);
    data[i] = quantize255(linearToSrgb(electrons / photons + read * (z[i] ?? 0)) * 255);
  }
  return { image: { width: img.width, height: img.height, data }, info: {} };
};
