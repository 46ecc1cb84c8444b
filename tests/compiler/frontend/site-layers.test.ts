// A site that names its scale/shift layers and their init (`site x(scale: ..., shift: ..., init: ...)`), and an
// extractor under a label (`extractor F_ext_net: SwinFExt`): how SwinIR_EP/AP get the reference's state-dict names.
// What the user declares is compiled as declared, or it is a diagnostic: never renamed or re-initialised silently.
import { describe, expect, it } from "vitest";
import { lowerModel } from "../../../compiler/lower/model.js";
import { check, expectDiagnostic, expectParses } from "../language/helpers.js";

/** A backbone `Net` (its body from line 3) wired to an adaptive prompt through `sites`. */
const net = (body: string[], sites = "a", extractor = "FExt(nf: 4)") =>
  [
    "use stdlib/tasks",
    "backbone Net()(lq: image) {",
    ...body,
    "}",
    "use stdlib/prompts",
    "experiment e {",
    "  model Net",
    `  prompt adaptive { extractor ${extractor}; sites ${sites} }`,
    "  data { crop 16; batch 1 }",
    "  curriculum mixed { tasks sr; iters 10 }",
    "}",
  ].join("\n");

const TWO_SITES = [
  "  f = lq |> c1: conv(8)",
  '  f = site a (f, scale: head.scale, shift: head.shift, init: "trunc_normal0.02")',
  "  return f |> c2: conv(3) |> site b",
];

function lowered(src: string) {
  const r = check(src);
  expect(r.diagnostics).toEqual([]);
  const spec = r.specs.get("e");
  if (!spec) throw new Error("no spec");
  return { spec, m: lowerModel(r.program, spec, { batch: 1, height: 16, width: 16 }) };
}

describe("a site's declared layers", () => {
  it("parse in both forms", () => expectParses(net(TWO_SITES)));

  it("lower under the declared names and init; an undeclared site keeps scale_fc.<i>", () => {
    const { m } = lowered(net(TWO_SITES, "b, a"));
    const names = m.b.paramList().map((p) => p.name);
    // b is the first wired site, so it is scale_fc.0; a names its own layers.
    expect(names).toEqual(
      expect.arrayContaining(["scale_fc.0.weight", "shift_fc.0.bias", "head.scale.weight", "head.shift.bias"]),
    );
    expect(names.filter((n) => n.includes("_fc.1"))).toEqual([]);
    const w = m.b.params.get("head.scale.weight")?.init ?? new Float32Array();
    const std = Math.sqrt(w.reduce((s, x) => s + x * x, 0) / w.length);
    expect(std).toBeGreaterThan(0.014);
    expect(std).toBeLessThan(0.026);
    expect(Array.from(m.b.params.get("head.shift.bias")?.init ?? [1])).toEqual(new Array(8).fill(0));
    // nn.Linear's default for the undeclared site: U(±1/√fan_in), bias too.
    const bias = m.b.params.get("scale_fc.0.bias")?.init ?? new Float32Array();
    expect(Math.max(...Array.from(bias, Math.abs))).toBeLessThanOrEqual(0.5);
    expect(bias.some((x) => x !== 0)).toBe(true);
  });

  it("a site's layers with an index, inside a block, are prefixed like labels", () => {
    const src = net(
      [
        "  f = lq |> c1: conv(8)",
        "  for i in 0..2 { f = site s[i] (f, scale: mod[i].s, shift: mod[i].t) }",
        "  return f |> c2: conv(3)",
      ],
      "s.*",
    );
    const names = lowered(src)
      .m.b.paramList()
      .map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(["mod.0.s.weight", "mod.1.t.bias"]));
  });

  it("an unknown parameter", () =>
    expectDiagnostic(
      net(["  f = lq |> c1: conv(8)", "  f = site a (f, scael: x.s, shift: x.t)", "  return f |> c2: conv(3)"]),
      "MIO2005 4:18 a site has no parameter 'scael'",
      "did you mean 'scale'?",
    ));

  it("one layer named without the other", () =>
    expectDiagnostic(
      net(["  f = lq |> c1: conv(8)", "  f = site a (f, scale: x.s)", "  return f |> c2: conv(3)"]),
      "MIO2005 4:7 a site that names its scale layer must name its shift layer too",
    ));

  it("a layer name that is not a name", () =>
    expectDiagnostic(
      net(["  f = lq |> c1: conv(8)", '  f = site a (f, scale: "x.s", shift: x.t)', "  return f |> c2: conv(3)"]),
      'MIO2006 4:25 a site\'s scale is the name of its scale layer, found the string "x.s"',
    ));

  it("an unknown init", () =>
    expectDiagnostic(
      net([
        "  f = lq |> c1: conv(8)",
        '  f = site a (f, scale: x.s, shift: x.t, init: "trunc")',
        "  return f |> c2: conv(3)",
      ]),
      'MIO2009 4:48 a site\'s init must be one of "pytorch", "trunc_normal0.02", "kaiming0.1", "zeros", found "trunc"',
    ));

  it("a second input", () =>
    expectDiagnostic(
      net(["  f = lq |> c1: conv(8)", "  f = site a (f, f)", "  return f |> c2: conv(3)"]),
      "MIO2005 4:18 a site takes one input",
    ));

  it("a layer name used twice: by a layer, or by its own pair", () => {
    expectDiagnostic(
      net(["  f = lq |> c1: conv(8)", "  f = site a (f, scale: c1, shift: x.t)", "  return f |> c2: conv(3)"]),
      "MIO2004 4:25 layer name 'c1' is used twice",
    );
    expectDiagnostic(
      net(["  f = lq |> c1: conv(8)", "  f = site a (f, scale: x, shift: x)", "  return f |> c2: conv(3)"]),
      "MIO2004 4:35 layer name 'x' is used twice",
    );
  });

  it("an undeclared site's scale_fc.<i> that the model already has", () =>
    expectDiagnostic(
      net(["  f = lq |> scale_fc.0: conv(8) |> site a", "  return f |> c2: conv(3)"]),
      "MIO2004 9:50 parameter 'scale_fc.0.weight' of site 'a' is also a parameter of the model 'Net'",
    ));
});

describe("the extractor's label", () => {
  it("names its parameters, and is in the spec only when given", () => {
    const plain = lowered(net(TWO_SITES)).spec.prompt.extractor;
    expect(plain && "label" in plain).toBe(false);
    const { spec, m } = lowered(net(TWO_SITES, "a", "F_ext_net: FExt(nf: 4)"));
    expect(spec.prompt.extractor?.label).toBe("F_ext_net");
    const names = m.b.paramList().map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(["F_ext_net.1.weight", "F_ext_net.7.bias"]));
    expect(names.some((n) => n.startsWith("prompt_extractor."))).toBe(false);
  });

  it("refuses a name the model already has", () =>
    expectDiagnostic(
      net(["  f = lq |> c1.1: conv(8)", "  return f |> c2: conv(3) |> site a"], "a", "c1: FExt(nf: 4)"),
      "MIO2004 9:35 parameter 'c1.1.weight' of the prompt extractor 'FExt' is also a parameter of the model 'Net'",
    ));

  it("is refused on a model, which names its own parameters", () =>
    expectDiagnostic(
      [
        "use stdlib/tasks",
        "use stdlib/backbones/srresnet",
        "experiment e { model net: SRResNet(feat: 8, blocks: 1); curriculum mixed { tasks sr; iters 10 } }",
      ].join("\n"),
      "MIO2005 3:22 'model' takes no label: its parameters are named by its own layers",
    ));
});
