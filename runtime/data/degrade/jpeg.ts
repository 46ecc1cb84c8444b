// JPEG degradation: a real baseline JPEG encode at quality q with the standard (ITU-T T.81 Annex K) tables scaled by
// the IJG rule, 4:2:0 chroma, then a decode; sharp's libjpeg (mozjpeg built with `mozjpeg: false`, quant table 0,
// no trellis, no deringing, no progressive scans). tests/runtime/data/jpeg.test.ts reads the DQT segment of what it
// writes and checks the tables against `ijgQuantTable`.
//
// NOTE: the reference uses BasicSR's DiffJPEG instead (docs/data.md, "The reference's synthesis", JPEG). The two
// agree on the colour transform, the 4:2:0 subsampling, the 8×8 DCT and the Annex K tables, and differ in details:
// DiffJPEG scales the tables by the float factor without rounding or clamping to 1..255 (IJG rounds them), uses the
// luma table transposed, rounds nothing between colour conversion and DCT, and upsamples chroma by repetition
// (libjpeg's decoder interpolates).
// Differences are a fraction of a dB in PSNR; we prefer a codec whose output is a real JPEG file. See docs/data.md.

import sharp from "sharp";
import type { RgbImage } from "../image.js";
import { type DegradeFn, param } from "./common.js";

/** ITU-T T.81 Annex K luminance table, natural (row-major) order. */
export const ANNEX_K_LUMA = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51,
  87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101,
  72, 92, 95, 98, 112, 100, 103, 99,
];

/** ITU-T T.81 Annex K chrominance table, natural order. */
export const ANNEX_K_CHROMA = [
  17,
  18,
  24,
  47,
  99,
  99,
  99,
  99,
  18,
  21,
  26,
  66,
  99,
  99,
  99,
  99,
  24,
  26,
  56,
  99,
  99,
  99,
  99,
  99,
  47,
  66,
  99,
  99,
  99,
  99,
  99,
  99,
  ...new Array<number>(32).fill(99),
];

/** Natural-order index of the k-th coefficient in zig-zag order (DQT segments store tables zig-zagged). */
export const ZIGZAG = [
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
  35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47,
  55, 62, 63,
];

/**
 * The table libjpeg's `jpeg_set_quality(q, force_baseline=TRUE)` installs, natural order:
 * scale = q < 50 ? 5000/q : 200 − 2q (integer division), entry = clamp((base·scale + 50)/100, 1, 255).
 */
export function ijgQuantTable(quality: number, chroma: boolean): number[] {
  const q = Math.min(100, Math.max(1, Math.round(quality)));
  const scale = q < 50 ? Math.trunc(5000 / q) : 200 - 2 * q;
  return (chroma ? ANNEX_K_CHROMA : ANNEX_K_LUMA).map((b) =>
    Math.min(255, Math.max(1, Math.trunc((b * scale + 50) / 100))),
  );
}

/** What a JPEG file declares: its quantisation tables (natural order, by id) and per-component sampling factors. */
export interface JpegLayout {
  tables: Map<number, number[]>;
  components: { id: number; h: number; v: number; table: number }[];
  baseline: boolean;
}

/** Parses the DQT and SOF segments of a JPEG file (enough to check which tables and subsampling an encoder used). */
export function readJpegLayout(bytes: Uint8Array): JpegLayout {
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) throw new Error("not a JPEG file (no SOI marker)");
  const tables = new Map<number, number[]>();
  const components: JpegLayout["components"] = [];
  let baseline = false;
  let p = 2;
  while (p + 4 <= bytes.length) {
    if (bytes[p] !== 0xff) throw new Error(`JPEG marker expected at byte ${p}`);
    const marker = bytes[p + 1] ?? 0;
    const len = ((bytes[p + 2] ?? 0) << 8) | (bytes[p + 3] ?? 0);
    const seg = p + 4;
    if (marker === 0xdb) {
      let q = seg;
      while (q < p + 2 + len) {
        const pq = (bytes[q] ?? 0) >> 4;
        const tq = (bytes[q] ?? 0) & 15;
        q++;
        const t = new Array<number>(64).fill(0);
        for (let k = 0; k < 64; k++) {
          t[ZIGZAG[k] ?? 0] = pq ? ((bytes[q] ?? 0) << 8) | (bytes[q + 1] ?? 0) : (bytes[q] ?? 0);
          q += pq ? 2 : 1;
        }
        tables.set(tq, t);
      }
    } else if (marker >= 0xc0 && marker <= 0xc3) {
      baseline = marker === 0xc0;
      const n = bytes[seg + 5] ?? 0;
      for (let i = 0; i < n; i++) {
        const c = seg + 6 + 3 * i;
        const hv = bytes[c + 1] ?? 0;
        components.push({ id: bytes[c] ?? 0, h: hv >> 4, v: hv & 15, table: bytes[c + 2] ?? 0 });
      }
    } else if (marker === 0xda) {
      break; // entropy-coded data follows; all tables of a baseline file come before the first scan
    }
    p += 2 + len;
  }
  return { tables, components, baseline };
}

/** Encodes an RGB image as a baseline 4:2:0 JPEG with the IJG-scaled Annex K tables. */
export async function encodeJpeg(img: RgbImage, quality: number): Promise<Buffer> {
  return sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .jpeg({
      quality,
      chromaSubsampling: "4:2:0",
      mozjpeg: false,
      quantisationTable: 0,
      trellisQuantisation: false,
      overshootDeringing: false,
      optimiseScans: false,
      progressive: false,
      // Huffman optimisation changes the file size only, never the pixels.
      optimiseCoding: true,
    })
    .toBuffer();
}

/** `jpeg(quality)`: encode at integer quality q (1..100) and decode back to 8-bit RGB. */
export const jpeg: DegradeFn = async (img, params) => {
  const quality = param(params, "quality", "jpeg");
  const bytes = await encodeJpeg(img, quality);
  const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 || info.width !== img.width || info.height !== img.height) {
    throw new Error(`jpeg: decoder returned ${info.width}x${info.height}x${info.channels}`);
  }
  return {
    image: { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) },
    info: {},
  };
};
