// The Unknown test sets' degradations (docs/data.md, "The Unknown group") against independent references
// (tests/fixtures/data/unknown.json: BasicSR's numpy kernel, OpenCV, numpy/SciPy), and the Poisson sampler of
// camera_noise against the exact distribution. Determinism and limits are in degrade.test.ts, with every other
// degradation.
import { describe, expect, it } from "vitest";
import { anisotropicBlur, anisotropicKernel } from "../../../runtime/data/degrade/anisotropic.js";
import { gaussianKernel2d } from "../../../runtime/data/degrade/blur.js";
import { diffractionBlur, diffractionKernel1d } from "../../../runtime/data/degrade/diffraction.js";
import { degradeChain, degradeWith } from "../../../runtime/data/degrade/index.js";
import { motionBlur, motionKernel } from "../../../runtime/data/degrade/motion.js";
import { cameraNoise, dim, linearToSrgb, srgbToLinear } from "../../../runtime/data/degrade/sensor.js";
import { dataHash, logGamma, Rng } from "../../../runtime/data/rng.js";
import { compare, imageOf, unknownGolden } from "./golden.js";

/** Quantised filters agree with float64 references up to a rounding tie now and then. */
function expectBytesClose(ours: ArrayLike<number>, ref: ArrayLike<number>) {
  const e = compare(ours, ref);
  expect(e.maxAbs).toBeLessThanOrEqual(1);
  expect(e.differing).toBeLessThanOrEqual(Math.ceil(ref.length * 0.002));
  return e;
}

describe("anisotropic_blur vs BasicSR bivariate_Gaussian(isotropic=False) + cv2.filter2D", () => {
  for (const g of unknownGolden.anisotropic) {
    it(`k=${g.kernel} σ=(${g.sigma_x}, ${g.sigma_y}) θ=${g.angle}° on ${g.width}x${g.height}`, async () => {
      const kErr = compare(anisotropicKernel(g.kernel, g.sigma_x, g.sigma_y, g.angle), g.kernel2d);
      expect(kErr.maxAbs).toBeLessThan(1e-15);
      const params = { kernel: g.kernel, sigma_x: g.sigma_x, sigma_y: g.sigma_y, angle: g.angle };
      const r = await anisotropicBlur(imageOf(g.width, g.height, g.input), params, Rng.create(0), {});
      const e = expectBytesClose(r.image.data, g.out);
      console.log(`anisotropic k=${g.kernel}: kernel max|Δ| ${kErr.maxAbs}, bytes differing ${e.differing}`);
    });
  }

  it("is the isotropic Gaussian when σx = σy, and turns with the angle", () => {
    expect(compare(anisotropicKernel(9, 1.7, 1.7, 33), gaussianKernel2d(9, 1.7)).maxAbs).toBeLessThan(1e-15);
    // Long along x at 0°, along y at 90°: the kernel transposes.
    const a = anisotropicKernel(7, 2.5, 0.7, 0);
    const b = anisotropicKernel(7, 2.5, 0.7, 90);
    for (let i = 0; i < 7; i++) for (let j = 0; j < 7; j++) expect(b[j * 7 + i]).toBeCloseTo(a[i * 7 + j] ?? 0, 15);
    expect(a[3 * 7 + 6]).toBeGreaterThan(a[6 * 7 + 3] ?? 0);
  });
});

describe("motion_blur vs cv2.getRotationMatrix2D + warpAffine + filter2D", () => {
  for (const g of unknownGolden.motion) {
    it(`L=${g.length} θ=${g.angle}° on ${g.width}x${g.height}`, async () => {
      const kErr = compare(motionKernel(g.length, g.angle), g.kernel2d);
      expect(kErr.maxAbs).toBeLessThan(1e-12);
      const params = { length: g.length, angle: g.angle };
      const r = await motionBlur(imageOf(g.width, g.height, g.input), params, Rng.create(0), {});
      const e = expectBytesClose(r.image.data, g.out);
      console.log(`motion L=${g.length} θ=${g.angle}: kernel max|Δ| ${kErr.maxAbs}, bytes differing ${e.differing}`);
    });
  }

  it("sums to one and lies along its angle", () => {
    const k = motionKernel(9, 90);
    expect(k.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 14);
    // 90°: the centre column, nothing elsewhere.
    for (let i = 0; i < 9; i++) for (let j = 0; j < 9; j++) if (j !== 4) expect(k[i * 9 + j]).toBeCloseTo(0, 12);
    expect(() => motionKernel(8, 0)).toThrow(/odd/);
  });
});

describe("diffraction_blur vs numpy's sinc² and scipy.ndimage (mirror)", () => {
  for (const g of unknownGolden.diffraction) {
    it(`k=${g.kernel} w=${g.width_px} on ${g.width}x${g.height}`, async () => {
      const kErr = compare(diffractionKernel1d(g.kernel, g.width_px), g.kernel1d);
      expect(kErr.maxAbs).toBeLessThan(1e-15);
      const params = { kernel: g.kernel, width: g.width_px };
      const r = await diffractionBlur(imageOf(g.width, g.height, g.input), params, Rng.create(0), {});
      expectBytesClose(r.image.data, g.out);
    });
  }

  it("has its dark fringes at multiples of the width", () => {
    const g = diffractionKernel1d(13, 2);
    for (const i of [0, 2, 4, 8, 10, 12]) expect(g[i]).toBeCloseTo(0, 15);
    expect(g[6]).toBeGreaterThan(g[5] ?? 1);
    expect(g[5]).toBeGreaterThan(g[3] ?? 1); // the first side lobe
  });
});

describe("dim and the sRGB curves", () => {
  it("decodes and encodes sRGB as IEC 61966-2-1 tabulates it", () => {
    // Published values: 0.5 ↔ 0.214041, 128/255 → 0.215861, the linear segment below 0.04045.
    expect(srgbToLinear(0.5)).toBeCloseTo(0.214041, 6);
    expect(srgbToLinear(128 / 255)).toBeCloseTo(0.215861, 6);
    expect(srgbToLinear(0.04)).toBeCloseTo(0.04 / 12.92, 15);
    for (let v = 0; v <= 255; v++) expect(linearToSrgb(srgbToLinear(v / 255))).toBeCloseTo(v / 255, 12);
    expect(linearToSrgb(2)).toBeCloseTo(1, 15);
    expect(linearToSrgb(-1)).toBe(0);
  });

  for (const g of unknownGolden.dim) {
    it(`matches numpy on all 256 levels at light ${g.light}`, async () => {
      const ramp = { width: 256, height: 1, data: new Uint8Array(768) };
      for (let v = 0; v < 256; v++) ramp.data.fill(v, 3 * v, 3 * v + 3);
      const out = (await dim(ramp, { light: g.light }, Rng.create(0), {})).image.data;
      expect(Array.from({ length: 256 }, (_, v) => out[3 * v])).toEqual(g.lut);
    });
  }
});

describe("the Poisson sampler of camera_noise", () => {
  it("has numpy's log-gamma (SciPy's gammaln)", () => {
    for (const g of unknownGolden.loggam)
      expect(Math.abs(logGamma(g.x) - g.value)).toBeLessThan(1e-12 * Math.max(1, Math.abs(g.value)));
    let logFactorial = 0;
    for (let k = 1; k < 200; k++) {
      logFactorial += Math.log(k);
      expect(logGamma(k + 1)).toBeCloseTo(logFactorial, 9);
    }
  });

  // Pearson's χ² against the exact pmf, over bins with an expected count of 5 or more (the tails pooled).
  for (const lambda of [0.3, 2.5, 9.9, 10, 37.5, 400]) {
    it(`draws Poisson(${lambda}): mean, variance and χ² against the pmf`, () => {
      const n = 40_000;
      const rng = Rng.create(7, Math.round(lambda * 10));
      const counts = new Map<number, number>();
      let [s, s2] = [0, 0];
      for (let i = 0; i < n; i++) {
        const k = rng.poisson(lambda);
        expect(Number.isInteger(k) && k >= 0).toBe(true);
        counts.set(k, (counts.get(k) ?? 0) + 1);
        s += k;
        s2 += k * k;
      }
      const mean = s / n;
      const variance = s2 / n - mean * mean;
      expect(Math.abs(mean - lambda)).toBeLessThan(5 * Math.sqrt(lambda / n));
      expect(Math.abs(variance / lambda - 1)).toBeLessThan(0.05);
      // The pmf by recurrence p(k) = p(k−1)·λ/k, from the mode in log space (no log-gamma involved).
      const mode = Math.floor(lambda);
      let logMode = -lambda;
      for (let k = 1; k <= mode; k++) logMode += Math.log(lambda / k);
      const pmf = (k: number) => {
        let lp = logMode;
        if (k > mode) for (let j = mode + 1; j <= k; j++) lp += Math.log(lambda / j);
        else for (let j = k + 1; j <= mode; j++) lp -= Math.log(lambda / j);
        return Math.exp(lp);
      };
      const hi = Math.ceil(lambda + 8 * Math.sqrt(lambda) + 10);
      let [chi2, bins, pooledObs, pooledExp] = [0, 0, 0, 0];
      for (let k = 0; k <= hi; k++) {
        const e = n * pmf(k);
        const o = counts.get(k) ?? 0;
        if (e < 5) {
          pooledObs += o;
          pooledExp += e;
          continue;
        }
        chi2 += (o - e) ** 2 / e;
        bins++;
      }
      const beyond = [...counts].filter(([k]) => k > hi).reduce((t, [, c]) => t + c, 0);
      pooledObs += beyond;
      pooledExp += n - [...Array(hi + 1).keys()].reduce((t, k) => t + n * pmf(k), 0);
      if (pooledExp > 0) {
        chi2 += (pooledObs - pooledExp) ** 2 / Math.max(pooledExp, 1e-9);
        bins++;
      }
      // The 99.9th percentile of χ² with d degrees of freedom is below d + 3.3√(2d) + 10.
      const dof = Math.max(1, bins - 1);
      expect(chi2).toBeLessThan(dof + 3.3 * Math.sqrt(2 * dof) + 10);
    });
  }

  it("adds signal-dependent noise: its variance in linear light is l/photons + read²", async () => {
    const photons = 200;
    const read = 0.01;
    for (const level of [40, 128, 230]) {
      const flat = { width: 160, height: 120, data: new Uint8Array(160 * 120 * 3).fill(level) };
      const out = (await cameraNoise(flat, { photons, read }, Rng.create(5), {})).image.data;
      const lin = Array.from(out, (v) => srgbToLinear(v / 255));
      const mean = lin.reduce((a, b) => a + b, 0) / lin.length;
      const variance = lin.reduce((a, b) => a + (b - mean) ** 2, 0) / lin.length;
      const l = srgbToLinear(level / 255);
      expect(mean).toBeCloseTo(l, 2);
      // 8-bit quantisation after encoding adds a little; clipping at 0 and 1 removes almost nothing here.
      expect(variance / (l / photons + read * read)).toBeGreaterThan(0.9);
      expect(variance / (l / photons + read * read)).toBeLessThan(1.15);
    }
    // Without light and read noise there is nothing to count: black stays black.
    const black = { width: 8, height: 8, data: new Uint8Array(192) };
    const r = await cameraNoise(black, { photons: 50, read: 0 }, Rng.create(1), {});
    expect(r.image.data.every((v) => v === 0)).toBe(true);
  });
});

describe("a chain of degradations", () => {
  const img = imageOf(
    24,
    20,
    Array.from({ length: 24 * 20 * 3 }, (_, i) => (i * 37) % 256),
  );
  const noise = { fn: "gaussian_noise" as const, params: { sigma: { dist: "uniform" as const, min: 5, max: 9 } } };
  const blur = {
    fn: "gaussian_blur" as const,
    params: { kernel: { dist: "const" as const, value: 5 }, sigma: { dist: "const" as const, value: 1 } },
  };

  it("of one step degrades exactly as degradeWith", async () => {
    const a = await degradeChain([noise], img, Rng.create(3, 1));
    const b = await degradeWith(noise, img, Rng.create(3, 1));
    expect(Buffer.from(a.image.data).equals(Buffer.from(b.image.data))).toBe(true);
    expect(a.params).toEqual([b.params]);
  });

  it("runs its steps in order, each with its own draws", async () => {
    const r = await degradeChain([blur, noise, noise], img, Rng.create(3, 1));
    expect(r.params).toHaveLength(3);
    expect(r.params[1]).not.toEqual(r.params[2]);
    // Step k reads step k−1's output and draws from fork("step", k).
    const blurred = await degradeWith(blur, img, Rng.create(3, 1));
    const noisy = await degradeWith(noise, blurred.image, Rng.create(3, 1).fork(dataHash("step"), 1));
    const two = await degradeChain([blur, noise], img, Rng.create(3, 1));
    expect(Buffer.from(two.image.data).equals(Buffer.from(noisy.image.data))).toBe(true);
    const again = await degradeChain([blur, noise, noise], img, Rng.create(3, 1));
    expect(Buffer.from(again.image.data).equals(Buffer.from(r.image.data))).toBe(true);
  });
});
