// Restormer's ops against PyTorch float64 (scripts/fixtures/restormer_ops_golden.py) through the CPU reference of the
// graph and of its backward graph: grouped convolution with both gradients, F.normalize, pixel (un)shuffle's index
// semantics, one TransformerBlock in both LayerNorm forms with every parameter gradient; and stdlib's Restormer: the
// paper configuration's parameter count equals the PyTorch definition's, and a small configuration lowers.
import path from "node:path";
import { describe, expect, it } from "vitest";
import { grad } from "../../compiler/autodiff/grad.js";
import { buildTrainStep } from "../../compiler/autodiff/optim.js";
import { checkFile } from "../../compiler/compile.js";
import { GraphBuilder } from "../../compiler/ir/builder.js";
import { interpret } from "../../compiler/ir/interp.js";
import { type Node, numel } from "../../compiler/ir/node.js";
import { lowerModel, modelParamShapes } from "../../compiler/lower/model.js";
import { compileProgram } from "../../compiler/passes/pipeline.js";
import { cotangentLoss, relErr } from "./helpers.js";
import { type RestormerBlockFixture, readRestormerOps, restormerBlock } from "./restormer-golden.js";

interface Golden {
  grouped_conv: {
    x: number[];
    w: number[];
    y: number[];
    cot: number[];
    grad_x: number[];
    grad_w: number[];
    x_shape: number[];
    w_shape: number[];
    stride: number;
    pad: number;
    groups: number;
  };
  normalize: { shape: number[]; x: number[]; y: number[]; cot: number[]; grad_x: number[] };
  pixel_shuffle: { shape: number[]; y: number[] };
  pixel_unshuffle: { shape: number[]; y: number[] };
  block: RestormerBlockFixture;
  restormer_params: { paper: number; paper_bias_free: number; small: { params: number } };
}
const golden = readRestormerOps() as Golden;

/** Float64 against float64: only summation order differs (the brief's bound is 1e-9). */
const TOL = 1e-10;

/** The value of `y` and the gradients of sum(cot * y) with respect to `wrt`, on the CPU reference. */
function valueAndGrads(b: GraphBuilder, y: Node, wrt: Node[], inputs: Record<string, ArrayLike<number>>) {
  const grads = grad(b, cotangentLoss(b, y, "cot"), wrt);
  const [value, ...gs] = interpret([y, ...grads], inputs);
  return { value: value ?? new Float64Array(), grads: gs };
}

const FIXTURES = path.join(import.meta.dirname, "..", "fixtures", "compiler");
function experiment(name: string) {
  const { program, specs, diagnostics } = checkFile(path.join(FIXTURES, "restormer.mio"));
  expect(diagnostics).toEqual([]);
  const spec = specs.get(name);
  if (!spec) throw new Error(`no experiment ${name}`);
  return { program, spec };
}

describe("Restormer ops vs PyTorch", () => {
  it("grouped conv (2 groups, stride 2, pad 1): values and the gradients of x and w", () => {
    const g = golden.grouped_conv;
    const b = new GraphBuilder();
    const [x, w] = [b.input("x", g.x_shape), b.input("w", g.w_shape)];
    const r = valueAndGrads(b, b.convolve(x, w, g.stride, g.pad, g.groups), [x, w], { x: g.x, w: g.w, cot: g.cot });
    expect(relErr(r.value, g.y)).toBeLessThan(TOL);
    expect(relErr(r.grads[0] ?? [], g.grad_x)).toBeLessThan(TOL);
    expect(relErr(r.grads[1] ?? [], g.grad_w)).toBeLessThan(TOL);
  });

  it("F.normalize along the last axis: values and gradient", () => {
    const g = golden.normalize;
    const b = new GraphBuilder();
    const x = b.input("x", g.shape);
    const r = valueAndGrads(b, b.l2Normalize(x, -1), [x], { x: g.x, cot: g.cot });
    expect(relErr(r.value, g.y)).toBeLessThan(TOL);
    expect(relErr(r.grads[0] ?? [], g.grad_x)).toBeLessThan(TOL);
  });

  it("F.normalize of a row below eps divides by eps, with PyTorch's zero gradient through the clamp", () => {
    const b = new GraphBuilder();
    const x = b.input("x", [1, 2]);
    const y = b.l2Normalize(x, -1);
    const [tiny] = interpret([y], { x: [3e-13, 4e-13] });
    expect(Array.from(tiny ?? [])).toEqual([0.3, 0.4].map((v) => expect.closeTo(v, 12)));
    const [g] = interpret(grad(b, b.reshape(b.sum(y, [0, 1]), [1]), [x]), { x: [3e-13, 4e-13] });
    expect(Array.from(g ?? [])).toEqual([1e12, 1e12]);
  });

  it.each([
    ["pixel_shuffle", (b: GraphBuilder, x: Node) => b.pixelShuffle(x, 2)],
    ["pixel_unshuffle", (b: GraphBuilder, x: Node) => b.pixelUnshuffle(x, 2)],
  ] as const)("%s(2) moves every element where PyTorch does", (name, op) => {
    const g = golden[name];
    const b = new GraphBuilder();
    const x = b.input("x", g.shape);
    const [y] = interpret([op(b, x)], { x: Array.from({ length: numel(g.shape) }, (_, i) => i) });
    expect(Array.from(y ?? [])).toEqual(g.y);
  });

  it.each(golden.block.blocks.map((l) => [`${l.norm} norm, conv bias ${l.bias}`, l] as const))(
    "TransformerBlock, %s: output and the gradients of the input and every parameter",
    (_, l) => {
      const b = new GraphBuilder();
      const { x, y } = restormerBlock(b, golden.block, l);
      const params = b.paramList();
      expect(Object.fromEntries(params.map((p) => [p.name, [...p.node.shape]]))).toEqual(l.shapes);
      const r = valueAndGrads(b, y, [x, ...params.map((p) => p.node)], { x: l.x, cot: l.cot, ...l.params });
      expect(relErr(r.value, l.y)).toBeLessThan(TOL);
      expect(relErr(r.grads[0] ?? [], l.grad_x)).toBeLessThan(TOL);
      params.forEach((p, i) => {
        expect(relErr(r.grads[i + 1] ?? [], l.grad_params[p.name] ?? []), p.name).toBeLessThan(TOL);
      });
    },
  );
});

describe("stdlib Restormer", () => {
  it.each([
    ["restormer_paper", golden.restormer_params.paper],
    ["restormer_paper_bias_free", golden.restormer_params.paper_bias_free],
  ])("%s has the PyTorch definition's parameter count", (name, count) => {
    const { program, spec } = experiment(name);
    const shapes = modelParamShapes(program, spec);
    expect([...shapes.values()].reduce((n, s) => n + numel(s), 0)).toBe(count);
  });

  it("a small configuration with every level lowers, with the PyTorch definition's parameter count", () => {
    const { program, spec } = experiment("restormer_small");
    const m = lowerModel(program, spec, { batch: 1, height: 16, width: 16 });
    expect(m.out.shape).toEqual([1, 3, 16, 16]);
    const count = m.b.paramList().reduce((n, p) => n + numel(p.node.shape), 0);
    expect(count).toBe(golden.restormer_params.small.params);
    const ops = new Set(m.b.g.nodes.map((n) => n.op));
    expect([...ops].filter((op) => op.startsWith("conv2d_grouped"))).toEqual(["conv2d_grouped"]);
  });

  it("a small configuration's train step compiles to WGSL, with every grouped kernel form", () => {
    const { program, spec } = experiment("restormer_small");
    const m = lowerModel(program, spec, { batch: 2, height: 16, width: 16, train: true });
    const loss = m.b.l1Loss(m.out, m.b.input("gt", m.out.shape));
    const opt = { kind: "adam", betas: [0.9, 0.99], eps: 1e-8, weightDecay: 0 } as const;
    const plan = compileProgram(buildTrainStep(m.b, loss, { optimizer: opt, ema: 0.999 }), { maxBindings: 8 });
    const grouped = plan.kernels.filter((k) => k.name.startsWith("conv2d_grouped"));
    expect(new Set(grouped.map((k) => k.name.replace(/_\d+$/, "")))).toEqual(
      new Set(["conv2d_grouped", "conv2d_grouped_bwd_x", "conv2d_grouped_bwd_w"]),
    );
    // Gathers and the depthwise row forms multiply-add with fma; the row weight gradient sums vec4 dot products.
    for (const k of grouped) expect(k.wgsl).toMatch(/fma\(|dot\(/);
  });
});
