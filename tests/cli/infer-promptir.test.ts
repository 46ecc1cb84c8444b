// `mioc infer --model` with a PyTorch PromptIR state dict (scripts/fixtures/promptir_infer_golden.py): the reference's
// names load into stdlib's PromptIR by name, and a 21 x 18 PNG is restored whole, padded to 24 x 24 by the model's own
// pad_to and cropped back (its prompt blocks resizing 16 -> 3, 5 -> 6 and 16 -> 12), within 1e-5 of PyTorch's
// float64 output with the reference's test-time padding.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { inferAgainstReference } from "../helpers/infer-reference.js";

/** Largest |mio - PyTorch| allowed on the float output. */
const TOL = 1e-5;

const dir = mkdtempSync(path.join(tmpdir(), "mio-infer-promptir-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("mioc infer --model with a PyTorch PromptIR state dict", () => {
  it("restores a 21 x 18 image whole (padded to 24 x 24 inside the model) within 1e-5 of PyTorch", async () => {
    const worst = await inferAgainstReference({
      model: "promptir.mio",
      weights: "promptir_sd.safetensors",
      input: "swinir_input.png",
      expected: "promptir_expected.safetensors",
      shape: [3, 18, 21],
      out: path.join(dir, "out.safetensors"),
      // Cold, its ~300 forward kernels take minutes to compile on a shared 2-core lavapipe; seconds warm.
      timeoutMs: 900_000,
    });
    process.stdout.write(`mioc infer PromptIR 21x18: max |mio - PyTorch| = ${worst.toExponential(2)}\n`);
    expect(worst).toBeLessThanOrEqual(TOL);
  }, 1_000_000);
});
