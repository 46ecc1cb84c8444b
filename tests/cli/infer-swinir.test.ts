// `mioc infer --model` with a PyTorch SwinIR state dict (scripts/fixtures/swinir_infer_golden.py): the reference's
// names, its index and mask buffers included, load into stdlib's SwinIR, and a 21 x 18 PNG (not a multiple of the
// window 4) is restored whole, padded and cropped back by the model's own pad_to/crop_to, within 1e-5 of PyTorch's
// float64 output with the reference's test-time padding. A state dict with a tensor too many or too few is refused
// before any device work, naming the tensor.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readSafetensors, type TensorMap, writeSafetensors } from "../../runtime/interop/safetensors.js";
import { mioc } from "../helpers/cli.js";
import { INFER_FIXTURES as FIXTURES, inferAgainstReference } from "../helpers/infer-reference.js";

const MODEL = path.join(FIXTURES, "swinir.mio");
const WEIGHTS = path.join(FIXTURES, "swinir_sd.safetensors");
const INPUT = path.join(FIXTURES, "swinir_input.png");
/** Largest |mio - PyTorch| allowed on the float output (issue 11's bound for this test). */
const TOL = 1e-5;

const dir = mkdtempSync(path.join(tmpdir(), "mio-infer-swinir-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("mioc infer --model with a PyTorch SwinIR state dict", () => {
  it("restores a 21 x 18 image whole (padded to the window inside the model) within 1e-5 of PyTorch", async () => {
    const worst = await inferAgainstReference({
      model: "swinir.mio",
      weights: "swinir_sd.safetensors",
      input: "swinir_input.png",
      expected: "swinir_expected.safetensors",
      shape: [3, 18, 21],
      out: path.join(dir, "out.safetensors"),
    });
    process.stdout.write(`mioc infer SwinIR 21x18: max |mio - PyTorch| = ${worst.toExponential(2)}\n`);
    expect(worst).toBeLessThanOrEqual(TOL);
  }, 600_000);

  it("refuses a state dict with a tensor the model lacks, or without one it needs, naming it (exit 2)", async () => {
    const { tensors } = await readSafetensors(WEIGHTS);
    const edited = async (name: string, edit: (t: TensorMap) => void) => {
      const t = { ...tensors };
      edit(t);
      const file = path.join(dir, `${name}.safetensors`);
      await writeSafetensors(file, t);
      return file;
    };
    const renamed = await edited("renamed", (t) => {
      t["conv_frist.weight"] = t["conv_first.weight"] as TensorMap[string];
      delete t["conv_first.weight"];
    });
    const missing = await edited("missing", (t) => {
      delete t["norm.bias"];
    });
    // An index buffer beside no bias table is no buffer of this model.
    const strayBuffer = await edited("stray", (t) => {
      t["layers.0.residual_group.blocks.5.attn.relative_position_index"] = t[
        "layers.0.residual_group.blocks.0.attn.relative_position_index"
      ] as TensorMap[string];
    });
    const cases: [string, RegExp][] = [
      [
        renamed,
        /holds 'conv_frist\.weight', which is not a parameter of the model\n.*did you mean 'conv_first\.weight'/,
      ],
      [missing, /has no 'norm\.bias', a parameter of the model/],
      [
        strayBuffer,
        /holds 'layers\.0\.residual_group\.blocks\.5\.attn\.relative_position_index', which is not a parameter/,
      ],
    ];
    for (const [weights, message] of cases) {
      const r = mioc(["infer", "--model", MODEL, "--weights", weights, INPUT, "-o", path.join(dir, "x.png")]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
