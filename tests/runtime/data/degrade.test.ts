import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import jpegJs from "jpeg-js";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import {
  DEGRADATION_LIMITS,
  type DegradationName,
  type DegradationSpec,
  type ParamLimit,
} from "../../../compiler/schema/task.js";
import { gammaDark } from "../../../runtime/data/degrade/dark.js";
import { DEPTH_PRIOR, depthPrior, haze } from "../../../runtime/data/degrade/haze.js";
import {
  applyDegradation,
  degradations,
  degradeWith,
  drawParam,
  sampleParams,
} from "../../../runtime/data/degrade/index.js";
import { encodeJpeg, ijgQuantTable, jpeg, readJpegLayout } from "../../../runtime/data/degrade/jpeg.js";
import { gaussianNoise } from "../../../runtime/data/degrade/noise.js";
import { parseNpy, readDepth, resizeBilinear } from "../../../runtime/data/depth.js";
import type { RgbImage } from "../../../runtime/data/image.js";
import { Rng } from "../../../runtime/data/rng.js";
import { calculatePsnr } from "../../../runtime/eval/metrics.js";
import { compare, golden } from "./golden.js";

/** A deterministic photo-like test image: smooth shapes, edges and mild texture. */
function scene(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  const r = Rng.create(99);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const sky = y < height * 0.4;
      const disc = (x - width * 0.6) ** 2 + (y - height * 0.6) ** 2 < (height * 0.2) ** 2;
      for (let c = 0; c < 3; c++) {
        let v = sky ? 170 + 30 * c - (60 * y) / height : 60 + 40 * Math.sin(x / 9 + c) + 30 * Math.cos(y / 13);
        if (disc) v = 220 - 70 * c;
        data[(y * width + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v + 6 * r.normal())));
      }
    }
  }
  return { width, height, data };
}

const img = scene(96, 64);

describe("gamma_dark", () => {
  for (const g of golden.dark) {
    it(`matches torch's x**${g.gamma} on all 256 levels`, async () => {
      const ramp = { width: 256, height: 1, data: new Uint8Array(768) };
      for (let v = 0; v < 256; v++) ramp.data.fill(v, 3 * v, 3 * v + 3);
      const out = (await gammaDark(ramp, { gamma: g.gamma }, Rng.create(0), {})).image.data;
      const ours = Array.from({ length: 256 }, (_, v) => out[3 * v]);
      expect(ours).toEqual(g.lut);
    });
  }
});

describe("gaussian_noise", () => {
  it("adds zero-mean noise with the requested σ, independently per channel, clipped", async () => {
    const grey = { width: 200, height: 150, data: new Uint8Array(200 * 150 * 3).fill(128) };
    const sigma = 25;
    const out = (await gaussianNoise(grey, { sigma }, Rng.create(3), {})).image.data;
    let s = 0;
    let s2 = 0;
    let cross = 0;
    for (let i = 0; i < out.length; i += 3) {
      const r = (out[i] ?? 0) - 128;
      const g = (out[i + 1] ?? 0) - 128;
      s += r;
      s2 += r * r;
      cross += r * g;
    }
    const n = out.length / 3;
    expect(Math.abs(s / n)).toBeLessThan(0.5);
    // Rounding adds 1/12 of variance; clipping at 0/255 removes almost nothing at σ=25 around 128.
    expect(Math.sqrt(s2 / n)).toBeGreaterThan(24.5);
    expect(Math.sqrt(s2 / n)).toBeLessThan(25.5);
    expect(Math.abs(cross / n / (sigma * sigma))).toBeLessThan(0.02);
    const white = { width: 50, height: 50, data: new Uint8Array(7500).fill(250) };
    const clipped = (await gaussianNoise(white, { sigma: 50 }, Rng.create(3), {})).image.data;
    expect(Math.max(...clipped)).toBe(255);
    expect(clipped.filter((v) => v === 255).length / clipped.length).toBeGreaterThan(0.4);
  });
});

describe("jpeg", () => {
  it("writes a baseline 4:2:0 JPEG with the IJG-scaled Annex K tables", async () => {
    for (const q of [10, 30, 50, 70, 90]) {
      const layout = readJpegLayout(await encodeJpeg(img, q));
      expect(layout.baseline).toBe(true);
      expect(layout.components.map((c) => [c.h, c.v])).toEqual([
        [2, 2],
        [1, 1],
        [1, 1],
      ]);
      const lumaId = layout.components[0]?.table ?? -1;
      const chromaId = layout.components[1]?.table ?? -1;
      expect(layout.tables.get(lumaId)).toEqual(ijgQuantTable(q, false));
      expect(layout.tables.get(chromaId)).toEqual(ijgQuantTable(q, true));
    }
    expect(ijgQuantTable(50, false).slice(0, 3)).toEqual([16, 11, 10]);
    expect(ijgQuantTable(10, false)[0]).toBe(80);
  });

  it("is decodable by jpeg-js and its PSNR rises with quality", async () => {
    let last = 0;
    for (const q of [10, 20, 30, 50, 70, 90]) {
      const bytes = await encodeJpeg(img, q);
      const ref = jpegJs.decode(bytes, { useTArray: true });
      expect([ref.width, ref.height]).toEqual([img.width, img.height]);
      const out = (await jpeg(img, { quality: q }, Rng.create(0), {})).image;
      const refRgb = new Uint8Array(img.width * img.height * 3);
      for (let i = 0; i < img.width * img.height; i++) refRgb.set(ref.data.subarray(4 * i, 4 * i + 3), 3 * i);
      // Our decode and jpeg-js's agree closely (the same file, two decoders).
      expect(calculatePsnr(out, { ...out, data: refRgb }, 0)).toBeGreaterThan(35);
      const p = calculatePsnr(img, out, 4);
      expect(p).toBeGreaterThan(last);
      last = p;
    }
    await expect(Promise.resolve(jpeg(img, { quality: 0 }, Rng.create(0), {}))).rejects.toThrow(/quality/);
  });
});

describe("haze", () => {
  it("follows I = J·T + 255·A·(1−T) with the given depth", async () => {
    const depth = {
      width: img.width,
      height: img.height,
      data: new Float32Array(img.width * img.height),
      source: "test",
    };
    depth.data.fill(0.5);
    const A = 0.9;
    const beta = 2;
    const r = await haze(img, { atmosphere: A, beta }, Rng.create(0), { depth });
    const t = Math.exp(-beta * 0.5);
    for (const i of [0, 100, 5000, img.data.length - 1]) {
      expect(r.image.data[i]).toBe(Math.round((img.data[i] ?? 0) * t + 255 * A * (1 - t)));
    }
    expect(r.info.depth).toBe("test");
  });

  it("uses the depth prior without a map: contrast falls and brightness rises with β, thicker at the top", async () => {
    const prior = depthPrior(img);
    expect(Math.max(...prior.data)).toBe(1);
    expect(Math.min(...prior.data)).toBeGreaterThan(0);
    let lastContrast = Number.POSITIVE_INFINITY;
    for (const beta of [0.5, 1.5, 2.5, 3]) {
      const r = await haze(img, { atmosphere: 0.9, beta }, Rng.create(0), {});
      expect(r.info.depth).toBe(DEPTH_PRIOR);
      const v = Array.from(r.image.data);
      const mean = v.reduce((a, b) => a + b, 0) / v.length;
      const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
      expect(sd).toBeLessThan(lastContrast);
      lastContrast = sd;
      expect(mean).toBeGreaterThan(100);
    }
    const top = prior.data.slice(0, img.width).reduce((a, b) => a + b, 0);
    const bottom = prior.data.slice(-img.width).reduce((a, b) => a + b, 0);
    expect(top).toBeGreaterThan(bottom);
  });

  for (const g of golden.depthResize) {
    it(`resizes depth like cv2.resize: ${g.srcWidth}x${g.srcHeight} → ${g.width}x${g.height}`, () => {
      const out = resizeBilinear(Float64Array.from(g.src), g.srcWidth, g.srcHeight, g.width, g.height);
      // cv2 keeps its interpolation weights in float32: ~1e-8 apart at ratios other than the reference's ×4.
      expect(compare(out, g.out).maxAbs).toBeLessThan(g.width === 4 * g.srcWidth ? 1e-12 : 1e-6);
    });
  }

  it("reads a 16-bit PNG or .npy depth map next to the image, resized and normalised", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mio-depth-"));
    // A 4×2 map at a quarter of an 16×8 image, like the reference's ¼-resolution maps.
    const u16 = new Uint16Array([1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000]);
    const png = join(dir, "a.depth.png");
    await sharp(u16, { raw: { width: 4, height: 2, channels: 1 } })
      .toColourspace("grey16")
      .png()
      .toFile(png);
    const d = await readDepth(png, 16, 8);
    expect(d.source).toBe(`file:${png}`);
    expect(Math.max(...d.data)).toBeCloseTo(1, 6);
    expect(d.data[0]).toBeCloseTo(1000 / 8000, 3);
    // npy: float32 2×3
    const header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    const padded = `${header.padEnd(118, " ")}\n`;
    const body = new Float32Array([1, 2, 3, 4, 5, 6]);
    const bytes = new Uint8Array(10 + padded.length + body.byteLength);
    bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    new DataView(bytes.buffer).setUint16(8, padded.length, true);
    bytes.set(new TextEncoder().encode(padded), 10);
    bytes.set(new Uint8Array(body.buffer), 10 + padded.length);
    const parsed = parseNpy(bytes);
    expect(parsed.shape).toEqual([2, 3]);
    expect(Array.from(parsed.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

describe("the degradation table", () => {
  const specs: Record<DegradationName, DegradationSpec> = {
    bicubic_down_up: { fn: "bicubic_down_up", params: { scale: { dist: "const", value: 4 } } },
    gaussian_blur: {
      fn: "gaussian_blur",
      params: { kernel: { dist: "odd", min: 7, max: 21 }, sigma: { dist: "uniform", min: 1, max: 3, decimals: 2 } },
    },
    gaussian_noise: { fn: "gaussian_noise", params: { sigma: { dist: "uniform", min: 15, max: 50, decimals: 0 } } },
    jpeg: { fn: "jpeg", params: { quality: { dist: "uniform", min: 30, max: 70, decimals: 0 } } },
    rain: {
      fn: "rain",
      params: {
        amount: { dist: "int", min: 50, max: 99 },
        length: { dist: "int", min: 20, max: 40 },
        angle: { dist: "int", min: -45, max: 44 },
        width: { dist: "choice", values: [3, 5, 7, 9, 11] },
      },
    },
    haze: {
      fn: "haze",
      params: {
        atmosphere: { dist: "uniform", min: 0.8, max: 1, decimals: 2 },
        beta: { dist: "uniform", min: 0.5, max: 2.5, decimals: 2 },
      },
    },
    gamma_dark: { fn: "gamma_dark", params: { gamma: { dist: "uniform", min: 1, max: 3, decimals: 2 } } },
    anisotropic_blur: {
      fn: "anisotropic_blur",
      params: {
        kernel: { dist: "odd", min: 7, max: 15 },
        sigma_x: { dist: "uniform", min: 0.6, max: 2.5 },
        sigma_y: { dist: "uniform", min: 0.6, max: 2.5 },
        angle: { dist: "uniform", min: 0, max: 180 },
      },
    },
    motion_blur: {
      fn: "motion_blur",
      params: { length: { dist: "odd", min: 5, max: 15 }, angle: { dist: "uniform", min: 0, max: 180 } },
    },
    diffraction_blur: {
      fn: "diffraction_blur",
      params: { kernel: { dist: "const", value: 21 }, width: { dist: "uniform", min: 1.5, max: 3 } },
    },
    dim: { fn: "dim", params: { light: { dist: "uniform", min: 0.2, max: 0.5 } } },
    camera_noise: {
      fn: "camera_noise",
      params: { photons: { dist: "uniform", min: 30, max: 300 }, read: { dist: "uniform", min: 0, max: 0.01 } },
    },
  };

  it("draws parameters per ParamDist, independent of the order they are listed in", () => {
    const rng = Rng.create(11);
    const seen = { odd: new Set<number>(), choice: new Set<number>(), int: new Set<number>() };
    for (let i = 0; i < 2000; i++) {
      const r = rng.fork(i);
      const k = drawParam({ dist: "odd", min: 7, max: 21 }, r);
      seen.odd.add(k);
      seen.choice.add(drawParam({ dist: "choice", values: [3, 5, 7] }, r));
      seen.int.add(drawParam({ dist: "int", min: -45, max: 44 }, r));
      const u = drawParam({ dist: "uniform", min: 1, max: 3, decimals: 2 }, r);
      expect(u).toBeGreaterThanOrEqual(1);
      expect(u).toBeLessThanOrEqual(3);
      expect(Math.round(u * 100) / 100).toBe(u);
      expect(Number.isInteger(drawParam({ dist: "uniform", min: 15, max: 50, decimals: 0 }, r))).toBe(true);
    }
    expect([...seen.odd].sort((a, b) => a - b)).toEqual([7, 9, 11, 13, 15, 17, 19, 21]);
    expect(seen.choice.size).toBe(3);
    expect(Math.min(...seen.int)).toBe(-45);
    expect(Math.max(...seen.int)).toBe(44);
    const rainSpec = specs.rain;
    const reversed: DegradationSpec = {
      fn: "rain",
      params: Object.fromEntries(Object.entries(rainSpec.params).reverse()),
    };
    expect(sampleParams(reversed, Rng.create(5))).toEqual(sampleParams(rainSpec, Rng.create(5)));
    expect(sampleParams(rainSpec, Rng.create(5))).not.toEqual(sampleParams(rainSpec, Rng.create(6)));
  });

  for (const name of Object.keys(degradations) as DegradationName[]) {
    it(`${name}: same seed → same bytes, another seed → other draws, input untouched`, async () => {
      const before = Buffer.from(img.data);
      const spec = specs[name];
      const a = await degradeWith(spec, img, Rng.create(123, 1));
      const b = await degradeWith(spec, img, Rng.create(123, 1));
      expect(a.params).toEqual(b.params);
      expect(Buffer.from(a.image.data).equals(Buffer.from(b.image.data))).toBe(true);
      expect([a.image.width, a.image.height]).toEqual([img.width, img.height]);
      expect(Buffer.from(img.data).equals(before)).toBe(true);
      // A degradation changes the image measurably but leaves it recognisable.
      const p = calculatePsnr(img, a.image, 4);
      expect(p).toBeGreaterThan(5);
      expect(p).toBeLessThan(45);
      if (name !== "bicubic_down_up") {
        const others = await Promise.all([2, 3, 4, 5].map((s) => degradeWith(spec, img, Rng.create(123, s))));
        expect(others.some((o) => !Buffer.from(o.image.data).equals(Buffer.from(a.image.data)))).toBe(true);
      }
    });
  }

  it("names a missing parameter", async () => {
    await expect(applyDegradation("gaussian_blur", img, { sigma: 2 }, Rng.create(0))).rejects.toThrow(/'kernel'/);
  });
});

describe("the degradation limits", () => {
  const img = scene(32, 24);
  /** Values every degradation accepts; each test breaks one of them. */
  const valid: Record<DegradationName, Record<string, number>> = {
    bicubic_down_up: { scale: 4 },
    gaussian_blur: { kernel: 7, sigma: 1 },
    gaussian_noise: { sigma: 10 },
    jpeg: { quality: 50 },
    rain: { amount: 50, length: 20, angle: 0, width: 3 },
    haze: { atmosphere: 0.9, beta: 1 },
    gamma_dark: { gamma: 2 },
    anisotropic_blur: { kernel: 7, sigma_x: 1, sigma_y: 2, angle: 30 },
    motion_blur: { length: 7, angle: 30 },
    diffraction_blur: { kernel: 9, width: 2 },
    dim: { light: 0.5 },
    camera_noise: { photons: 100, read: 0.01 },
  };
  /** Values just outside a limit: past each bound, a fraction for integers, an even number for odd ones. */
  const outside = (l: ParamLimit): number[] => [
    ...(l.min !== undefined ? [l.aboveMin ? l.min : l.min - 1] : []),
    ...(l.max !== undefined ? [l.max + 1] : []),
    ...(l.int || l.odd ? [(l.min ?? 0) + 1.5] : []),
    ...(l.odd ? [(l.min ?? 0) + 1] : []),
  ];
  const cases = Object.entries(DEGRADATION_LIMITS).flatMap(([fn, ps]) =>
    Object.entries(ps as Record<string, ParamLimit>).flatMap(([name, l]) =>
      outside(l).map((v) => [fn as DegradationName, name, v] as const),
    ),
  );

  it("the valid values pass", async () => {
    for (const [fn, params] of Object.entries(valid))
      await applyDegradation(fn as DegradationName, img, params, Rng.create(0));
  });
  // The table `mioc check` holds task declarations to (compiler/schema/task.ts) is the one the degradations enforce.
  it.each(cases)("%s refuses %s = %s", async (fn, name, v) => {
    await expect(
      Promise.resolve().then(() => applyDegradation(fn, img, { ...valid[fn], [name]: v }, Rng.create(0))),
    ).rejects.toThrow(new RegExp(`Argument '${name}' of '${fn}' must be`));
  });
  it("haze names its limit", async () => {
    await expect(
      Promise.resolve().then(() => applyDegradation("haze", img, { atmosphere: 5, beta: 1 }, Rng.create(0))),
    ).rejects.toThrow("Argument 'atmosphere' of 'haze' must be a number in 0..1, got 5");
  });
});
