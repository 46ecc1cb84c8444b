// PSNR and SSIM exactly as BasicSR computes them (basicsr/metrics/psnr_ssim.py), on 8-bit RGB images.
//
// BasicSR reads images with cv2.imread (BGR) and works in float64 on 0..255 values. Its optional Y channel is
// ITU-R BT.601 "studio swing" luma (16..235) computed through float32, then scaled back by 255; we repeat the float32
// roundings with Math.fround, so our Y values are BasicSR's bit for bit. The paper reports RGB PSNR with a 4-pixel
// border crop (`calculate_psnr(crop_border=4, test_y_channel=False)`); SSIM is BasicSR's numpy version: an 11×11
// Gaussian window (σ = 1.5), 'valid' filtering, averaged over channels. tests/fixtures/eval/golden.json holds the
// reference numbers (scripts/fixtures/eval_golden.py runs BasicSR's own code).

import type { RgbImage } from "../data/image.js";

/** One metric as an experiment's `eval.metrics` lists it. */
export interface MetricSpec {
  name: "psnr" | "ssim";
  crop: number;
  y_channel: boolean;
}

/** The planes a metric works on: `channels` float64 planes of `width`×`height`, after the crop (and Y conversion). */
interface Planes {
  width: number;
  height: number;
  channels: Float64Array[];
}

function checkPair(what: string, img: RgbImage, img2: RgbImage, cropBorder: number, min: number): void {
  if (img.width !== img2.width || img.height !== img2.height) {
    throw new Error(`${what}: image sizes differ (${img.width}x${img.height} vs ${img2.width}x${img2.height})`);
  }
  if (!Number.isInteger(cropBorder) || cropBorder < 0) {
    throw new Error(`Argument 'crop_border' of '${what}' must be an integer >= 0, got ${cropBorder}`);
  }
  const w = img.width - 2 * cropBorder;
  const h = img.height - 2 * cropBorder;
  if (w < min || h < min) {
    throw new Error(
      `${what}: a ${img.width}x${img.height} image leaves ${Math.max(w, 0)}x${Math.max(h, 0)} after a ` +
        `${cropBorder}-pixel border crop; it needs at least ${min}x${min}`,
    );
  }
}

/**
 * `img.astype(np.float32) / 255.` for each 8-bit value. Float32 division is correctly rounded, and so is fround of
 * the double quotient (double rounding is harmless for division at these precisions), so the two agree exactly.
 */
const BY_255 = Float64Array.from({ length: 256 }, (_, v) => Math.fround(v / 255));

/** BasicSR `to_y_channel` of one RGB pixel: Y in 16..235, on the 0..255 scale, with BasicSR's float32 roundings. */
export function yOf(r: number, g: number, b: number): number {
  const fr = BY_255[r] as number;
  const fg = BY_255[g] as number;
  const fb = BY_255[b] as number;
  // `np.dot(img, [24.966, 128.553, 65.481]) + 16.0` on BGR in float64, `/ 255.` and `.astype(np.float32)`, then
  // `* 255.` in float32.
  const y = Math.fround((fb * 24.966 + fg * 128.553 + fr * 65.481 + 16.0) / 255);
  return Math.fround(y * 255);
}

/**
 * The planes BasicSR measures: the image without `cropBorder` pixels on each side, as three RGB planes or as the
 * one Y plane.
 *
 * Not data/degrade/common.ts `toPlanes` (float32 on [0,1], what a network reads): the metrics need float64 on 0..255.
 *
 * @example metricPlanes(img, 4, true).channels[0] // Y values of the cropped image
 */
export function metricPlanes(img: RgbImage, cropBorder: number, testYChannel: boolean): Planes {
  const width = img.width - 2 * cropBorder;
  const height = img.height - 2 * cropBorder;
  const n = width * height;
  const channels = testYChannel
    ? [new Float64Array(n)]
    : [new Float64Array(n), new Float64Array(n), new Float64Array(n)];
  const d = img.data;
  for (let y = 0; y < height; y++) {
    let s = ((y + cropBorder) * img.width + cropBorder) * 3;
    for (let x = 0; x < width; x++, s += 3) {
      const i = y * width + x;
      const r = d[s] ?? 0;
      const g = d[s + 1] ?? 0;
      const b = d[s + 2] ?? 0;
      if (testYChannel) {
        (channels[0] as Float64Array)[i] = yOf(r, g, b);
      } else {
        (channels[0] as Float64Array)[i] = r;
        (channels[1] as Float64Array)[i] = g;
        (channels[2] as Float64Array)[i] = b;
      }
    }
  }
  return { width, height, channels };
}

/**
 * BasicSR `calculate_psnr`: PSNR in dB of two same-size 8-bit RGB images after a `cropBorder`-pixel crop on every
 * side, over R, G and B (or over Y with `testYChannel`). Identical images give Infinity.
 *
 * @example calculatePsnr(output, gt, 4) // the paper's metric: RGB, crop 4
 */
export function calculatePsnr(img: RgbImage, img2: RgbImage, cropBorder: number, testYChannel = false): number {
  checkPair("calculate_psnr", img, img2, cropBorder, 1);
  const a = metricPlanes(img, cropBorder, testYChannel);
  const b = metricPlanes(img2, cropBorder, testYChannel);
  let se = 0;
  let n = 0;
  for (let c = 0; c < a.channels.length; c++) {
    const pa = a.channels[c] as Float64Array;
    const pb = b.channels[c] as Float64Array;
    for (let i = 0; i < pa.length; i++) {
      const diff = (pa[i] as number) - (pb[i] as number);
      se += diff * diff;
    }
    n += pa.length;
  }
  const mse = se / n;
  return mse === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10((255 * 255) / mse);
}

/** SSIM's window side: BasicSR's `cv2.getGaussianKernel(11, 1.5)`. */
const WINDOW = 11;
const HALF = 5;

/** `cv2.getGaussianKernel(11, 1.5)` in float64: exp(-x²/2σ²), then multiplied by 1/sum as OpenCV does. */
export function gaussianKernel(size = WINDOW, sigma = 1.5): Float64Array {
  const k = new Float64Array(size);
  let sum = 0;
  for (let i = 0; i < size; i++) {
    const x = i - (size - 1) * 0.5;
    k[i] = Math.exp(-(x * x) / (2 * sigma * sigma));
    sum += k[i] as number;
  }
  const inv = 1 / sum;
  for (let i = 0; i < size; i++) k[i] = (k[i] as number) * inv;
  return k;
}

const KERNEL = gaussianKernel();

/**
 * 'valid' correlation along rows with the 11-tap kernel, for the five planes SSIM filters (a, b, a², b², a·b) in one
 * pass: each output row is (w-10) wide. BasicSR runs cv2.filter2D with the 2-D window outer(k, k) and keeps
 * [5:-5, 5:-5], which is the same sum (the window is symmetric), so the border mode never matters. Filtering rows
 * then columns differs from the 2-D sum only by rounding (about 1e-13).
 */
function filterRows(a: Float64Array, b: Float64Array, width: number, height: number): Float64Array[] {
  const ow = width - 2 * HALF;
  const out = [0, 1, 2, 3, 4].map(() => new Float64Array(ow * height));
  const [fa, fb, faa, fbb, fab] = out as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
  for (let y = 0; y < height; y++) {
    const base = y * width;
    for (let x = 0; x < ow; x++) {
      let sa = 0;
      let sb = 0;
      let saa = 0;
      let sbb = 0;
      let sab = 0;
      for (let k = 0; k < WINDOW; k++) {
        const w = KERNEL[k] as number;
        const va = a[base + x + k] as number;
        const vb = b[base + x + k] as number;
        sa += w * va;
        sb += w * vb;
        saa += w * (va * va);
        sbb += w * (vb * vb);
        sab += w * (va * vb);
      }
      const o = y * ow + x;
      fa[o] = sa;
      fb[o] = sb;
      faa[o] = saa;
      fbb[o] = sbb;
      fab[o] = sab;
    }
  }
  return out;
}

/** BasicSR `_ssim`: the mean of the SSIM map of two float64 planes (0..255 scale). */
function ssimPlane(a: Float64Array, b: Float64Array, width: number, height: number): number {
  const c1 = (0.01 * 255) ** 2;
  const c2 = (0.03 * 255) ** 2;
  const ow = width - 2 * HALF;
  const oh = height - 2 * HALF;
  const [fa, fb, faa, fbb, fab] = filterRows(a, b, width, height) as [
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
  ];
  // The column pass, one output row at a time (k outermost, so memory is read in order), then the SSIM map values
  // of that row, without storing whole filtered planes. Each sum still adds the 11 taps in order.
  const [m1, m2, f11, f22, f12] = [0, 1, 2, 3, 4].map(() => new Float64Array(ow)) as [
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
  ];
  let sum = 0;
  for (let y = 0; y < oh; y++) {
    for (const acc of [m1, m2, f11, f22, f12]) acc.fill(0);
    for (let k = 0; k < WINDOW; k++) {
      const w = KERNEL[k] as number;
      const off = (y + k) * ow;
      for (let x = 0; x < ow; x++) {
        m1[x] = (m1[x] as number) + w * (fa[off + x] as number);
        m2[x] = (m2[x] as number) + w * (fb[off + x] as number);
        f11[x] = (f11[x] as number) + w * (faa[off + x] as number);
        f22[x] = (f22[x] as number) + w * (fbb[off + x] as number);
        f12[x] = (f12[x] as number) + w * (fab[off + x] as number);
      }
    }
    for (let x = 0; x < ow; x++) {
      const mu1 = m1[x] as number;
      const mu2 = m2[x] as number;
      const m1sq = mu1 * mu1;
      const m2sq = mu2 * mu2;
      const m12 = mu1 * mu2;
      const s1 = (f11[x] as number) - m1sq;
      const s2 = (f22[x] as number) - m2sq;
      const s12 = (f12[x] as number) - m12;
      sum += ((2 * m12 + c1) * (2 * s12 + c2)) / ((m1sq + m2sq + c1) * (s1 + s2 + c2));
    }
  }
  return sum / (ow * oh);
}

/**
 * BasicSR `calculate_ssim`: SSIM of two same-size 8-bit RGB images after a `cropBorder`-pixel crop, computed per
 * channel (R, G, B, or Y alone with `testYChannel`) and averaged. The cropped image must be at least 11×11.
 *
 * @example calculateSsim(output, gt, 4) // 0.8734
 */
export function calculateSsim(img: RgbImage, img2: RgbImage, cropBorder: number, testYChannel = false): number {
  checkPair("calculate_ssim", img, img2, cropBorder, WINDOW);
  const a = metricPlanes(img, cropBorder, testYChannel);
  const b = metricPlanes(img2, cropBorder, testYChannel);
  let sum = 0;
  for (let c = 0; c < a.channels.length; c++) {
    sum += ssimPlane(a.channels[c] as Float64Array, b.channels[c] as Float64Array, a.width, a.height);
  }
  return sum / a.channels.length;
}

/** BasicSR's names, so code ported from BasicSR (and its option files) reads the same. */
export { calculatePsnr as calculate_psnr, calculateSsim as calculate_ssim };

/**
 * Every metric an experiment's `eval.metrics` asks for, on one output/GT pair, by metric name.
 *
 * @example measure(out, gt, spec.eval.metrics) // { psnr: 27.31, ssim: 0.79 }
 */
export function measure(
  img: RgbImage,
  gt: RgbImage,
  metrics: readonly MetricSpec[],
): Partial<Record<MetricSpec["name"], number>> {
  const out: Partial<Record<MetricSpec["name"], number>> = {};
  for (const m of metrics) {
    out[m.name] =
      m.name === "psnr" ? calculatePsnr(img, gt, m.crop, m.y_channel) : calculateSsim(img, gt, m.crop, m.y_channel);
  }
  return out;
}
