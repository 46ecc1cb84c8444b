import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import jpegJs from "jpeg-js";
import { PNG } from "pngjs";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import {
  cropImage,
  cropToMultiple,
  decodeImage,
  encodePng,
  ImageReadError,
  isImageFile,
  readImage,
  writeImage,
  writePng,
} from "../../../runtime/data/image.js";
import { MioRuntimeError } from "../../../runtime/errors.js";

const dir = mkdtempSync(join(tmpdir(), "mio-image-"));

describe("image I/O", () => {
  it("round-trips any RGB image through PNG exactly, and pngjs decodes the same pixels", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 17 }),
        fc.integer({ min: 1, max: 13 }),
        fc.uint8Array({ minLength: 17 * 13 * 3, maxLength: 17 * 13 * 3 }),
        async (w, h, bytes) => {
          const img = { width: w, height: h, data: bytes.slice(0, w * h * 3) };
          const png = await encodePng(img);
          const back = await decodeImage(png);
          expect(back.width).toBe(w);
          expect(back.height).toBe(h);
          expect(Buffer.from(back.data).equals(Buffer.from(img.data))).toBe(true);
          const ref = PNG.sync.read(png);
          for (let i = 0; i < w * h; i++) {
            for (let c = 0; c < 3; c++) expect(ref.data[4 * i + c]).toBe(img.data[3 * i + c]);
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it("writes atomically and reads back from disk", async () => {
    const img = { width: 3, height: 2, data: Uint8Array.from({ length: 18 }, (_, i) => i * 13) };
    const p = join(dir, "a.png");
    await writePng(p, img);
    expect(Array.from((await readImage(p)).data)).toEqual(Array.from(img.data));
  });

  it("writes the format the extension names: JPEG bytes for .jpg/.jpeg, WebP for .webp; refuses others", async () => {
    const img = { width: 16, height: 8, data: Uint8Array.from({ length: 16 * 8 * 3 }, (_, i) => (i * 7) % 256) };
    for (const name of ["o.jpg", "o.JPEG"]) {
      await writeImage(join(dir, name), img);
      expect([...readFileSync(join(dir, name)).subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
      expect((await sharp(join(dir, name)).metadata()).format).toBe("jpeg");
    }
    await writeImage(join(dir, "o.webp"), img);
    expect(readFileSync(join(dir, "o.webp")).subarray(8, 12).toString("latin1")).toBe("WEBP");
    expect(Array.from((await readImage(join(dir, "o.webp"))).data)).toEqual(Array.from(img.data)); // lossless
    await writeImage(join(dir, "o.png"), img);
    expect(readFileSync(join(dir, "o.png")).subarray(1, 4).toString("latin1")).toBe("PNG");
    const bad = writeImage(join(dir, "o.bmp"), img);
    await expect(bad).rejects.toThrow(/unknown image extension/);
    await expect(bad).rejects.toBeInstanceOf(MioRuntimeError);
  });

  it("decodes JPEG like an independent decoder, grey as 3 channels, RGBA without alpha", async () => {
    const w = 32;
    const h = 16;
    // A smooth image, no chroma subsampling: decoders then differ only by IDCT rounding.
    const data = Uint8Array.from({ length: w * h * 3 }, (_, i) => {
      const p = Math.floor(i / 3);
      return Math.round(128 + 60 * Math.sin((p % w) / 5 + (i % 3)) * Math.cos(Math.floor(p / w) / 4));
    });
    const jpg = await sharp(data, { raw: { width: w, height: h, channels: 3 } })
      .jpeg({ quality: 90, chromaSubsampling: "4:4:4" })
      .toBuffer();
    const ours = await decodeImage(jpg);
    const ref = jpegJs.decode(jpg, { useTArray: true });
    let maxDiff = 0;
    for (let i = 0; i < w * h; i++) {
      for (let c = 0; c < 3; c++) {
        maxDiff = Math.max(maxDiff, Math.abs((ours.data[3 * i + c] ?? 0) - (ref.data[4 * i + c] ?? 0)));
      }
    }
    // Two IDCT/upsampling implementations: equal up to a couple of levels.
    expect(maxDiff).toBeLessThanOrEqual(3);

    const grey = await sharp(Uint8Array.from([0, 100, 200, 255]), { raw: { width: 2, height: 2, channels: 1 } })
      .png()
      .toBuffer();
    expect(Array.from((await decodeImage(grey)).data)).toEqual([0, 0, 0, 100, 100, 100, 200, 200, 200, 255, 255, 255]);

    const rgba = await sharp(Uint8Array.from([10, 20, 30, 0, 40, 50, 60, 255]), {
      raw: { width: 2, height: 1, channels: 4 },
    })
      .png()
      .toBuffer();
    expect(Array.from((await decodeImage(rgba)).data)).toEqual([10, 20, 30, 40, 50, 60]);

    const webp = await sharp(data, { raw: { width: w, height: h, channels: 3 } })
      .webp({ lossless: true })
      .toBuffer();
    expect(Buffer.from((await decodeImage(webp)).data).equals(Buffer.from(data))).toBe(true);
  });

  it("names the path of a missing, corrupt or truncated file", async () => {
    const missing = join(dir, "nope.png");
    await expect(readImage(missing)).rejects.toThrow(ImageReadError);
    await expect(readImage(missing)).rejects.toThrow(missing);
    const junk = join(dir, "junk.png");
    writeFileSync(junk, "this is not an image");
    await expect(readImage(junk)).rejects.toThrow(`cannot read image '${junk}'`);
    const good = join(dir, "good.png");
    await writePng(good, { width: 64, height: 64, data: new Uint8Array(64 * 64 * 3).fill(90) });
    const truncated = join(dir, "truncated.png");
    writeFileSync(truncated, readFileSync(good).subarray(0, 60));
    await expect(readImage(truncated)).rejects.toThrow(truncated);
  });

  it("crops and recognises image names", () => {
    const img = { width: 5, height: 3, data: Uint8Array.from({ length: 45 }, (_, i) => i) };
    const c = cropImage(img, 1, 1, 2, 2);
    expect(Array.from(c.data)).toEqual([18, 19, 20, 21, 22, 23, 33, 34, 35, 36, 37, 38]);
    expect(() => cropImage(img, 4, 0, 2, 1)).toThrow(/outside/);
    expect(cropToMultiple(img, 4).width).toBe(4);
    expect(cropToMultiple(img, 4).height).toBe(0);
    expect(isImageFile("a.PNG")).toBe(true);
    expect(isImageFile("a.depth.png")).toBe(false);
    expect(isImageFile("a.txt")).toBe(false);
  });
});
