import { describe, expect, it } from "vitest";
import { bicubicDownUp, resizeBicubic } from "../../../runtime/data/degrade/bicubic.js";
import { toPlanes } from "../../../runtime/data/degrade/common.js";
import { Rng } from "../../../runtime/data/rng.js";
import { compare, golden, imageOf } from "./golden.js";

describe("bicubic_down_up vs PyTorch F.interpolate(mode='bicubic', align_corners=False)", () => {
  for (const g of golden.bicubic) {
    it(`${g.width}x${g.height} at scale ${g.scale}`, async () => {
      const img = imageOf(g.width, g.height, g.input);
      const [dh, dw] = g.downShape;
      expect(dh).toBe(Math.floor(g.height / g.scale));
      const down = resizeBicubic(toPlanes(img), 3, g.height, g.width, dh, dw, 1 / g.scale, 1 / g.scale);
      const dErr = compare(down, g.down.map(Math.fround));
      // float32 emulation: equal to torch's float32 up to the last bit or two.
      expect(dErr.maxAbs).toBeLessThan(2e-7);
      const res = await bicubicDownUp(img, { scale: g.scale }, Rng.create(0), {});
      expect(res.image.width).toBe(g.width);
      expect(res.image.height).toBe(g.height);
      const bErr = compare(res.image.data, g.out);
      expect(bErr.maxAbs).toBeLessThanOrEqual(1);
      expect(bErr.differing).toBeLessThanOrEqual(Math.ceil(g.out.length * 0.001));
      console.log(
        `bicubic ${g.width}x${g.height}/${g.scale}: down max|Δ| ${dErr.maxAbs}, bytes differing ${bErr.differing}/${g.out.length}`,
      );
    });
  }

  it("is the identity on a constant image and rejects a too-small one", async () => {
    const flat = { width: 12, height: 8, data: new Uint8Array(12 * 8 * 3).fill(77) };
    const r = await bicubicDownUp(flat, { scale: 4 }, Rng.create(0), {});
    expect(Array.from(r.image.data).every((v) => v === 77)).toBe(true);
    expect(() =>
      bicubicDownUp({ width: 3, height: 3, data: new Uint8Array(27) }, { scale: 4 }, Rng.create(0), {}),
    ).toThrow(/too small/);
  });
});
