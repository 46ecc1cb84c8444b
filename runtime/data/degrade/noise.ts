// Noise degradation: additive white Gaussian noise, independent per RGB channel (BasicSR
// `random_add_gaussian_noise_pt(sigma_range=[σ,σ], gray_prob=0, clip=True, rounds=False)`), then the 8-bit
// quantisation (docs/data.md, "The reference's synthesis", Noise). σ is on the 0–255 scale.

import { type DegradeFn, param, quantize255 } from "./common.js";

/** `gaussian_noise(sigma)`: x + σ·N(0,1) per sample, clipped to 0..255 and rounded. */
export const gaussianNoise: DegradeFn = (img, params, rng) => {
  const sigma = param(params, "sigma", "gaussian_noise");
  const src = img.data;
  const data = new Uint8Array(src.length);
  const z = new Float64Array(src.length);
  rng.fillNormal(z);
  for (let i = 0; i < src.length; i++) data[i] = quantize255((src[i] ?? 0) + sigma * (z[i] ?? 0));
  return { image: { width: img.width, height: img.height, data }, info: {} };
};
