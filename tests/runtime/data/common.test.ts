// The shared pixel helpers of runtime/data/degrade/common.ts: the one 8-bit quantiser (half to even, as BasicSR
// and torch round), the one runtime reflect index, and the planes conversions.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { reflectIndex as compilerReflect } from "../../../compiler/ir/indexing.js";
import {
  fromPlanes,
  quantize255,
  reflectIndex,
  roundHalfEven,
  toPlanes,
} from "../../../runtime/data/degrade/common.js";

/** Reflection done the slow way: mirror at either edge until inside. */
function reflectSlow(i: number, n: number): number {
  if (n === 1) return 0;
  let j = i;
  while (j < 0 || j >= n) j = j < 0 ? -j : 2 * n - 2 - j;
  return j;
}

describe("roundHalfEven and quantize255", () => {
  it("round exact halves to the even neighbour, as numpy and torch do", () => {
    expect([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 127.5, 128.5].map(roundHalfEven)).toEqual([
      -2, -2, -0, 0, 2, 2, 4, 128, 128,
    ]);
    expect([0.49999999999999994, 0.5000000000000001, 2.4999, 2.5001].map(roundHalfEven)).toEqual([0, 1, 2, 3]);
    expect([0.5, 1.5, 2.5, 127.5, 128.5, 253.5, 254.5].map(quantize255)).toEqual([0, 2, 2, 128, 128, 254, 254]);
  });

  it("clamp to 0..255 and map NaN to 0", () => {
    expect([-1e9, -0.6, -0.5, 0, 255, 255.4, 255.5, 1e9, Number.NaN, Infinity].map(quantize255)).toEqual([
      0, 0, 0, 0, 255, 255, 255, 255, 0, 255,
    ]);
  });

  it("equal half-up rounding of clamp(v, 0, 1) * 255 for every float32 v: no float32 times 255 is a tie but 127.5", () => {
    fc.assert(
      fc.property(fc.float({ min: -2, max: 2, noNaN: true }), (v) => {
        expect(quantize255(v * 255)).toBe(Math.round(Math.min(1, Math.max(0, v)) * 255));
      }),
      { numRuns: 20_000 },
    );
    // Random floats seldom land near a tie, so also every float32 within 4 ulps of each (k + 0.5) / 255.
    const bits = new Uint32Array(1);
    const f32 = new Float32Array(bits.buffer);
    for (let k = 0; k < 255; k++) {
      f32[0] = (k + 0.5) / 255;
      const at = bits[0] as number;
      for (let d = -4; d <= 4; d++) {
        bits[0] = at + d;
        const v = f32[0] as number;
        expect(quantize255(v * 255)).toBe(Math.round(Math.min(1, Math.max(0, v)) * 255));
      }
    }
    // The one tie: 0.5 * 255 = 127.5 rounds to 128 both ways (128 is even).
    expect(quantize255(0.5 * 255)).toBe(128);
  });
});

describe("reflectIndex", () => {
  it("is PyTorch's reflect (the edge sample is not repeated)", () => {
    expect([-3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7].map((i) => reflectIndex(i, 5))).toEqual([
      3, 2, 1, 0, 1, 2, 3, 4, 3, 2, 1,
    ]);
  });

  it("handles n = 1 and n = 2", () => {
    for (const i of [-7, -1, 0, 1, 2, 9]) expect(reflectIndex(i, 1)).toBe(0);
    expect([-3, -2, -1, 0, 1, 2, 3, 4].map((i) => reflectIndex(i, 2))).toEqual([1, 0, 1, 0, 1, 0, 1, 0]);
  });

  it("folds indices far outside (pads wider than the image) as repeated mirroring does, never -0", () => {
    expect(reflectIndex(-8, 5)).toBe(0);
    expect(reflectIndex(-9, 5)).toBe(1);
    expect(reflectIndex(1_000_003, 7)).toBe(reflectSlow(1_000_003, 7));
    fc.assert(
      fc.property(fc.integer({ min: -200, max: 200 }), fc.integer({ min: 1, max: 20 }), (i, n) => {
        const r = reflectIndex(i, n);
        expect(r).toBe(reflectSlow(i, n));
        expect(r >= 0 && r < n).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it("is the one the compiler's pad reference uses", () => {
    expect(reflectIndex).toBe(compilerReflect);
  });
});

describe("toPlanes and fromPlanes", () => {
  it("round-trip 8-bit images exactly (v/255 in float32, times 255, back to the same byte)", () => {
    const data = Uint8Array.from({ length: 256 * 3 }, (_, i) => (i * 7) % 256);
    const img = { width: 16, height: 16, data };
    const planes = toPlanes(img);
    expect(planes[1]).toBe(Math.fround((data[3] as number) / 255));
    expect(planes[256]).toBe(Math.fround((data[1] as number) / 255));
    expect(fromPlanes(planes, 16, 16)).toEqual(img);
  });

  it("write one image of a batch at an offset, leaving the rest alone", () => {
    const img = { width: 2, height: 1, data: Uint8Array.from([0, 51, 102, 153, 204, 255]) };
    const batch = new Float32Array(2 + 6 + 2).fill(-1);
    expect(toPlanes(img, batch, 2)).toBe(batch);
    expect(Array.from(batch)).toEqual([-1, -1, ...Array.from(toPlanes(img)), -1, -1]);
    expect(Array.from(toPlanes(img), (v) => Math.round(v * 255))).toEqual([0, 153, 51, 204, 102, 255]);
  });
});
