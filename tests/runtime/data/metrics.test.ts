import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { psnr } from "../../../runtime/data/metrics.js";
import { calculatePsnr } from "../../../runtime/eval/metrics.js";

describe("psnr (RGB, 8-bit, border crop)", () => {
  it("agrees with runtime/eval's BasicSR calculate_psnr (golden-tested against BasicSR)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 9, max: 24 }),
        fc.integer({ min: 9, max: 24 }),
        fc.uint8Array({ minLength: 24 * 24 * 3, maxLength: 24 * 24 * 3 }),
        fc.uint8Array({ minLength: 24 * 24 * 3, maxLength: 24 * 24 * 3 }),
        fc.integer({ min: 0, max: 4 }),
        (w, h, a, b, border) => {
          const x = { width: w, height: h, data: a.slice(0, w * h * 3) };
          const y = { width: w, height: h, data: b.slice(0, w * h * 3) };
          const ours = psnr(x, y, border);
          const ref = calculatePsnr(x, y, border);
          if (ref === Number.POSITIVE_INFINITY) expect(ours).toBe(ref);
          else expect(Math.abs(ours - ref)).toBeLessThan(1e-9);
        },
      ),
      { numRuns: 100 },
    );
  });

  it("knows a hand-computed value and refuses mismatched or too-small images", () => {
    const a = { width: 10, height: 10, data: new Uint8Array(300) };
    const b = { width: 10, height: 10, data: new Uint8Array(300).fill(5) };
    expect(psnr(a, b, 4)).toBeCloseTo(10 * Math.log10((255 * 255) / 25), 12);
    expect(psnr(a, a, 4)).toBe(Number.POSITIVE_INFINITY);
    expect(() => psnr(a, { width: 9, height: 10, data: new Uint8Array(270) })).toThrow(/sizes differ/);
    expect(() => psnr(a, b, 5)).toThrow(/nothing left/);
  });
});
