// `mioc infer --model` with a PyTorch Restormer state dict (scripts/fixtures/restormer_infer_golden.py): the
// reference's names load by name into stdlib's Restormer (dim 8, one block per level), and a 21 x 18 PNG (not a
// multiple of 8) is restored whole, reflect-padded and cropped back by the model's own pad_to/crop_to, within 1e-5 of
// PyTorch's float64 output with the reference's test-time padding.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readSafetensors } from "../../runtime/interop/safetensors.js";
import { miocAsync } from "../helpers/cli.js";

const FIXTURES = path.join(import.meta.dirname, "..", "fixtures", "infer");
/** Largest |mio - PyTorch| allowed on the float output (issue 12's bound for this test). */
const TOL = 1e-5;

const dir = mkdtempSync(path.join(tmpdir(), "mio-infer-restormer-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("mioc infer --model with a PyTorch Restormer state dict", () => {
  it("restores a 21 x 18 image whole (padded to 8 inside the model) within 1e-5 of PyTorch", async () => {
    const out = path.join(dir, "out.safetensors");
    const model = path.join(FIXTURES, "restormer.mio");
    const weights = path.join(FIXTURES, "restormer_sd.safetensors");
    const input = path.join(FIXTURES, "restormer_input.png");
    const r = await miocAsync(["infer", "--model", model, "--weights", weights, input, "-o", out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/tiles/); // no fallback: the whole image's size compiles
    const got = (await readSafetensors(out)).tensors.out;
    const want = (await readSafetensors(path.join(FIXTURES, "restormer_expected.safetensors"))).tensors.out;
    expect(got?.shape).toEqual([3, 18, 21]);
    expect(want?.shape).toEqual([3, 18, 21]);
    let worst = 0;
    want?.data.forEach((v, i) => {
      worst = Math.max(worst, Math.abs((got?.data[i] ?? Number.NaN) - v));
    });
    process.stdout.write(`mioc infer Restormer 21x18: max |mio - PyTorch| = ${worst.toExponential(2)}\n`);
    expect(worst).toBeLessThanOrEqual(TOL);
  }, 600_000);
});
