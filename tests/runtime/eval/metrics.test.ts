// BasicSR PSNR/SSIM against tests/fixtures/eval/golden.json (scripts/fixtures/eval_golden.py runs BasicSR's own
// code with OpenCV on the same PNGs). The PNGs are decoded with pngjs, not with sharp, so the decoder is independent.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import type { RgbImage } from "../../../runtime/data/image.js";
import {
  calculate_psnr,
  calculatePsnr,
  calculateSsim,
  gaussianKernel,
  measure,
  metricPlanes,
} from "../../../runtime/eval/metrics.js";

const dir = join(import.meta.dirname, "..", "..", "fixtures", "eval");

interface Golden {
  yChannel: { img: string; height: number; width: number; y: number[] };
  cases: { img: string; gt: string; cropBorder: number; testYChannel: boolean; psnr: number | null; ssim: number }[];
}
const golden = JSON.parse(readFileSync(join(dir, "golden.json"), "utf8")) as Golden;

function load(name: string): RgbImage {
  const png = PNG.sync.read(readFileSync(join(dir, name)));
  const data = new Uint8Array(png.width * png.height * 3);
  for (let i = 0; i < png.width * png.height; i++) {
    for (let c = 0; c < 3; c++) data[i * 3 + c] = png.data[i * 4 + c] as number;
  }
  return { width: png.width, height: png.height, data };
}

describe("BasicSR metrics", () => {
  it.each(golden.cases)("$img vs $gt, crop $cropBorder, y $testYChannel", (c) => {
    const img = load(c.img);
    const gt = load(c.gt);
    const p = calculatePsnr(img, gt, c.cropBorder, c.testYChannel);
    if (c.psnr === null) expect(p).toBe(Number.POSITIVE_INFINITY);
    else expect(Math.abs(p - c.psnr)).toBeLessThan(1e-6);
    expect(Math.abs(calculateSsim(img, gt, c.cropBorder, c.testYChannel) - c.ssim)).toBeLessThan(1e-6);
  });

  it("converts to Y exactly as BasicSR's to_y_channel", () => {
    const { img, width, height, y } = golden.yChannel;
    const full = load(img);
    const planes = metricPlanes(full, 0, true);
    const got: number[] = [];
    for (let r = 0; r < height; r++) {
      for (let x = 0; x < width; x++) got.push(planes.channels[0]?.[r * full.width + x] as number);
    }
    // Float32 values written by Python's repr of a float64: equal, not merely close.
    expect(got).toEqual(y);
  });

  it("knows a hand-computed value, gives Infinity for identical images, and is symmetric", () => {
    const z = { width: 10, height: 10, data: new Uint8Array(300) };
    const five = { width: 10, height: 10, data: new Uint8Array(300).fill(5) };
    expect(calculatePsnr(z, five, 4)).toBeCloseTo(10 * Math.log10((255 * 255) / 25), 12);
    expect(calculatePsnr(z, z, 4)).toBe(Number.POSITIVE_INFINITY);
    // Only the cropped region counts: a difference in the border leaves identical images identical.
    const edged = { ...z, data: Uint8Array.from(z.data, (_, i) => (i < 30 ? 200 : 0)) };
    expect(calculatePsnr(z, edged, 1)).toBe(Number.POSITIVE_INFINITY);
    expect(() => calculatePsnr(z, five, 5)).toThrow(/leaves 0x0 after a 5-pixel border crop/);
    const a = load("a_noise40.png");
    const gt = load("a_gt.png");
    expect(calculatePsnr(gt, a, 4, true)).toBe(calculatePsnr(a, gt, 4, true));
    expect(calculateSsim(gt, a, 4)).toBeCloseTo(calculateSsim(a, gt, 4), 12);
    expect(calculate_psnr).toBe(calculatePsnr);
  });

  it("has OpenCV's Gaussian window (sums to 1, peak at the centre)", () => {
    const k = gaussianKernel();
    expect(k.length).toBe(11);
    expect(k.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 14);
    // exp(-x²/4.5) normalised: the centre weight is 1/sum over x=-5..5.
    let sum = 0;
    for (let x = -5; x <= 5; x++) sum += Math.exp(-(x * x) / 4.5);
    expect(k[5]).toBeCloseTo(1 / sum, 15);
  });

  it("measures what an experiment's eval.metrics lists", () => {
    const a = load("a_blur.png");
    const gt = load("a_gt.png");
    const m = measure(a, gt, [
      { name: "psnr", crop: 4, y_channel: false },
      { name: "ssim", crop: 4, y_channel: true },
    ]);
    const want = golden.cases.find((c) => c.img === "a_blur.png" && c.cropBorder === 4 && !c.testYChannel);
    const wantSsim = golden.cases.find((c) => c.img === "a_blur.png" && c.cropBorder === 4 && c.testYChannel);
    expect(Math.abs((m.psnr as number) - (want?.psnr as number))).toBeLessThan(1e-6);
    expect(Math.abs((m.ssim as number) - (wantSsim?.ssim as number))).toBeLessThan(1e-6);
  });

  it("rejects mismatched sizes and crops that leave too little", () => {
    const a = load("a_gt.png");
    const b = load("b_gt.png");
    expect(() => calculatePsnr(a, b, 4)).toThrow(/sizes differ \(48x40 vs 45x37\)/);
    expect(() => calculateSsim(a, a, 15)).toThrow(/leaves 18x10 after a 15-pixel border crop; it needs at least 11x11/);
    expect(() => calculatePsnr(a, a, -1)).toThrow(/crop_border/);
  });
});
