// `train { task_weights ... }` (docs/training.md, "Task weights"): how the setting resolves, what is refused, and the
// weighted loss the train step computes, against the same mean taken by hand over the CPU reference's per-sample
// losses, with its gradient checked by finite differences.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { grad } from "../../compiler/autodiff/grad.js";
import { checkFile } from "../../compiler/compile.js";
import { interpret } from "../../compiler/ir/interp.js";
import type { Node } from "../../compiler/ir/node.js";
import { lowerTrainStep } from "../../compiler/lower/train-step.js";
import { PLAN_IO } from "../../compiler/plan/io.js";
import { stageTaskWeights } from "../../runtime/train/trainer.js";

const experiment = (train: string, loss = "l1") =>
  [
    "use stdlib/tasks",
    "use stdlib/backbones/srresnet",
    "experiment e {",
    "  model SRResNet(feat: 4, blocks: 1)",
    "  data { crop 8; batch 3 }",
    "  curriculum sequential { order sr -> jpeg -> noise; stage_iters 10; final_iters 40 }",
    `  train { loss ${loss}; ${train} }`,
    "}",
  ].join("\n");

function check(train: string, loss?: string) {
  return checkFile(join(import.meta.dirname, "task-weights.mio"), { text: experiment(train, loss) });
}

describe("task_weights resolves", () => {
  it("to a weight per named task, sorted by name, and is absent from the spec when not written", () => {
    const { specs, diagnostics } = check("task_weights noise: 0.5, jpeg: 3");
    expect(diagnostics).toEqual([]);
    expect(specs.get("e")?.train.task_weights).toEqual({ jpeg: 3, noise: 0.5 });
    expect(Object.keys(specs.get("e")?.train.task_weights ?? {})).toEqual(["jpeg", "noise"]);
    const plain = check("ema 0.999");
    expect(plain.diagnostics).toEqual([]);
    expect(plain.specs.get("e")?.train).not.toHaveProperty("task_weights");
  });

  it.each([
    ["task_weights jpge: 2", "MIO4001", "task_weights: 'jpge' is not a task of the curriculum", "did you mean 'jpeg'?"],
    ["task_weights dark: 2", "MIO4001", "task_weights: 'dark' is not a task of the curriculum", "sr, jpeg, noise"],
    ["task_weights jpeg: 0", "MIO2009", "task_weights.jpeg must be a finite number > 0, found 0", undefined],
    ["task_weights jpeg: 2, 3", "MIO2009", "'task_weights' takes named weights", "task_weights jpeg: 3, sr: 2"],
    ["task_weights jpeg: 2, jpeg: 3", "MIO2004", "task_weights: 'jpeg' is weighted twice", undefined],
  ])("%s is refused at the value", (train, code, message, hint) => {
    const { diagnostics } = check(train);
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]?.code).toBe(code);
    expect(diagnostics[0]?.message).toBe(message);
    if (hint) expect(diagnostics[0]?.hint).toContain(hint);
    // The caret points into the setting, not at the experiment.
    expect(diagnostics[0]?.span.start.line).toBe(7);
  });
});

describe("a stage's task weights", () => {
  it("are each task's weight over the mean of the stage's, so a stage's loss keeps its scale", () => {
    const { specs } = check("task_weights jpeg: 4, noise: 0.5");
    const spec = specs.get("e");
    if (!spec) throw new Error("no spec");
    const [s1, s2, s3] = spec.curriculum.stages;
    // Tasks are indexed as spec.tasks: sr, jpeg, noise. Stage 1 is sr alone (mean 1), stage 2 sr and jpeg (mean
    // 2.5), stage 3 all three (mean 5.5 / 3).
    const expected = [[1, 4, 0.5], [0.4, 1.6, 0.2], [1, 4, 0.5].map((w) => w / (5.5 / 3))];
    for (const [k, stage] of [s1, s2, s3].entries()) {
      const got = Array.from(stageTaskWeights(spec, stage as never));
      for (const [i, w] of (expected[k] ?? []).entries()) expect(got[i]).toBeCloseTo(w, 6);
    }
  });
});

describe.each(["l1", "mse", "charbonnier(eps: 1e-3)"])("the weighted %s loss of a train step", (loss) => {
  const { program, specs, diagnostics } = check("task_weights jpeg: 3", loss);
  const spec = specs.get("e");
  if (!spec || diagnostics.length) throw new Error(JSON.stringify(diagnostics));
  const step = lowerTrainStep(program, spec);
  const b = step.model.b;
  const n = 3 * 3 * 8 * 8;
  const values: Record<string, Float64Array> = {
    [PLAN_IO.lq]: Float64Array.from({ length: n }, (_, i) => ((i * 7919) % 997) / 997),
    [PLAN_IO.gt]: Float64Array.from({ length: n }, (_, i) => ((i * 104729) % 1009) / 1009),
    [PLAN_IO.sampleWeight]: Float64Array.from([0.5, 2, 0.25]),
    ...Object.fromEntries(b.paramList().map((p) => [p.name, p.init])),
  };
  const pixel = (d: number) => (loss === "l1" ? Math.abs(d) : loss === "mse" ? d * d : Math.sqrt(d * d + 1e-6));

  it("is the batch's mean of each sample's loss times its weight", () => {
    const [value, out] = interpret([step.loss, step.model.out], values);
    const gt = values[PLAN_IO.gt] as Float64Array;
    const w = values[PLAN_IO.sampleWeight] as Float64Array;
    let expected = 0;
    for (let s = 0; s < 3; s++) {
      let sum = 0;
      for (let i = s * 192; i < (s + 1) * 192; i++) sum += pixel((out?.[i] ?? 0) - (gt[i] ?? 0));
      expected += ((w[s] ?? 0) * sum) / 192 / 3;
    }
    expect(value?.[0]).toBeCloseTo(expected, 12);
  });

  it("has the gradient finite differences give, with respect to the output's last conv", () => {
    const p = b.paramList().find((x) => x.name === "conv_last.bias");
    if (!p) throw new Error("no conv_last.bias");
    const [g] = interpret([grad(b, step.loss, [p.node])[0] as Node], values);
    for (let c = 0; c < 3; c++) {
      const at = (delta: number) => {
        const bias = Float64Array.from(p.init);
        bias[c] = (bias[c] ?? 0) + delta;
        return interpret([step.loss], { ...values, [p.name]: bias })[0]?.[0] ?? Number.NaN;
      };
      const h = 1e-6;
      expect(g?.[c]).toBeCloseTo((at(h) - at(-h)) / (2 * h), 6);
    }
  });
});
