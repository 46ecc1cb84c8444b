// Image files in and out of the data pipeline: any PNG/JPEG/WebP becomes 8-bit interleaved RGB; PNG goes out
// losslessly, and `writeImage` picks PNG, JPEG or WebP by the file's extension. sharp (libvips) does the codec work.

import { randomBytes } from "node:crypto";
import { realpathSync } from "node:fs";
import { readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import sharp from "sharp";
import { fileProblem, MioInputError } from "../errors.js";

/** An 8-bit RGB image, rows top to bottom, pixels interleaved (R, G, B): `data[(y * width + x) * 3 + c]`. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** A file that could not be read as an image: names the path and what the decoder said; exit 2 (the user's input). */
export class ImageReadError extends MioInputError {
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`cannot read image '${path}': ${detail.split("\n")[0]}`);
  }
}

/** File extensions `readImage` accepts (lower case). */
export const IMAGE_EXTENSIONS = [".png", ".jpg", ".jpeg", ".webp"] as const;

/** True for a file name the pipeline treats as an image (by extension; `*.depth.png` maps are not images). */
export function isImageFile(name: string): boolean {
  const lower = name.toLowerCase();
  if (lower.includes(".depth.")) return false;
  return IMAGE_EXTENSIONS.some((e) => lower.endsWith(e));
}

/** A new black image. */
export function createImage(width: number, height: number): RgbImage {
  return { width, height, data: new Uint8Array(width * height * 3) };
}

/**
 * Decodes PNG/JPEG/WebP bytes to 8-bit RGB. EXIF orientation is applied (as `cv2.imread` does), alpha is dropped,
 * grey becomes three equal channels and 16-bit samples are reduced to 8 bits.
 *
 * @example const img = await decodeImage(await readFile("a.png"), "a.png");
 */
export async function decodeImage(bytes: Uint8Array, path = "<buffer>"): Promise<RgbImage> {
  try {
    const { data, info } = await sharp(bytes, { failOn: "error", autoOrient: true })
      .removeAlpha()
      .toColourspace("srgb")
      .raw({ depth: "uchar" })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`expected 3 channels after conversion, got ${info.channels}`);
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  } catch (e) {
    throw new ImageReadError(path, (e as Error).message);
  }
}

/** The largest image file `readImage` reads, in bytes (1 GiB; sharp refuses more than 268 megapixels anyway). */
export const MAX_IMAGE_BYTES = 2 ** 30;

/**
 * Why `path` cannot be an image file, from its stat alone, or undefined. Reading a pipe or a device never ends
 * (`/dev/zero`, a FIFO named x.png), and files of /proc and /sys report size 0 however much they hold, so only
 * regular files of 1 byte to MAX_IMAGE_BYTES are read.
 */
export async function whyNotImageFile(path: string): Promise<string | undefined> {
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(path);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
  }
  if (st.isDirectory()) return "it is a folder";
  if (!st.isFile()) return "not a regular file (a pipe, device or socket), so reading it might never end";
  if (st.size === 0) return "the file is empty";
  if (st.size > MAX_IMAGE_BYTES) return `the file has ${st.size} bytes, more than an image may (${MAX_IMAGE_BYTES})`;
  return undefined;
}

/**
 * Reads an image file as 8-bit RGB; a missing, unreadable, special (`whyNotImageFile`) or corrupt file throws
 * `ImageReadError` naming it.
 */
export async function readImage(path: string): Promise<RgbImage> {
  const why = await whyNotImageFile(path);
  if (why !== undefined) throw new ImageReadError(path, why);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new ImageReadError(path, fileProblem(e));
  }
  return decodeImage(bytes, path);
}

/** Encodes an RGB image as a lossless 8-bit PNG. */
export async function encodePng(img: RgbImage): Promise<Buffer> {
  return sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .png({ compressionLevel: 6, adaptiveFiltering: false })
    .toBuffer();
}

/** The real path of `p` (symlinks resolved); for a path that does not exist yet, its nearest existing ancestor's. */
export function realPathOf(p: string): string {
  let cur = resolve(p);
  const rest: string[] = [];
  for (;;) {
    try {
      return join(realpathSync(cur), ...rest.reverse());
    } catch {
      const parent = dirname(cur);
      if (parent === cur) return resolve(p);
      rest.push(basename(cur));
      cur = parent;
    }
  }
}

/**
 * Writes `bytes` to `path` atomically: a temporary file in the same folder, then a rename, so a reader never sees a
 * half-written file and an interrupted run leaves no truncated output.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Writes an RGB image as a PNG file, atomically. */
export async function writePng(path: string, img: RgbImage): Promise<void> {
  await writeFileAtomic(path, await encodePng(img));
}

/** The codec `writeImage` uses for a path, by its extension (case-insensitive); undefined for any other. */
export function imageCodecFor(path: string): "png" | "jpeg" | "webp" | undefined {
  const lower = path.toLowerCase();
  if (lower.endsWith(".png")) return "png";
  if (lower.endsWith(".jpg") || lower.endsWith(".jpeg")) return "jpeg";
  if (lower.endsWith(".webp")) return "webp";
  return undefined;
}

/**
 * Refuses (exit 2) an output image path whose extension names no codec `writeImage` has, so that a command fails
 * before its work rather than after it, and never writes one format's bytes under another's name.
 */
export function checkImageOutputPath(path: string, others = ""): void {
  if (imageCodecFor(path) === undefined)
    throw new MioInputError(
      `cannot write '${path}': unknown image extension`,
      `use .png (lossless), .jpg/.jpeg (JPEG, quality 95) or .webp (lossless)${others}`,
    );
}

/** Encodes an RGB image in the format its file name says: PNG, JPEG (quality 95, 4:4:4) or lossless WebP. */
export async function encodeImageFor(path: string, img: RgbImage): Promise<Buffer> {
  checkImageOutputPath(path);
  const codec = imageCodecFor(path);
  if (codec === "png") return encodePng(img);
  const s = sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } });
  if (codec === "jpeg") return s.jpeg({ quality: 95, chromaSubsampling: "4:4:4" }).toBuffer();
  return s.webp({ lossless: true }).toBuffer();
}

/** Writes an RGB image atomically as PNG, JPEG or WebP, by the path's extension; any other extension is refused. */
export async function writeImage(path: string, img: RgbImage): Promise<void> {
  await writeFileAtomic(path, await encodeImageFor(path, img));
}

/** The top-left `width`×`height` window of an image (a copy). */
export function cropImage(img: RgbImage, x: number, y: number, width: number, height: number): RgbImage {
  if (x < 0 || y < 0 || x + width > img.width || y + height > img.height) {
    throw new Error(`crop ${width}x${height}+${x}+${y} is outside the ${img.width}x${img.height} image`);
  }
  const out = createImage(width, height);
  for (let r = 0; r < height; r++) {
    const s = ((y + r) * img.width + x) * 3;
    out.data.set(img.data.subarray(s, s + width * 3), r * width * 3);
  }
  return out;
}

/** Crops to the largest size whose sides are multiples of `m` (top-left anchored, as the reference's mod crop). */
export function cropToMultiple(img: RgbImage, m: number): RgbImage {
  const w = img.width - (img.width % m);
  const h = img.height - (img.height % m);
  return w === img.width && h === img.height ? img : cropImage(img, 0, 0, w, h);
}
