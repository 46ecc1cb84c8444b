// Low-light degradation: gamma darkening x^γ of the quantised [0,1] image (the test script's `add_dark`; the train
// script lost its definition: docs/data.md, "The reference's synthesis", Low-Light), then the 8-bit quantisation.

import { type DegradeFn, param, quantize255 } from "./common.js";

/** `gamma_dark(gamma)`: 255·(v/255)^γ per sample, rounded. A lookup table, since there are only 256 inputs. */
export const gammaDark: DegradeFn = (img, params) => {
  const gamma = param(params, "gamma", "gamma_dark");
  const lut = new Uint8Array(256);
  // The reference computes in float32 on v/255 (img2tensor); Math.fround keeps the same input values.
  for (let v = 0; v < 256; v++) lut[v] = quantize255(Math.fround(Math.fround(v / 255) ** gamma) * 255);
  const data = new Uint8Array(img.data.length);
  for (let i = 0; i < data.length; i++) data[i] = lut[img.data[i] ?? 0] ?? 0;
  return { image: { width: img.width, height: img.height, data }, info: {} };
};
