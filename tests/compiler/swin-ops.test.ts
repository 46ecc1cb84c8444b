// The ops and composites of Swin attention against PyTorch float64 (scripts/fixtures/swin_ops_golden.py): erf,
// GELU, softmax and layer norm with their gradients, the relative position index, the shifted-window mask, and one
// Swin transformer layer (plain and shifted) with every parameter gradient, through the CPU reference of the graph
// and of its backward graph.
import { describe, expect, it } from "vitest";
import { grad } from "../../compiler/autodiff/grad.js";
import { GraphBuilder } from "../../compiler/ir/builder.js";
import { erf } from "../../compiler/ir/erf.js";
import { interpret } from "../../compiler/ir/interp.js";
import type { Node } from "../../compiler/ir/node.js";
import { relativePositionIndex, shiftedWindowMask } from "../../compiler/ir/windows.js";
import { cotangentLoss, relErr } from "./helpers.js";
import { readSwinOps, type SwinLayerFixture, swinLayer } from "./swin-golden.js";

interface WithGrads {
  y: number[];
  cot: number[];
  grads: number[][];
}
interface Golden {
  erf: { x: number[]; y: number[] };
  gelu: { x: number[] } & WithGrads;
  softmax: { shape: number[]; x: number[] } & WithGrads;
  layer_norm: { shape: number[]; x: number[]; weight: number[]; bias: number[] } & WithGrads;
  relative_position_index: Record<string, number[]>;
  attention_mask: { h: number; w: number; window: number; shift: number; mask: number[] }[];
  swin_layer: SwinLayerFixture;
}
const golden = readSwinOps() as Golden;

/** Float64 against float64: only summation order differs. */
const TOL = 1e-10;

/** The value of `y` and the gradients of sum(cot * y) with respect to `wrt`, on the CPU reference. */
function valueAndGrads(b: GraphBuilder, y: Node, wrt: Node[], inputs: Record<string, ArrayLike<number>>) {
  const loss = cotangentLoss(b, y, "cot");
  const grads = grad(b, loss, wrt);
  const [value, ...gs] = interpret([y, ...grads], inputs);
  return { value: value ?? new Float64Array(), grads: gs };
}

describe("Swin attention ops vs PyTorch", () => {
  it("erf: the float64 reference is within 1e-15 of torch.erf from -7 to 7", () => {
    const worst = Math.max(...golden.erf.x.map((x, i) => Math.abs(erf(x) - (golden.erf.y[i] ?? Number.NaN))));
    expect(worst).toBeLessThan(1e-15);
  });

  it("GELU (nn.GELU(), exact erf form): values and gradient", () => {
    const g = golden.gelu;
    const b = new GraphBuilder();
    const x = b.input("x", [4, 9]);
    const r = valueAndGrads(b, b.gelu(x), [x], { x: g.x, cot: g.cot });
    expect(relErr(r.value, g.y)).toBeLessThan(TOL);
    expect(relErr(r.grads[0] ?? [], g.grads[0] ?? [])).toBeLessThan(TOL);
  });

  it("softmax over the last axis: values and gradient", () => {
    const g = golden.softmax;
    const b = new GraphBuilder();
    const x = b.input("x", g.shape);
    const r = valueAndGrads(b, b.softmax(x, -1), [x], { x: g.x, cot: g.cot });
    expect(relErr(r.value, g.y)).toBeLessThan(TOL);
    expect(relErr(r.grads[0] ?? [], g.grads[0] ?? [])).toBeLessThan(TOL);
  });

  it("layer norm (F.layer_norm, eps 1e-5): values and the gradients of x, weight and bias", () => {
    const g = golden.layer_norm;
    const b = new GraphBuilder();
    const x = b.input("x", g.shape);
    const y = b.layerNorm(x, "ln");
    const params = b.paramList().map((p) => p.node);
    const r = valueAndGrads(b, y, [x, ...params], {
      x: g.x,
      "ln.weight": g.weight,
      "ln.bias": g.bias,
      cot: g.cot,
    });
    expect(relErr(r.value, g.y)).toBeLessThan(TOL);
    g.grads.forEach((want, i) => {
      expect(relErr(r.grads[i] ?? [], want), `gradient ${i}`).toBeLessThan(TOL);
    });
  });

  it.each([2, 3])("relative position index of a window of side %i equals the reference's", (ws) => {
    const b = new GraphBuilder();
    const [index] = interpret([relativePositionIndex(b, ws)], {});
    expect([...(index ?? [])]).toEqual(golden.relative_position_index[String(ws)]);
  });

  it.each(golden.attention_mask.map((m) => [`${m.h}x${m.w} window ${m.window} shift ${m.shift}`, m] as const))(
    "shifted-window mask of %s equals calculate_mask (0 and -100)",
    (_, m) => {
      const b = new GraphBuilder();
      const [mask] = interpret([shiftedWindowMask(b, m.h, m.w, m.window, m.shift)], {});
      // -0 and 0 are the same mask entry.
      expect([...(mask ?? [])].map((v) => v + 0)).toEqual(m.mask);
    },
  );

  it.each(golden.swin_layer.layers.map((l) => [l.shift, l] as const))(
    "Swin transformer layer, shift %i: output and the gradients of the input and every parameter",
    (shift, l) => {
      const b = new GraphBuilder();
      const { x, y } = swinLayer(b, golden.swin_layer, shift);
      const params = b.paramList();
      expect(params.map((p) => p.name).sort()).toEqual(Object.keys(l.params).sort());
      const r = valueAndGrads(b, y, [x, ...params.map((p) => p.node)], { x: l.x, cot: l.cot, ...l.params });
      expect(relErr(r.value, l.y)).toBeLessThan(TOL);
      expect(relErr(r.grads[0] ?? [], l.grad_x)).toBeLessThan(TOL);
      params.forEach((p, i) => {
        expect(relErr(r.grads[i + 1] ?? [], l.grad_params[p.name] ?? []), p.name).toBeLessThan(TOL);
      });
    },
  );
});
