// `mioc infer --model` with a PyTorch PromptIR state dict (scripts/fixtures/promptir_infer_golden.py): the reference's
// names load into stdlib's PromptIR by name, and a 21 x 18 PNG is restored whole, padded to 24 x 24 by the model's own
// pad_to and cropped back (its prompt blocks resizing 16 -> 3, 5 -> 6 and 16 -> 12), within 1e-5 of PyTorch's
// float64 output with the reference's test-time padding.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readSafetensors } from "../../runtime/interop/safetensors.js";
import { miocAsync } from "../helpers/cli.js";

const FIXTURES = path.join(import.meta.dirname, "..", "fixtures", "infer");
/** Largest |mio - PyTorch| allowed on the float output. */
const TOL = 1e-5;

const dir = mkdtempSync(path.join(tmpdir(), "mio-infer-promptir-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("mioc infer --model with a PyTorch PromptIR state dict", () => {
  it("restores a 21 x 18 image whole (padded to 24 x 24 inside the model) within 1e-5 of PyTorch", async () => {
    const out = path.join(dir, "out.safetensors");
    // Cold, its ~300 forward kernels take minutes to compile on a shared 2-core lavapipe; seconds warm.
    const r = await miocAsync(
      [
        "infer",
        "--model",
        path.join(FIXTURES, "promptir.mio"),
        "--weights",
        path.join(FIXTURES, "promptir_sd.safetensors"),
        path.join(FIXTURES, "swinir_input.png"),
        "-o",
        out,
      ],
      {},
      900_000,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/tiles/);
    const got = (await readSafetensors(out)).tensors.out;
    const want = (await readSafetensors(path.join(FIXTURES, "promptir_expected.safetensors"))).tensors.out;
    expect(got?.shape).toEqual([3, 18, 21]);
    expect(want?.shape).toEqual([3, 18, 21]);
    let worst = 0;
    want?.data.forEach((v, i) => {
      worst = Math.max(worst, Math.abs((got?.data[i] ?? Number.NaN) - v));
    });
    process.stdout.write(`mioc infer PromptIR 21x18: max |mio - PyTorch| = ${worst.toExponential(2)}\n`);
    expect(worst).toBeLessThanOrEqual(TOL);
  }, 1_000_000);
});
