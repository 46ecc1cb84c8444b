// Test-time padding (pad_to, crop_to) and stochastic depth (drop_path) as .mio layers: what the checker says about
// sizes and values, what the lowering builds at each input size, and that drop_path draws only in training steps,
// per sample, reproducibly (issue 11, items 2 and 3).
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkFile } from "../../../compiler/compile.js";
import { interpret } from "../../../compiler/ir/interp.js";
import type { Node } from "../../../compiler/ir/node.js";
import { lowerModel } from "../../../compiler/lower/model.js";
import { lowerTrainStep } from "../../../compiler/lower/train-step.js";
import { compileProgram } from "../../../compiler/passes/pipeline.js";
import { PLAN_IO } from "../../../compiler/plan/io.js";
import type { ExperimentSpec } from "../../../compiler/schema/experiment.js";
import { uniform } from "../helpers.js";

const ROOT = join(import.meta.dirname, "..", "..", "..");
const SWINIR = join(ROOT, "tests", "fixtures", "compiler", "swinir.mio");

/** Checks an experiment file given as text (in tests/, so `use stdlib/...` resolves). */
function check(text: string) {
  return checkFile(join(ROOT, "tests", "fixtures", "compiler", "pad-drop.mio"), { text });
}
const show = (r: ReturnType<typeof check>) =>
  r.diagnostics.map((d) => `${d.code} ${d.span.start.line}:${d.span.start.col} ${d.message}`);

function experiment(body: string, data = "") {
  return `use stdlib/tasks
backbone M()(lq: image) {
${body}
}
experiment e {
  model M
  ${data}
  curriculum mixed { tasks sr; iters 10 }
}
`;
}

function swinir(dropPath?: number) {
  const { program, specs, diagnostics } = checkFile(SWINIR);
  expect(diagnostics).toEqual([]);
  const base = specs.get("swinir_small") as ExperimentSpec;
  const spec =
    dropPath === undefined
      ? base
      : { ...base, model: { ...base.model, args: { ...base.model.args, drop_path: dropPath } } };
  return { program, spec };
}

const ops = (nodes: readonly Node[], op: string) => nodes.filter((n) => n.op === op);

describe("pad_to and crop_to", () => {
  it("pad a whole image's bottom and right to the window and crop the output back: SwinIR at 21×18", () => {
    const { program, spec } = swinir();
    const m = lowerModel(program, spec, { batch: 1, height: 18, width: 21 });
    expect(m.out.shape).toEqual([1, 3, 18, 21]);
    const pads = ops(m.b.g.nodes, "pad");
    expect(pads.map((n) => [n.attrs.pads, n.attrs.mode, n.shape])).toEqual([[[0, 2, 0, 3], "reflect", [1, 3, 20, 24]]]);
    // The attention of the padded 20×24 map: its shifted-window mask has (20/4)·(24/4) windows.
    const masks = m.b.g.nodes.filter((n) => n.shape.length === 3 && n.shape[0] === 30 && n.shape[1] === 16);
    expect(masks.length).toBeGreaterThan(0);
    expect([m.out.op, m.out.src[0]?.shape]).toEqual(["slice", [1, 3, 20, 24]]);
  });

  it("are the identity at a multiple of the window: no pad, no slice more than the unpadded model's", () => {
    const { program, spec } = swinir();
    const at = (h: number, w: number) => lowerModel(program, spec, { batch: 1, height: h, width: w }).b.g.nodes;
    const [whole, padded] = [at(16, 16), at(13, 15)];
    expect(ops(whole, "pad")).toEqual([]);
    // The padded lowering has exactly one pad and one slice more: nothing else changes.
    expect(ops(padded, "pad").length).toBe(1);
    expect(ops(padded, "slice").length).toBe(ops(whole, "slice").length + 1);
    expect(padded.length).toBe(whole.length + 2);
  });

  it("refuse what they cannot do, at the call", () => {
    const cases: [string, string, string][] = [
      [
        "  return lq + (lq |> pad_to(64) |> c: conv(3) |> crop_to()(lq))",
        "data { crop 24 }",
        "MIO3004 3:22 pad_to reflect-pads 40 pixels, which needs an input side over 40, but the side here is 24 (for the 24×24 training crop)",
      ],
      [
        '  return lq |> pad_to(8, mode: "edge") |> c: conv(3)',
        "",
        'MIO2006 3:16 pad_to mode must be "reflect" or "zeros", got "edge"',
      ],
      [
        "  s = lq |> c: conv(3, stride: 2)\n  return lq |> d: conv(3) |> crop_to()(s)",
        "",
        "MIO3002 4:30 crop_to of a tensor at 1/1 of the input to the size of one at 1/2",
      ],
      [
        '  p = lq |> pad_to(7, mode: "zeros")\n  return crop_to()(p, lq |> c: conv(3))',
        "data { crop 64 }",
        "MIO3004 4:10 crop_to cannot crop 64×64 to the larger 70×70 (for the 64×64 training crop)",
      ],
      ["  return lq |> c: conv(3) |> drop_path(1)", "", "MIO2009 3:30 drop_path.p must be below 1, found 1"],
    ];
    expect(cases.map(([body, data]) => show(check(experiment(body, data)))[0])).toEqual(cases.map((c) => c[2]));
  });

  it("window_attention of a side the window does not divide is the input's size, with a hint to pad", () => {
    const r = check(
      experiment(
        "  t = lq |> c: conv(8) |> to_tokens |> a: window_attention(heads: 2, window: 8) |> to_map\n  return t |> d: conv(3)",
        "data { crop 60 }",
      ),
    );
    expect(show(r)[0]).toMatch(
      /^MIO3004 .* window_attention\(window: 8\) needs sides divisible by 8, but the side here is 60/,
    );
    expect(r.diagnostics[0]?.hint).toMatch(/pad_to\(8\)/);
  });
});

describe("drop_path", () => {
  const rands = (nodes: readonly Node[]) => ops(nodes, "rand");

  it("draws only in a training step with p > 0, at the reference's linspace rates, from one step input", () => {
    const eval_ = (p: number) => {
      const { program, spec } = swinir(p);
      return lowerModel(program, spec, { batch: 2, height: 16, width: 16 }).b.g;
    };
    const train = (p: number) => {
      const { program, spec } = swinir(p);
      return lowerTrainStep(program, spec, { batch: 2 }).program.g;
    };
    expect(rands(eval_(0.1).nodes)).toEqual([]);
    expect(rands(train(0).nodes)).toEqual([]);
    expect(train(0).input(PLAN_IO.rngStep)).toBeUndefined();
    const g = train(0.1);
    // 2 groups × 2 layers: layer k of 4 drops with 0.1·k/3 on its attention and its MLP branch (layer 0 never).
    const drawn = rands(g.nodes);
    expect(drawn.length).toBe(6);
    expect(new Set(drawn.map((n) => n.attrs.seed)).size).toBe(6);
    expect(drawn.every((n) => n.src[0] === g.input(PLAN_IO.rngStep))).toBe(true);
    const rates = g.nodes
      .filter((n) => n.op === "affine" && n.src[0]?.op === "rand")
      .map((n) => -Number(n.attrs.b).toFixed(6));
    expect(rates).toEqual([0.1 / 3, 0.1 / 3, 0.2 / 3, 0.2 / 3, 0.1, 0.1].map((r) => -(-r).toFixed(6)));
    // Each mask is per sample: one draw for each of the batch's 2 samples.
    expect(drawn.every((n) => (n.shape as number[]).join("x") === "2x1x1x1")).toBe(true);
  });

  it("the same seed lowers to the same kernels; another seed draws other masks", () => {
    const kernels = (seed: number) => {
      const { program, spec } = swinir(0.1);
      const plan = compileProgram(lowerTrainStep(program, { ...spec, seed }).program);
      return plan.kernels.map((k) => k.key).join(",");
    };
    expect(kernels(3)).toBe(kernels(3));
    expect(kernels(3)).not.toBe(kernels(4));
  });

  it("keeps or drops each sample's whole tensor, about 1 - p of them, scaling the kept by 1 / (1 - p)", () => {
    const p = 0.3;
    const r = check(
      experiment(`  return lq + (lq |> c: conv(3, k: 1) |> drop_path(${p}))`, "data { crop 8; batch 1500 }"),
    );
    expect(r.diagnostics).toEqual([]);
    const spec = r.specs.get("e") as ExperimentSpec;
    const batch = 1500;
    const lqData = uniform(1, batch * 3 * 64, 0, 1);
    const branch = (train: boolean, step: number) => {
      const m = lowerModel(r.program, spec, { batch, height: 8, width: 8, train });
      const params = Object.fromEntries(
        m.b.paramList().map((q) => [
          q.name,
          uniform(
            q.name.length,
            q.node.shape.reduce((a, b) => a * b, 1),
            -1,
            1,
          ),
        ]),
      );
      const inputs = { ...params, lq: lqData, ...(train ? { [PLAN_IO.rngStep]: [step] } : {}) };
      const [out] = interpret([m.out], inputs);
      return Float64Array.from(out as ArrayLike<number>, (v, i) => v - (lqData[i] ?? 0));
    };
    const kept0 = branch(false, 0);
    let keptTotal = 0;
    const masks: string[] = [];
    for (const step of [0, 1, 2]) {
      const got = branch(true, step);
      let mask = "";
      for (let s = 0; s < batch; s++) {
        const per = 3 * 64;
        const ratios = new Set<string>();
        for (let i = s * per; i < (s + 1) * per; i++) ratios.add(((got[i] ?? 0) / (kept0[i] ?? 1)).toFixed(9));
        expect(ratios.size, `sample ${s} is neither kept whole nor dropped whole`).toBe(1);
        const ratio = Number([...ratios][0]);
        expect([0, Number((1 / (1 - p)).toFixed(9))]).toContain(ratio);
        mask += ratio === 0 ? "0" : "1";
      }
      keptTotal += [...mask].filter((c) => c === "1").length;
      masks.push(mask);
      if (step === 0) expect(branch(true, step)).toEqual(got); // same step, same bytes
    }
    // 4,500 draws: the kept fraction is 0.7 within 4 standard deviations (0.027); each step draws afresh.
    expect(Math.abs(keptTotal / (3 * batch) - (1 - p))).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / (3 * batch)));
    expect(new Set(masks).size).toBe(3);
  });
});
