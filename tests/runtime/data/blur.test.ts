import { describe, expect, it } from "vitest";
import { gaussianBlur, gaussianKernel1d, gaussianKernel2d } from "../../../runtime/data/degrade/blur.js";
import { Rng } from "../../../runtime/data/rng.js";
import { compare, golden, imageOf } from "./golden.js";

describe("gaussian_blur vs BasicSR bivariate_Gaussian + filter2D (PyTorch)", () => {
  for (const g of golden.blur) {
    it(`k=${g.kernel} σ=${g.sigma} on ${g.width}x${g.height}`, async () => {
      const kErr = compare(gaussianKernel2d(g.kernel, g.sigma), g.kernel2d);
      expect(kErr.maxAbs).toBeLessThan(1e-15);
      const img = imageOf(g.width, g.height, g.input);
      const r = await gaussianBlur(img, { kernel: g.kernel, sigma: g.sigma }, Rng.create(0), {});
      const bErr = compare(r.image.data, g.out);
      expect(bErr.maxAbs).toBeLessThanOrEqual(1);
      expect(bErr.differing).toBeLessThanOrEqual(Math.ceil(g.out.length * 0.002));
      console.log(
        `blur k=${g.kernel} σ=${g.sigma}: kernel max|Δ| ${kErr.maxAbs}, bytes differing ${bErr.differing}/${g.out.length}`,
      );
    });
  }

  it("keeps a constant image and the mean of a periodic one", async () => {
    const k = gaussianKernel1d(21, 3);
    expect(k.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 14);
    expect(k[0]).toBe(k[20]);
    const flat = { width: 9, height: 9, data: new Uint8Array(243).fill(200) };
    const r = await gaussianBlur(flat, { kernel: 21, sigma: 3 }, Rng.create(0), {});
    expect(Array.from(r.image.data).every((v) => v === 200)).toBe(true);
    expect(() => gaussianKernel1d(8, 1)).toThrow(/odd/);
  });
});
