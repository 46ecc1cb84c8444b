// The stdlib backbones, elaborated with their defaults, must have exactly the reference architectures' parameter
// counts (docs/training.md, "The reference's backbones and prompts") and prompt sites: a wrong layer, width or
// name shows up here.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Elaborator, imageShape } from "../../../compiler/check/elaborate.js";
import { defaultStdlibRoot, loadProgram } from "../../../compiler/program.js";

function elaborate(file: string, name: string) {
  const program = loadProgram(join(defaultStdlibRoot, file));
  expect(program.diagnostics).toEqual([]);
  const decl = program.root.scope.get(name);
  if (decl?.kind !== "backbone") throw new Error(`${name} is not a backbone in ${file}`);
  const el = new Elaborator(program.root.scope);
  const out = el.run(
    decl,
    el.bindDeclParams(decl, [], decl.name.span, new Map(), ""),
    [{ t: "tensor", shape: imageShape() }],
    "",
  );
  expect(el.diagnostics).toEqual([]);
  const params = el.params.reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
  return { out, params, el };
}

describe.each([
  ["stdlib/backbones/srresnet.mio", "SRResNet", 1_222_147, 18],
  ["stdlib/backbones/swinir.mio", "SwinIR", 11_604_775, 9],
  ["stdlib/backbones/restormer.mio", "Restormer", 26_126_644, 6],
  ["stdlib/backbones/promptir.mio", "PromptIR", 35_376_967, 0],
  ["stdlib/backbones/uformer.mio", "Uformer", 50_880_946, 6],
  ["stdlib/prompts.mio", "TaskClassifier", 188_551, 0],
])("%s %s", (file, name, params, sites) => {
  it(`has ${params} parameters and ${sites} prompt sites`, () => {
    const r = elaborate(file, name);
    expect(r.params).toBe(params);
    expect(r.el.sites).toHaveLength(sites);
  });
});

describe("parameter names follow the PyTorch/BasicSR state dicts", () => {
  it("SRResNet", () => {
    const names = elaborate("stdlib/backbones/srresnet.mio", "SRResNet").el.params.map((p) => p.name);
    expect(names.slice(0, 4)).toEqual([
      "conv_first.weight",
      "conv_first.bias",
      "body.0.conv1.weight",
      "body.0.conv1.bias",
    ]);
    expect(names).toContain("body.15.conv2.weight");
    expect(names.slice(-4)).toEqual(["conv_hr.weight", "conv_hr.bias", "conv_last.weight", "conv_last.bias"]);
  });

  it("SwinIR", () => {
    const { el } = elaborate("stdlib/backbones/swinir.mio", "SwinIR");
    const byName = new Map(el.params.map((p) => [p.name, p.shape]));
    expect(byName.get("layers.5.residual_group.blocks.5.attn.relative_position_bias_table")).toEqual([225, 6]);
    expect(byName.get("layers.0.residual_group.blocks.0.mlp.fc1.weight")).toEqual([360, 180]);
    expect(byName.get("patch_embed.norm.weight")).toEqual([180]);
    expect(byName.get("conv_before_upsample.0.weight")).toEqual([64, 180, 3, 3]);
  });

  it("Restormer", () => {
    const { el } = elaborate("stdlib/backbones/restormer.mio", "Restormer");
    const byName = new Map(el.params.map((p) => [p.name, p.shape]));
    expect(byName.get("latent.7.attn.temperature")).toEqual([8, 1, 1]);
    expect(byName.get("encoder_level1.0.ffn.project_in.weight")).toEqual([254, 48, 1, 1]);
    expect(byName.get("decoder_level1.0.norm1.body.bias")).toEqual([96]);
  });
});
