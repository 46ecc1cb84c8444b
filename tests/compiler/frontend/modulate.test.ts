// A prompt site modulates `feat * (1 + s) + t` per channel, on a map or on a vector (a site after `mean`): a wired
// vector site used to reshape its scale to (B, C, 1, 1) and end in a CompilerBug (issue 15).
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkFile } from "../../../compiler/compile.js";
import { GraphBuilder } from "../../../compiler/ir/builder.js";
import { interpret } from "../../../compiler/ir/interp.js";
import { modulate } from "../../../compiler/lower/modulate.js";
import { lowerTrainStep } from "../../../compiler/lower/train-step.js";
import { compileProgram } from "../../../compiler/passes/pipeline.js";

describe("prompt modulation", () => {
  it("of a vector is feat * (1 + s) + t, channel by channel", () => {
    const b = new GraphBuilder({ seed: 2 });
    const feat = b.input("feat", [2, 3]);
    const prompt = b.input("prompt", [2, 4]);
    const y = modulate(b, feat, prompt, 0);
    const inputs: Record<string, Float64Array> = {
      feat: Float64Array.from([0.5, -1, 2, 1.5, 0.25, -0.75]),
      prompt: Float64Array.from([1, 0, -1, 0.5, 0.2, 0.4, -0.3, 0.1]),
    };
    for (const p of b.paramList()) inputs[p.name] = Float64Array.from(p.init);
    const [got] = interpret([y], inputs);
    const lin = (name: string, i: number, c: number) =>
      (inputs[`${name}.bias`]?.[c] ?? 0) +
      [0, 1, 2, 3].reduce(
        (s, k) => s + (inputs[`${name}.weight`]?.[c * 4 + k] ?? 0) * (inputs.prompt?.[i * 4 + k] ?? 0),
        0,
      );
    for (let i = 0; i < 2; i++)
      for (let c = 0; c < 3; c++) {
        const want = (inputs.feat?.[i * 3 + c] ?? 0) * (1 + lin("scale_fc.0", i, c)) + lin("shift_fc.0", i, c);
        expect(got?.[i * 3 + c]).toBeCloseTo(want, 12);
      }
  });

  it("an experiment wiring a site after mean lowers and compiles", () => {
    const text = [
      "use stdlib/tasks",
      "use stdlib/prompts",
      "backbone Net()(lq: image) {",
      "  v = lq |> mean |> site s",
      "  return (lq * v) |> c: conv(3)",
      "}",
      "experiment e {",
      "  model Net",
      "  prompt adaptive { extractor FExt(nf: 4); sites s }",
      "  data { crop 16; batch 2 }",
      "  curriculum mixed { tasks sr; iters 10 }",
      "}",
    ].join("\n");
    const { program, specs, diagnostics } = checkFile(join(import.meta.dirname, "vector-site.mio"), { text });
    expect(diagnostics).toEqual([]);
    const spec = specs.get("e");
    if (!spec) throw new Error("no spec");
    const step = lowerTrainStep(program, spec);
    expect(step.model.b.params.get("scale_fc.0.weight")?.node.shape).toEqual([3, 4]);
    expect(compileProgram(step.program).kernels.length).toBeGreaterThan(0);
  });
});
