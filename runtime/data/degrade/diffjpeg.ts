// BasicSR's DiffJPEG (basicsr/utils/diffjpeg.py, `differentiable=False`): the JPEG simulation the MiOIR reference
// used to synthesise its JPEG task (docs/data.md, "The reference's synthesis", JPEG). Not a codec: no entropy
// coding and no file, just the lossy steps, in float:
//
//   zero-pad to a multiple of 16 → RGB·255 → YCbCr (JFIF matrix, +128 on chroma) → 2×2 average of Cb, Cr →
//   8×8 DCT of (x − 128) → q = round(c / (T·f)) → c' = q·T·f → inverse DCT + 128 → Cb, Cr repeated 2×2 →
//   RGB → clamp 0..255 → crop
//
// with f = (q < 50 ? 5000/q : 200 − 2q) / 100 (no rounding, no clamping of T·f) and T the Annex K tables *transposed*
// as DiffJPEG stores them. `jpeg` (jpeg.ts) is the degradation in the table; this one is kept to measure and, if the
// lead wants it, reproduce the reference's JPEG task exactly. tests/runtime/data/diffjpeg.test.ts checks it against
// a PyTorch port of DiffJPEG (scripts/fixtures/data_golden.py).

import type { RgbImage } from "../image.js";
import { quantize255, roundHalfEven } from "./common.js";
import { ANNEX_K_CHROMA, ANNEX_K_LUMA } from "./jpeg.js";

/** DiffJPEG's `quality_to_factor`. */
export function diffJpegFactor(quality: number): number {
  return (quality < 50 ? 5000 / quality : 200 - quality * 2) / 100;
}

/** cos((2x+1)uπ/16) for x, u in 0..7: `C[x * 8 + u]`. */
const C = Float64Array.from({ length: 64 }, (_, i) => Math.cos(((2 * Math.floor(i / 8) + 1) * (i % 8) * Math.PI) / 16));
const ALPHA = Float64Array.from({ length: 8 }, (_, i) => (i === 0 ? 1 / Math.SQRT2 : 1));

/** Transposes an 8×8 natural-order table (DiffJPEG keeps `y_table.T` and `c_table[:4,:4].T`). */
function transposed(t: readonly number[]): Float64Array {
  return Float64Array.from({ length: 64 }, (_, i) => t[(i % 8) * 8 + Math.floor(i / 8)] ?? 0);
}
const Y_TABLE = transposed(ANNEX_K_LUMA);
const C_TABLE = transposed(ANNEX_K_CHROMA);

/** Compresses and decompresses one plane in place, block by block (its sides are multiples of 8). */
function codePlane(p: Float64Array, width: number, height: number, table: Float64Array, factor: number): void {
  const block = new Float64Array(64);
  const coef = new Float64Array(64);
  const tmp = new Float64Array(64);
  for (let by = 0; by < height; by += 8) {
    for (let bx = 0; bx < width; bx += 8) {
      for (let x = 0; x < 8; x++)
        for (let y = 0; y < 8; y++) block[x * 8 + y] = (p[(by + x) * width + bx + y] ?? 0) - 128;
      // Forward DCT, separable: rows (x) then columns (y); c(u,v) = ¼ α(u)α(v) Σ_xy b(x,y) cos… cos…
      for (let x = 0; x < 8; x++) {
        for (let v = 0; v < 8; v++) {
          let s = 0;
          for (let y = 0; y < 8; y++) s += (block[x * 8 + y] ?? 0) * (C[y * 8 + v] ?? 0);
          tmp[x * 8 + v] = s;
        }
      }
      for (let u = 0; u < 8; u++) {
        for (let v = 0; v < 8; v++) {
          let s = 0;
          for (let x = 0; x < 8; x++) s += (tmp[x * 8 + v] ?? 0) * (C[x * 8 + u] ?? 0);
          const q = (table[u * 8 + v] ?? 1) * factor;
          const c = 0.25 * (ALPHA[u] ?? 1) * (ALPHA[v] ?? 1) * s;
          // Quantise (torch.round: half to even) and dequantise; the α's go into the inverse as DiffJPEG does.
          coef[u * 8 + v] = roundHalfEven(c / q) * q * (ALPHA[u] ?? 1) * (ALPHA[v] ?? 1);
        }
      }
      // Inverse DCT: b(x,y) = ¼ Σ_uv α(u)α(v) c(u,v) cos((2x+1)uπ/16) cos((2y+1)vπ/16) + 128.
      for (let u = 0; u < 8; u++) {
        for (let y = 0; y < 8; y++) {
          let s = 0;
          for (let v = 0; v < 8; v++) s += (coef[u * 8 + v] ?? 0) * (C[y * 8 + v] ?? 0);
          tmp[u * 8 + y] = s;
        }
      }
      for (let x = 0; x < 8; x++) {
        for (let y = 0; y < 8; y++) {
          let s = 0;
          for (let u = 0; u < 8; u++) s += (tmp[u * 8 + y] ?? 0) * (C[x * 8 + u] ?? 0);
          p[(by + x) * width + bx + y] = 0.25 * s + 128;
        }
      }
    }
  }
}

/**
 * DiffJPEG at integer or fractional quality, followed by the reference's 8-bit quantisation.
 *
 * @example diffJpeg(img, 40) // what the reference's JPEG task makes of img at q = 40
 */
export function diffJpeg(img: RgbImage, quality: number): RgbImage {
  if (!(quality > 0) || quality > 100)
    throw new Error(`Argument 'quality' of 'diffJpeg' must be in (0, 100], got ${quality}`);
  const factor = diffJpegFactor(quality);
  const { width, height } = img;
  const W = Math.ceil(width / 16) * 16;
  const H = Math.ceil(height / 16) * 16;
  const y = new Float64Array(W * H);
  const cbFull = new Float64Array(W * H);
  const crFull = new Float64Array(W * H);
  for (let r = 0; r < H; r++) {
    for (let c = 0; c < W; c++) {
      const i = r * W + c;
      // F.pad(..., value=0): the padding is black, so it enters the border blocks and chroma averages.
      const inside = r < height && c < width;
      const s = (r * width + c) * 3;
      const R = inside ? (img.data[s] ?? 0) : 0;
      const G = inside ? (img.data[s + 1] ?? 0) : 0;
      const B = inside ? (img.data[s + 2] ?? 0) : 0;
      y[i] = 0.299 * R + 0.587 * G + 0.114 * B;
      cbFull[i] = -0.168736 * R - 0.331264 * G + 0.5 * B + 128;
      crFull[i] = 0.5 * R - 0.418688 * G - 0.081312 * B + 128;
    }
  }
  const w2 = W / 2;
  const h2 = H / 2;
  const cb = new Float64Array(w2 * h2);
  const cr = new Float64Array(w2 * h2);
  for (let r = 0; r < h2; r++) {
    for (let c = 0; c < w2; c++) {
      const a = 2 * r * W + 2 * c;
      cb[r * w2 + c] = ((cbFull[a] ?? 0) + (cbFull[a + 1] ?? 0) + (cbFull[a + W] ?? 0) + (cbFull[a + W + 1] ?? 0)) / 4;
      cr[r * w2 + c] = ((crFull[a] ?? 0) + (crFull[a + 1] ?? 0) + (crFull[a + W] ?? 0) + (crFull[a + W + 1] ?? 0)) / 4;
    }
  }
  codePlane(y, W, H, Y_TABLE, factor);
  codePlane(cb, w2, h2, C_TABLE, factor);
  codePlane(cr, w2, h2, C_TABLE, factor);
  const data = new Uint8Array(width * height * 3);
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < width; c++) {
      const Y = y[r * W + c] ?? 0;
      const Cb = (cb[(r >> 1) * w2 + (c >> 1)] ?? 0) - 128;
      const Cr = (cr[(r >> 1) * w2 + (c >> 1)] ?? 0) - 128;
      const o = (r * width + c) * 3;
      // Clamp to 0..255, /255, then the 8-bit quantisation = round(clamp(x)).
      data[o] = quantize255(Y + 1.402 * Cr);
      data[o + 1] = quantize255(Y - 0.344136 * Cb - 0.714136 * Cr);
      data[o + 2] = quantize255(Y + 1.772 * Cb);
    }
  }
  return { width, height, data };
}
