// Loads tests/fixtures/data/golden.json (made by scripts/fixtures/data_golden.py with PyTorch and OpenCV) and
// tests/fixtures/data/unknown.json (scripts/fixtures/unknown_golden.py: numpy, SciPy and OpenCV).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { RgbImage } from "../../../runtime/data/image.js";

export interface Golden {
  torch: string;
  opencv: string;
  bicubic: {
    height: number;
    width: number;
    scale: number;
    input: number[];
    downShape: [number, number];
    down: number[];
    up: number[];
    out: number[];
  }[];
  blur: {
    height: number;
    width: number;
    kernel: number;
    sigma: number;
    input: number[];
    kernel2d: number[];
    blurred: number[];
    out: number[];
  }[];
  rainKernels: { length: number; angle: number; width: number; warped: number[]; kernel: number[] }[];
  rainLayers: {
    height: number;
    width: number;
    amount: number;
    length: number;
    angle: number;
    streakWidth: number;
    drops: [number, number][];
    layer: number[];
  }[];
  dark: { gamma: number; lut: number[] }[];
  diffjpeg: { height: number; width: number; quality: number; input: number[]; out: number[] }[];
  depthResize: { src: number[]; srcWidth: number; srcHeight: number; width: number; height: number; out: number[] }[];
}

export interface UnknownGolden {
  anisotropic: {
    height: number;
    width: number;
    kernel: number;
    sigma_x: number;
    sigma_y: number;
    angle: number;
    input: number[];
    kernel2d: number[];
    out: number[];
  }[];
  motion: {
    height: number;
    width: number;
    length: number;
    angle: number;
    input: number[];
    kernel2d: number[];
    out: number[];
  }[];
  diffraction: {
    height: number;
    width: number;
    kernel: number;
    width_px: number;
    input: number[];
    kernel1d: number[];
    out: number[];
  }[];
  dim: { light: number; lut: number[] }[];
  loggam: { x: number; value: number }[];
}

// Image bytes are stored as {"b64": "..."} to keep the files small; they are unpacked to number arrays here.
const readFixture = (name: string) =>
  JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "fixtures", "data", name), "utf8"), (_key, v) =>
    v && typeof v === "object" && typeof v.b64 === "string" ? Array.from(Buffer.from(v.b64, "base64")) : v,
  );

export const golden: Golden = readFixture("golden.json");
export const unknownGolden: UnknownGolden = readFixture("unknown.json");

export function imageOf(width: number, height: number, data: number[]): RgbImage {
  return { width, height, data: Uint8Array.from(data) };
}

/** Largest |a−b| over two arrays, and how many entries differ at all. */
export function compare(a: ArrayLike<number>, b: ArrayLike<number>): { maxAbs: number; differing: number } {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let maxAbs = 0;
  let differing = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs((a[i] ?? 0) - (b[i] ?? 0));
    if (d > maxAbs) maxAbs = d;
    if (d !== 0) differing++;
  }
  return { maxAbs, differing };
}
