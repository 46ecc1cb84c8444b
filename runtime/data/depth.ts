// Depth maps for haze, read from files next to the image:
//
//   <stem>.depth.png   a 1-channel PNG, 8 or 16 bit, larger = farther
//   <stem>.depth.npy   a 2-D numpy array (float32/float64/uint8/uint16, C order), larger = farther
//
// Like the reference (which reads ¼-resolution .mat maps), a map of another size is resized bilinearly
// (cv2.resize semantics: half-pixel centres, edge clamp) to the image, then normalised by its maximum.

import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, dirname, extname, join } from "node:path";
import sharp from "sharp";
import type { DepthMap } from "./degrade/common.js";
import { ImageReadError } from "./image.js";

/** The depth files `findDepthFile` looks for, in order. */
export function depthCandidates(imagePath: string): string[] {
  const stem = basename(imagePath, extname(imagePath));
  return [join(dirname(imagePath), `${stem}.depth.png`), join(dirname(imagePath), `${stem}.depth.npy`)];
}

/** The depth file next to an image, if there is one. */
export function findDepthFile(imagePath: string): string | undefined {
  return depthCandidates(imagePath).find((p) => existsSync(p));
}

/** Parses a .npy file holding a 2-D array; returns its shape and values as float64. */
export function parseNpy(bytes: Uint8Array, path = "<buffer>"): { shape: [number, number]; data: Float64Array } {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (!magic.every((b, i) => bytes[i] === b)) throw new ImageReadError(path, "not a .npy file");
  const major = bytes[6] ?? 0;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder("latin1").decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shape = /'shape':\s*\((\d+),\s*(\d+),?\s*\)/.exec(header);
  if (!descr || fortran !== "False" || !shape) {
    throw new ImageReadError(path, `unsupported .npy header (need a 2-D C-order array): ${header.trim()}`);
  }
  const h = Number(shape[1]);
  const w = Number(shape[2]);
  const off = start + headerLen;
  const readers: Record<string, [number, (o: number) => number]> = {
    "<f4": [4, (o) => view.getFloat32(o, true)],
    "<f8": [8, (o) => view.getFloat64(o, true)],
    "<u2": [2, (o) => view.getUint16(o, true)],
    "|u1": [1, (o) => view.getUint8(o)],
    "<u1": [1, (o) => view.getUint8(o)],
  };
  const reader = readers[descr];
  if (!reader)
    throw new ImageReadError(path, `unsupported .npy dtype '${descr}' (use float32, float64, uint8, uint16)`);
  const [size, get] = reader;
  if (off + size * w * h > bytes.length) throw new ImageReadError(path, "truncated .npy data");
  const data = new Float64Array(w * h);
  for (let i = 0; i < w * h; i++) data[i] = get(off + size * i);
  return { shape: [h, w], data };
}

/** `cv2.resize(src, (w, h), INTER_LINEAR)` for one float channel (half-pixel centres, clamped edges). */
export function resizeBilinear(src: Float64Array, sw: number, sh: number, w: number, h: number): Float64Array {
  const out = new Float64Array(w * h);
  const axis = (o: number, inSize: number, outSize: number): [number, number, number] => {
    let s = (o + 0.5) * (inSize / outSize) - 0.5;
    if (s < 0) s = 0;
    let i0 = Math.floor(s);
    let t = s - i0;
    if (i0 >= inSize - 1) {
      i0 = inSize - 1;
      t = 0;
    }
    return [i0, Math.min(i0 + 1, inSize - 1), t];
  };
  const xs = Array.from({ length: w }, (_, x) => axis(x, sw, w));
  for (let y = 0; y < h; y++) {
    const [y0, y1, ty] = axis(y, sh, h);
    for (let x = 0; x < w; x++) {
      const [x0, x1, tx] = xs[x] ?? [0, 0, 0];
      const top = (src[y0 * sw + x0] ?? 0) * (1 - tx) + (src[y0 * sw + x1] ?? 0) * tx;
      const bot = (src[y1 * sw + x0] ?? 0) * (1 - tx) + (src[y1 * sw + x1] ?? 0) * tx;
      out[y * w + x] = top * (1 - ty) + bot * ty;
    }
  }
  return out;
}

/** Reads a depth file and fits it to a `width`×`height` image: resized bilinearly if needed, divided by its max. */
export async function readDepth(path: string, width: number, height: number): Promise<DepthMap> {
  let values: Float64Array;
  let sw: number;
  let sh: number;
  try {
    if (path.endsWith(".npy")) {
      const { shape, data } = parseNpy(await readFile(path), path);
      [sh, sw] = shape;
      values = data;
    } else {
      // NOTE: without toColourspace("grey16") sharp reduces a 16-bit PNG to 8 bits before the ushort output.
      const { data, info } = await sharp(path, { failOn: "error" })
        .toColourspace("grey16")
        .extractChannel(0)
        .raw({ depth: "ushort" })
        .toBuffer({ resolveWithObject: true });
      sw = info.width;
      sh = info.height;
      const u16 = new Uint16Array(data.buffer, data.byteOffset, data.length / 2);
      values = Float64Array.from(u16);
    }
  } catch (e) {
    if (e instanceof ImageReadError) throw e;
    throw new ImageReadError(path, (e as Error).message);
  }
  const fitted = sw === width && sh === height ? values : resizeBilinear(values, sw, sh, width, height);
  let max = 0;
  for (const v of fitted) if (v > max) max = v;
  if (!(max > 0)) throw new ImageReadError(path, "the depth map is all zero");
  const data = new Float32Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = Math.max(0, (fitted[i] ?? 0) / max);
  return { width, height, data, source: `file:${path}` };
}
