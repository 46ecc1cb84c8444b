import { describe, expect, it } from "vitest";
import { ADAM_DEFAULTS, buildTrainStep, stepScalars } from "../../compiler/autodiff/optim.js";
import { GraphBuilder } from "../../compiler/ir/builder.js";
import { interpret } from "../../compiler/ir/interp.js";
import { buildClassifier, buildSRResNet } from "../reference/srresnet.js";

const count = (b: GraphBuilder) => b.paramList().reduce((s, p) => s + p.init.length, 0);

describe("graph builder", () => {
  it("creates PyTorch-named parameters with PyTorch's default init bounds", () => {
    const b = new GraphBuilder({ seed: 5 });
    const x = b.input("x", [2, 8, 10, 10]);
    b.conv2d(x, "conv_first", { out: 16, k: 3, pad: 1 });
    const names = b.paramList().map((p) => `${p.name}:${p.node.shape.join("x")}`);
    expect(names).toEqual(["conv_first.weight:16x8x3x3", "conv_first.bias:16"]);
    const bound = 1 / Math.sqrt(8 * 9);
    for (const p of b.paramList()) {
      const vals = [...p.init];
      expect(Math.max(...vals.map(Math.abs))).toBeLessThanOrEqual(bound);
      expect(Math.max(...vals.map(Math.abs))).toBeGreaterThan(0.8 * bound);
    }
  });

  it("draws BasicSR's kaiming_normal x 0.1 with zero bias, and init depends only on (seed, name)", () => {
    const make = (seed: number, first: string) => {
      const b = new GraphBuilder({ seed });
      const x = b.input("x", [1, 64, 4, 4]);
      b.conv2d(x, first, { out: 64, k: 3, pad: 1, init: "kaiming0.1" });
      b.conv2d(x, first === "a" ? "b" : "a", { out: 64, k: 3, pad: 1, init: "kaiming0.1" });
      return b;
    };
    const b = make(0, "a");
    const w = b.params.get("a.weight")?.init ?? new Float32Array();
    const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
    expect(std).toBeGreaterThan(0.95 * 0.1 * Math.sqrt(2 / 576));
    expect(std).toBeLessThan(1.05 * 0.1 * Math.sqrt(2 / 576));
    expect([...(b.params.get("a.bias")?.init ?? [])].every((v) => v === 0)).toBe(true);
    // Creation order does not matter; the seed does.
    expect(make(0, "b").params.get("a.weight")?.init).toEqual(w);
    expect(make(1, "a").params.get("a.weight")?.init).not.toEqual(w);
  });

  it("initialises SwinIR's layers as its _init_weights does: trunc normal 0.02, zero bias, LayerNorm 1 and 0", () => {
    const b = new GraphBuilder({ seed: 0 });
    const x = b.input("x", [1, 8, 8, 60]);
    b.windowAttention(b.layerNorm(x, "norm1"), "attn", { heads: 6, window: 8, shift: 4 });
    const init = (name: string) => [...(b.params.get(name)?.init ?? [])];
    for (const name of ["attn.qkv.weight", "attn.proj.weight", "attn.relative_position_bias_table"]) {
      const w = init(name);
      const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
      expect(std, name).toBeGreaterThan(0.95 * 0.02);
      expect(std, name).toBeLessThan(1.05 * 0.02);
    }
    expect(init("attn.qkv.bias").every((v) => v === 0)).toBe(true);
    expect(init("norm1.weight").every((v) => v === 1)).toBe(true);
    expect(init("norm1.bias").every((v) => v === 0)).toBe(true);
  });

  it("draws a parameter's init when it is first read, not when the graph is built (issue 15)", () => {
    // SRResNet(feat: 1000) has 297M parameters: drawing them all took 13.6 s of a lowering that only counts or
    // then loads weights. 2^26 values take seconds to draw, and nothing to declare.
    const b = new GraphBuilder({ seed: 3 });
    const x = b.input("x", [1, 4096, 1, 1]);
    const t0 = performance.now();
    b.conv2d(x, "wide", { out: 16384, k: 1, bias: false });
    expect(performance.now() - t0).toBeLessThan(500);
    const small = new GraphBuilder({ seed: 3 });
    small.conv2d(small.input("x", [1, 4, 1, 1]), "c", { out: 2, k: 1 });
    const first = small.params.get("c.weight")?.init;
    // Read twice, the same array: drawn once, and what it would have been drawn eagerly.
    expect(small.params.get("c.weight")?.init).toBe(first);
    expect([...(first ?? [])].every((v) => Math.abs(v) <= 1 / Math.sqrt(4) && v !== 0)).toBe(true);
  });

  it("matches the paper's parameter counts (docs/training.md)", () => {
    const n = (prompt: "none" | "explicit" | "adaptive") =>
      count(buildSRResNet({ feat: 64, blocks: 16, prompt, batch: 1, height: 16, width: 16, promptSize: 16 }).b);
    expect(n("none")).toBe(1_222_147); // 1.222M
    expect(n("explicit")).toBe(1_441_033); // 1.441M
    expect(n("adaptive")).toBe(1_447_305); // 1.447M
    expect(count(buildClassifier({ batch: 1, size: 18 }).b)).toBe(188_551);
  });

  it("classifier outputs a distribution over the 7 tasks", () => {
    const { b, probs } = buildClassifier({ batch: 2, size: 18, width: 8 });
    expect(probs.shape).toEqual([2, 7]);
    const inputs: Record<string, ArrayLike<number>> = {
      lq: Float64Array.from({ length: 2 * 3 * 18 * 18 }, (_, i) => Math.sin(i)),
    };
    for (const p of b.paramList()) inputs[p.name] = p.init;
    const [p] = interpret([probs], inputs);
    for (const row of [0, 1])
      expect((p ?? new Float64Array()).slice(row * 7, row * 7 + 7).reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12);
  });

  it("AdamW step: decoupled decay and bias correction match the formula", () => {
    const b = new GraphBuilder({ seed: 2 });
    const v = b.input("v", [3, 4]);
    const y = b.linear(v, "fc", 2);
    const loss = b.mseLoss(y, b.constant(0.5, [3, 2]));
    const cfg = { kind: "adamw", betas: [0.9, 0.99], eps: 1e-8, weightDecay: 0.02 } as const;
    const prog = buildTrainStep(b, loss, { optimizer: cfg, fetchGrads: true });
    const w0 = b.params.get("fc.weight")?.init ?? new Float32Array();
    const values: Record<string, ArrayLike<number>> = {
      v: Float64Array.from({ length: 12 }, (_, i) => Math.cos(i)),
      ...Object.fromEntries(b.paramList().map((p) => [p.name, p.init])),
      ...Object.fromEntries(
        b.paramList().flatMap((p) => [
          [`adam.m.${p.name}`, new Float64Array(p.init.length)],
          [`adam.v.${p.name}`, new Float64Array(p.init.length)],
        ]),
      ),
      ...Object.fromEntries(Object.entries(stepScalars(1, 1e-3, cfg)).map(([k, x]) => [k, [x]])),
    };
    const upd = prog.updates.find((u) => u.target.attrs.name === "fc.weight");
    const g = prog.outputs.get("grad.fc.weight");
    if (!upd || !g) throw new Error("missing update");
    const [p1, gv] = interpret([upd.value, g], values);
    // t = 1: m = 0.1 g, v = 0.01 g^2, m/bc1 = g, sqrt(v/bc2) = |g| -> p1 = p0 (1 - lr wd) - lr g / (|g| + eps)
    w0.forEach((p0, i) => {
      const gi = gv?.[i] ?? 0;
      expect(p1?.[i]).toBeCloseTo(p0 * (1 - 1e-3 * 0.02) - (1e-3 * gi) / (Math.abs(gi) + 1e-8), 10);
    });
    expect(ADAM_DEFAULTS.betas).toEqual([0.9, 0.99]);
  });
});
