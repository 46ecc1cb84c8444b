import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import type { RgbImage } from "../../../runtime/data/image.js";
import { composeRow, GAP, LABEL_BAND, writeTriptych } from "../../../runtime/report/grid.js";

function pattern(w: number, h: number, seed: number): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 13 + seed * 71) % 256;
  return { width: w, height: h, data };
}

describe("sample grids", () => {
  it("writes LQ | output | GT with each panel's pixels unchanged, under a label band", async () => {
    const [lq, out, gt] = [pattern(64, 40, 1), pattern(64, 40, 2), pattern(64, 40, 3)];
    const dir = mkdtempSync(join(tmpdir(), "mio-grid-"));
    const path = join(dir, "samples", "in_dist", "sr.png");
    await writeTriptych(path, lq, out, gt);
    const png = PNG.sync.read(readFileSync(path));
    rmSync(dir, { recursive: true });
    expect([png.width, png.height]).toEqual([64 * 3 + 2 * GAP, 40 + LABEL_BAND]);
    [lq, out, gt].forEach((im, k) => {
      const x0 = k * (64 + GAP);
      for (const [x, y] of [
        [0, 0],
        [63, 39],
        [17, 23],
      ] as const) {
        const o = ((y + LABEL_BAND) * png.width + x0 + x) * 4;
        const s = (y * 64 + x) * 3;
        expect([png.data[o], png.data[o + 1], png.data[o + 2]]).toEqual([im.data[s], im.data[s + 1], im.data[s + 2]]);
      }
    });
    // The gaps are white and the band has text in it.
    const gapPixel = ((LABEL_BAND + 5) * png.width + 64) * 4;
    expect([png.data[gapPixel], png.data[gapPixel + 1], png.data[gapPixel + 2]]).toEqual([255, 255, 255]);
    let ink = 0;
    for (let i = 0; i < LABEL_BAND * png.width * 4; i += 4) if ((png.data[i] as number) < 128) ink++;
    expect(ink).toBeGreaterThan(20);
  });

  it("top-aligns images of different heights on white", () => {
    const row = composeRow([pattern(2, 3, 1), pattern(3, 1, 2)], 1);
    expect([row.width, row.height]).toEqual([6, 3]);
    expect(Array.from(row.data.subarray((2 * 6 + 3) * 3, (2 * 6 + 3) * 3 + 3))).toEqual([255, 255, 255]);
    expect(Array.from(row.data.subarray(3 * 3, 3 * 3 + 3))).toEqual(Array.from(pattern(3, 1, 2).data.subarray(0, 3)));
  });
});
