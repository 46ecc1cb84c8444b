import { describe, expect, it } from "vitest";
import { diffJpeg, diffJpegFactor } from "../../../runtime/data/degrade/diffjpeg.js";
import { compare, golden, imageOf } from "./golden.js";

describe("diffJpeg vs a PyTorch port of BasicSR DiffJPEG(differentiable=False)", () => {
  for (const g of golden.diffjpeg) {
    it(`${g.width}x${g.height} at q=${g.quality}`, () => {
      const out = diffJpeg(imageOf(g.width, g.height, g.input), g.quality);
      const err = compare(out.data, g.out);
      console.log(
        `diffjpeg ${g.width}x${g.height} q=${g.quality}: bytes differing ${err.differing}/${g.out.length}, max |Δ| ${err.maxAbs}`,
      );
      // float64 here vs float32 tensordot there: a coefficient on a rounding boundary may flip, nothing more.
      expect(err.differing).toBeLessThanOrEqual(Math.ceil(g.out.length * 0.01));
      expect(err.maxAbs).toBeLessThanOrEqual(3);
    });
  }

  it("scales the tables as DiffJPEG does", () => {
    expect(diffJpegFactor(10)).toBe(5);
    expect(diffJpegFactor(50)).toBe(1);
    expect(diffJpegFactor(70)).toBeCloseTo(0.6, 12);
    expect(() => diffJpeg({ width: 1, height: 1, data: new Uint8Array(3) }, 0)).toThrow(/quality/);
  });
});
