// PromptIR against PyTorch float64 (scripts/fixtures/promptir_golden.py, tests/fixtures/compiler/promptir.json): the
// bilinear resize its prompt blocks need (F.interpolate, align_corners=False) at sizes that are no integer factor,
// down and up, with the input's gradient, on the CPU reference; stdlib's PromptIR has the PyTorch definition's
// parameter count at the paper's configuration and at the small one, under the reference's prompt-block names. The
// whole small model's train step is tests/runtime/exec/promptir-golden.test.ts.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { grad } from "../../compiler/autodiff/grad.js";
import { checkFile } from "../../compiler/compile.js";
import { GraphBuilder } from "../../compiler/ir/builder.js";
import { interpret } from "../../compiler/ir/interp.js";
import { numel } from "../../compiler/ir/node.js";
import { lowerModel, modelParamShapes } from "../../compiler/lower/model.js";
import { cotangentLoss, relErr } from "./helpers.js";

const FIXTURES = path.join(import.meta.dirname, "..", "fixtures", "compiler");

interface ResizeCase {
  x_shape: number[];
  size: [number, number];
  x: number[];
  y: number[];
  cot: number[];
  grad_x: number[];
}
const golden = JSON.parse(readFileSync(path.join(FIXTURES, "promptir.json"), "utf8")) as {
  params: { paper: number; small: number };
  resize: ResizeCase[];
};

/** Float64 against float64: only summation order differs. */
const TOL = 1e-12;

function experiment(name: string) {
  const { program, specs, diagnostics } = checkFile(path.join(FIXTURES, "promptir.mio"));
  expect(diagnostics).toEqual([]);
  const spec = specs.get(name);
  if (!spec) throw new Error(`no experiment ${name}`);
  return { program, spec };
}

describe("PromptIR vs PyTorch", () => {
  it.each(golden.resize.map((c) => [`${c.x_shape.slice(2).join("x")} -> ${c.size.join("x")}`, c] as const))(
    "F.interpolate bilinear %s: values and the input's gradient",
    (_, c) => {
      const b = new GraphBuilder();
      const x = b.input("x", c.x_shape);
      const y = b.resize(x, c.size);
      const [gx] = grad(b, cotangentLoss(b, y, "cot"), [x]);
      const [value, gradX] = interpret([y, gx ?? y], { x: c.x, cot: c.cot });
      expect(relErr(value ?? [], c.y)).toBeLessThan(TOL);
      expect(relErr(gradX ?? [], c.grad_x)).toBeLessThan(TOL);
    },
  );

  it("the paper configuration has the reference's 35,376,967 parameters", () => {
    expect(golden.params.paper).toBe(35_376_967);
    const { program, spec } = experiment("promptir_paper");
    const shapes = modelParamShapes(program, spec);
    expect([...shapes.values()].reduce((n, s) => n + numel(s), 0)).toBe(golden.params.paper);
    expect(shapes.get("prompt3.prompt_param")).toEqual([1, 5, 320, 16, 16]);
    expect(shapes.get("prompt3.linear_layer.weight")).toEqual([5, 384]);
    expect(shapes.get("prompt1.conv3x3.weight")).toEqual([64, 64, 3, 3]);
    expect(shapes.has("prompt1.conv3x3.bias")).toBe(false);
  });

  it("the small configuration lowers at 32x32 with the PyTorch definition's count, resizing two prompts", () => {
    const { program, spec } = experiment("promptir_small");
    const m = lowerModel(program, spec, { batch: 1, height: 32, width: 32 });
    expect(m.out.shape).toEqual([1, 3, 32, 32]);
    expect(m.b.paramList().reduce((n, p) => n + numel(p.node.shape), 0)).toBe(golden.params.small);
    // prompt3 16 -> 4 and prompt2 5 -> 8; prompt1 is 16 at a 16x16 feature: no node.
    const sizes = m.b.g.nodes.filter((n) => n.op === "resize").map((n) => n.shape.slice(2).join("x"));
    expect(sizes.sort()).toEqual(["4x4", "8x8"]);
  });
});
