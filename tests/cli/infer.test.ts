// `mioc infer` against PyTorch (scripts/fixtures/infer_golden.py): weights exported from PyTorch restore a 40 x 32
// PNG, and mio's float output matches PyTorch's (float64 forward) within 1e-4 absolute, for plain MSRResNet and the
// adaptive-prompt variant. The 8-bit PNG then equals PyTorch's clamped and rounded output except where PyTorch's
// value lies within that tolerance of a rounding boundary (and there by 1 at most).
import { copyFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readImage } from "../../runtime/data/image.js";
import { readSafetensors } from "../../runtime/interop/safetensors.js";
import { mioc, miocAsync } from "../helpers/cli.js";

const FIXTURES = path.join(import.meta.dirname, "..", "fixtures", "infer");
const INPUT = path.join(FIXTURES, "input.png");
/** Largest |mio - PyTorch| allowed on the float output (values are about 0..1), the bound. */
const TOL = 1e-4;

const dir = mkdtempSync(path.join(tmpdir(), "mio-infer-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(["none", "adaptive"] as const)("mioc infer, prompt %s, vs PyTorch", (prompt) => {
  const weights = path.join(FIXTURES, `weights_${prompt}.safetensors`);

  async function expected() {
    const t = (await readSafetensors(path.join(FIXTURES, "expected.safetensors"))).tensors[`out.${prompt}`];
    if (!t) throw new Error(`expected.safetensors has no out.${prompt}`);
    return t;
  }

  it("writes the float output (3 x H x W) within 1e-4 of PyTorch's", async () => {
    const out = path.join(dir, `${prompt}.safetensors`);
    const r = await miocAsync(["infer", "--weights", weights, INPUT, "-o", out]);
    expect(r.code, r.stderr).toBe(0);
    const got = (await readSafetensors(out)).tensors.out;
    const want = await expected();
    expect(got?.shape).toEqual([3, 32, 40]);
    expect(want.shape).toEqual([3, 32, 40]);
    let worst = 0;
    want.data.forEach((v, i) => {
      worst = Math.max(worst, Math.abs((got?.data[i] ?? Number.NaN) - v));
    });
    process.stdout.write(`mioc infer ${prompt}: max |mio - PyTorch| = ${worst.toExponential(2)}\n`);
    expect(worst).toBeLessThanOrEqual(TOL);
  }, 300_000);

  it("writes a PNG equal to PyTorch's rounded output but for rounding-boundary pixels", async () => {
    const out = path.join(dir, `${prompt}.png`);
    const r = await miocAsync(["infer", "--weights", weights, INPUT, "-o", out]);
    expect(r.code, r.stderr).toBe(0);
    const img = await readImage(out);
    const want = await expected();
    const [, H, W] = want.shape as [number, number, number];
    expect([img.width, img.height]).toEqual([W, H]);
    const off: string[] = [];
    for (let c = 0; c < 3; c++) {
      for (let i = 0; i < H * W; i++) {
        const v = Math.min(1, Math.max(0, want.data[c * H * W + i] ?? 0)) * 255;
        const got = img.data[i * 3 + c] ?? -1;
        if (got === Math.round(v)) continue;
        // Only a value this close to k + 0.5 may round the other way given TOL.
        const nearBoundary = Math.abs((v % 1) - 0.5) <= 255 * TOL;
        if (!nearBoundary || Math.abs(got - v) > 1) off.push(`c${c} px${i}: mio ${got}, PyTorch ${v.toFixed(4)}`);
      }
    }
    expect(off).toEqual([]);
  }, 300_000);
});

describe("mioc infer -o: the format its extension names, never over an input", () => {
  const weights = path.join(FIXTURES, "weights_none.safetensors");

  it("writes real JPEG bytes for -o x.jpg", async () => {
    const out = path.join(dir, "x.jpg");
    const r = await miocAsync(["infer", "--weights", weights, INPUT, "-o", out]);
    expect(r.code, r.stderr).toBe(0);
    expect([...readFileSync(out).subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    expect((await readImage(out)).width).toBe(40);
  }, 300_000);

  it("refuses an unknown extension, the input image or the weights as -o (exit 2, before any work)", () => {
    const input = path.join(dir, "in.png");
    copyFileSync(INPUT, input);
    const w = path.join(dir, "w.safetensors");
    copyFileSync(weights, w);
    symlinkSync(input, path.join(dir, "in-link.png"));
    const before = [readFileSync(input), readFileSync(w)];
    const cases: [string, RegExp][] = [
      [path.join(dir, "x.bmp"), /unknown image extension/],
      [input, /is the input image/],
      [path.join(dir, "in-link.png"), /is the input image/],
      [w, /is the weights/],
    ];
    for (const [out, msg] of cases) {
      const r = mioc(["infer", "--weights", w, input, "-o", out]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(readFileSync(input).equals(before[0] as Buffer)).toBe(true);
    expect(readFileSync(w).equals(before[1] as Buffer)).toBe(true);
  });
});
