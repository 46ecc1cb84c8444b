// `mioc infer --model` with a PyTorch Restormer state dict (scripts/fixtures/restormer_infer_golden.py): the
// reference's names load by name into stdlib's Restormer (dim 8, one block per level), and a 21 x 18 PNG (not a
// multiple of 8) is restored whole, reflect-padded and cropped back by the model's own pad_to/crop_to, within 1e-5 of
// PyTorch's float64 output with the reference's test-time padding.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { inferAgainstReference } from "../helpers/infer-reference.js";

/** Largest |mio - PyTorch| allowed on the float output (issue 12's bound for this test). */
const TOL = 1e-5;

const dir = mkdtempSync(path.join(tmpdir(), "mio-infer-restormer-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("mioc infer --model with a PyTorch Restormer state dict", () => {
  it("restores a 21 x 18 image whole (padded to 8 inside the model) within 1e-5 of PyTorch", async () => {
    const worst = await inferAgainstReference({
      model: "restormer.mio",
      weights: "restormer_sd.safetensors",
      input: "restormer_input.png",
      expected: "restormer_expected.safetensors",
      shape: [3, 18, 21],
      out: path.join(dir, "out.safetensors"),
    });
    process.stdout.write(`mioc infer Restormer 21x18: max |mio - PyTorch| = ${worst.toExponential(2)}\n`);
    expect(worst).toBeLessThanOrEqual(TOL);
  }, 600_000);
});
