// The degradation table and the parameter sampler. Parameter ranges are never written here: they come from the task
// specs (stdlib/tasks.mio → TaskSpec), and `sampleParams` draws them per `ParamDist`.

import { type DegradationName, type DegradationSpec, type ParamDist, roundTo } from "../../../compiler/schema/task.js";
import type { RgbImage } from "../image.js";
import { dataHash, type Rng } from "../rng.js";
import { anisotropicBlur } from "./anisotropic.js";
import { bicubicDownUp } from "./bicubic.js";
import { gaussianBlur } from "./blur.js";
import type { DegradeContext, DegradeFn, DegradeResult } from "./common.js";
import { gammaDark } from "./dark.js";
import { diffractionBlur } from "./diffraction.js";
import { haze } from "./haze.js";
import { jpeg } from "./jpeg.js";
import { motionBlur } from "./motion.js";
import { gaussianNoise } from "./noise.js";
import { rain } from "./rain.js";
import { cameraNoise, dim } from "./sensor.js";

export type { DegradeContext, DegradeFn, DegradeInfo, DegradeResult, DepthMap } from "./common.js";

/** Every degradation mio implements, by its .mio name. */
export const degradations = {
  bicubic_down_up: bicubicDownUp,
  gaussian_blur: gaussianBlur,
  gaussian_noise: gaussianNoise,
  jpeg,
  rain,
  haze,
  gamma_dark: gammaDark,
  anisotropic_blur: anisotropicBlur,
  motion_blur: motionBlur,
  diffraction_blur: diffractionBlur,
  dim,
  camera_noise: cameraNoise,
} satisfies Record<DegradationName, DegradeFn>;

/** One draw of a parameter from its distribution. */
export function drawParam(d: ParamDist, rng: Rng): number {
  switch (d.dist) {
    case "const":
      return d.value;
    case "uniform": {
      const u = rng.uniform(d.min, d.max);
      return d.decimals === undefined ? u : roundTo(u, d.decimals);
    }
    case "int":
      return rng.int(d.min, d.max);
    case "odd": {
      const lo = d.min % 2 === 0 ? d.min + 1 : d.min;
      const count = Math.floor((d.max - lo) / 2) + 1;
      if (count < 1) throw new Error(`odd(${d.min}, ${d.max}) contains no odd integer`);
      return lo + 2 * rng.int(0, count - 1);
    }
    case "choice": {
      if (d.values.length === 0) throw new Error("choice() needs at least one value");
      return d.values[rng.int(0, d.values.length - 1)] ?? 0;
    }
  }
}

/**
 * Draws every parameter of a degradation spec. Each parameter has its own stream (forked by its name), so the draws
 * do not depend on the order in which a spec lists its parameters.
 *
 * @example sampleParams({ fn: "gaussian_noise", params: { sigma: { dist: "uniform", min: 15, max: 50, decimals: 0 } } }, rng)
 *          // { sigma: 37 }
 */
export function sampleParams(spec: DegradationSpec, rng: Rng): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of Object.keys(spec.params).sort()) {
    const d = spec.params[name];
    if (d) out[name] = drawParam(d, rng.fork(dataHash(name)));
  }
  return out;
}

/**
 * Applies one degradation. `rng` is the degradation's own stream (noise values, rain drops); use a fresh fork per
 * image so that every image is reproducible alone.
 */
export async function applyDegradation(
  fn: DegradationName,
  img: RgbImage,
  params: Readonly<Record<string, number>>,
  rng: Rng,
  ctx: DegradeContext = {},
): Promise<DegradeResult> {
  const f: DegradeFn | undefined = degradations[fn];
  if (!f) throw new Error(`unknown degradation '${fn}'`);
  return f(img, params, rng, ctx);
}

/** Draws parameters from `spec` and applies it: one degraded image and what was drawn, from one stream. */
export async function degradeWith(
  spec: DegradationSpec,
  img: RgbImage,
  rng: Rng,
  ctx: DegradeContext = {},
): Promise<DegradeResult & { params: Record<string, number> }> {
  const params = sampleParams(spec, rng.fork(dataHash("params")));
  const r = await applyDegradation(spec.fn, img, params, rng.fork(dataHash("apply")), ctx);
  return { ...r, params };
}

/**
 * Applies degradations in order, each quantised to 8 bits as it ends (as the reference does between its steps),
 * each drawing its parameters from its own stream: the first step from `rng` itself, so a chain of one degrades
 * exactly as `degradeWith` does, and step k from `rng.fork(dataHash("step"), k)`. Returns the parameters drawn, one
 * record per step, and the info of the steps merged.
 *
 * @example await degradeChain([blurSpec, noiseSpec, jpegSpec], img, imageRng) // the Wild recipe of one image
 */
export async function degradeChain(
  steps: readonly DegradationSpec[],
  img: RgbImage,
  rng: Rng,
  ctx: DegradeContext = {},
): Promise<DegradeResult & { params: Record<string, number>[] }> {
  let image = img;
  let info = {};
  const params: Record<string, number>[] = [];
  for (const [k, spec] of steps.entries()) {
    const r = await degradeWith(spec, image, k === 0 ? rng : rng.fork(dataHash("step"), k), ctx);
    image = r.image;
    info = { ...info, ...r.info };
    params.push(r.params);
  }
  return { image, info, params };
}
