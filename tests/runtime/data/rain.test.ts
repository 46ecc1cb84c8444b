import { describe, expect, it } from "vitest";
import { cvGaussianKernel, rain, rainKernel, rainLayer } from "../../../runtime/data/degrade/rain.js";
import { Rng } from "../../../runtime/data/rng.js";
import { compare, golden } from "./golden.js";

describe("rain vs the reference's OpenCV streak pipeline", () => {
  it("uses OpenCV's Gaussian kernels for GaussianBlur((w,w),0)", () => {
    expect(Array.from(cvGaussianKernel(3))).toEqual([0.25, 0.5, 0.25]);
    expect(cvGaussianKernel(9)[4]).toBe(0.234375); // OpenCV 4's fixed 9-tap table
    const k11 = cvGaussianKernel(11);
    expect(k11.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 14);
    // σ = 0.3·((11−1)/2 − 1) + 0.8 = 2
    expect((k11[5] ?? 0) / (k11[6] ?? 1)).toBeCloseTo(Math.exp(1 / (2 * 2 * 2)), 12);
  });

  for (const g of golden.rainKernels) {
    it(`streak kernel L=${g.length} angle=${g.angle} w=${g.width} (warpAffine + GaussianBlur)`, () => {
      const k = rainKernel(g.length, g.angle, g.width);
      const err = compare(k, g.kernel);
      expect(err.maxAbs).toBeLessThan(1e-12);
    });
  }

  for (const g of golden.rainLayers) {
    it(`rain layer ${g.width}x${g.height} amount=${g.amount} (filter2D, normalize, uint8)`, () => {
      // Replay the reference's noise map: drops where numpy drew them, zero (a draw below the cut) elsewhere.
      const drops = new Map(g.drops);
      let i = 0;
      const uniform = () => (drops.get(i++) ?? 0) / 256;
      const layer = rainLayer(
        g.width,
        g.height,
        g.amount,
        rainKernel(g.length, g.angle, g.streakWidth),
        g.length,
        uniform,
      );
      const err = compare(layer, g.layer);
      expect(err.maxAbs).toBeLessThanOrEqual(1);
      expect(err.differing).toBeLessThanOrEqual(2);
      console.log(
        `rain layer ${g.width}x${g.height}: ${g.drops.length} drops, bytes differing ${err.differing}/${g.layer.length}`,
      );
    });
  }

  it("adds streaks: brighter, never darker, with the drop density of the amount", async () => {
    const w = 256;
    const h = 192;
    const img = { width: w, height: h, data: new Uint8Array(w * h * 3).fill(60) };
    const params = { amount: 80, length: 30, angle: 20, width: 5 };
    const a = await rain(img, params, Rng.create(5), {});
    const b = await rain(img, params, Rng.create(5), {});
    expect(Buffer.from(a.image.data).equals(Buffer.from(b.image.data))).toBe(true);
    let brighter = 0;
    let max = 0;
    for (let i = 0; i < w * h; i++) {
      const r = a.image.data[3 * i] ?? 0;
      expect(a.image.data[3 * i + 1]).toBe(r); // the same layer on every channel
      if (r > 60) brighter++;
      max = Math.max(max, r);
      expect(r).toBeGreaterThanOrEqual(60);
    }
    expect(max).toBe(255); // the brightest streak is normalised to 255 and clipped
    // ~0.3 % drops, each smeared into a streak of ~L·w pixels: a visible but minor share of the image.
    expect(brighter / (w * h)).toBeGreaterThan(0.05);
    expect(brighter / (w * h)).toBeLessThan(0.9);
    const c = await rain(img, params, Rng.create(6), {});
    expect(Buffer.from(c.image.data).equals(Buffer.from(a.image.data))).toBe(false);
  });
});
