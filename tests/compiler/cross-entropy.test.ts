// The task classifier's loss against PyTorch (scripts/fixtures/cross_entropy_golden.py): nn.CrossEntropyLoss on
// the softmax output, the reference's double softmax (docs/training.md), and the single-softmax alternative, values
// and gradients with respect to the logits, through the CPU reference of the graph and its backward graph.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { grad } from "../../compiler/autodiff/grad.js";
import { GraphBuilder } from "../../compiler/ir/builder.js";
import { interpret } from "../../compiler/ir/interp.js";
import type { Node } from "../../compiler/ir/node.js";

interface Golden {
  z: number[];
  labels: number[];
  double_softmax: { loss: number; grad: number[] };
  single_softmax: { loss: number; grad: number[] };
}
const golden = JSON.parse(readFileSync("tests/fixtures/compiler/cross-entropy.json", "utf8")) as Golden;

function run(loss: (b: GraphBuilder, probs: Node, target: Node) => Node) {
  const b = new GraphBuilder({ seed: 0 });
  const z = b.input("z", [3, 7]);
  const t = b.input("label", [3, 7]);
  const y = loss(b, b.softmax(z, 1), t);
  const [dz] = grad(b, y, [z]);
  const label = new Float64Array(21);
  golden.labels.forEach((k, i) => {
    label[i * 7 + k] = 1;
  });
  const [value, g] = interpret([y, dz as Node], { z: Float64Array.from(golden.z), label });
  return { value: value?.[0] ?? Number.NaN, grad: Array.from(g ?? []) };
}

describe("cross-entropy loss of the task classifier (vs PyTorch)", () => {
  it("double softmax: CrossEntropyLoss(softmax(z), one-hot), as the reference trains it", () => {
    const r = run((b, p, t) => b.crossEntropy(p, t));
    expect(r.value).toBeCloseTo(golden.double_softmax.loss, 12);
    for (const [i, g] of r.grad.entries()) expect(g).toBeCloseTo(golden.double_softmax.grad[i] ?? Number.NaN, 12);
  });

  it("single softmax: the NLL of the softmax output equals CrossEntropyLoss(z)", () => {
    const r = run((b, p, t) => b.scale(b.reshape(b.sum(b.nllPerSample(p, t), [0], true), [1]), 1 / 3));
    expect(r.value).toBeCloseTo(golden.single_softmax.loss, 10);
    for (const [i, g] of r.grad.entries()) expect(g).toBeCloseTo(golden.single_softmax.grad[i] ?? Number.NaN, 10);
  });

  it("the double softmax has a floor: log(e + K - 1) - 1 when the model is certain and right", () => {
    const b = new GraphBuilder({ seed: 0 });
    const p = b.input("p", [1, 7]);
    const t = b.input("t", [1, 7]);
    const onehot = Float64Array.from({ length: 7 }, (_, k) => (k === 3 ? 1 : 0));
    const [y] = interpret([b.crossEntropy(p, t)], { p: onehot, t: onehot });
    expect(y?.[0]).toBeCloseTo(Math.log(Math.E + 6) - 1, 12);
  });
});
