// Lowering the .mio pipelines must give exactly the graph of the reference construction in tests/reference (which
// the PyTorch parity tests pin to BasicSR/MiOIR): same parameter names and shapes, same init, same outputs.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkFile } from "../../../compiler/compile.js";
import { interpret } from "../../../compiler/ir/interp.js";
import { lowerModel } from "../../../compiler/lower/model.js";
import { lowerTrainStep } from "../../../compiler/lower/train-step.js";
import { compileProgram } from "../../../compiler/passes/pipeline.js";
import { readSafetensors } from "../../../runtime/interop/safetensors.js";
import { buildSRResNet, type PromptKind } from "../../reference/srresnet.js";

const [B, H, W] = [1, 12, 12];

function lowered(file: string) {
  const { program, specs, diagnostics } = checkFile(file, { profile: "quick" });
  expect(diagnostics).toEqual([]);
  const spec = [...specs.values()][0];
  if (!spec) throw new Error(`${file} has no experiment`);
  return lowerModel(program, spec, { batch: B, height: H, width: W });
}

function inputs(prompt?: readonly number[]) {
  const lq = Float64Array.from({ length: B * 3 * H * W }, (_, i) => ((i * 7919) % 997) / 997);
  const values: Record<string, Float64Array> = { lq };
  if (prompt)
    values.prompt = Float64Array.from(
      { length: prompt.reduce((a, b) => a * b, 1) },
      (_, i) => ((i * 104729) % 1009) / 1009,
    );
  return values;
}

describe.each([
  ["pipelines/srresnet_m.mio", "none"],
  ["pipelines/srresnet_m_ep.mio", "explicit"],
  ["pipelines/seq_prompt.mio", "adaptive"],
] as [string, PromptKind][])("%s lowers to the reference SRResNet (%s prompts)", (file, prompt) => {
  it("with the same parameters and the same output", () => {
    const mine = lowered(file);
    const ref = buildSRResNet({ feat: 16, blocks: 4, prompt, batch: B, height: H, width: W, seed: 0 });
    const shapes = (ps: { name: string; node: { shape: readonly number[] } }[]) =>
      ps.map((p) => `${p.name} ${p.node.shape.join("x")}`).sort();
    expect(shapes(mine.b.paramList())).toEqual(shapes(ref.b.paramList()));
    for (const p of ref.b.paramList()) expect(mine.b.params.get(p.name)?.init).toEqual(p.init);

    const given = {
      ...inputs(mine.prompt?.shape),
      ...Object.fromEntries(ref.b.paramList().map((p) => [p.name, p.init])),
    };
    const [a] = interpret([mine.out], given);
    const [b] = interpret([ref.out], given);
    expect(a?.length).toBe(B * 3 * H * W);
    let maxDiff = 0;
    for (let i = 0; i < (a?.length ?? 0); i++) maxDiff = Math.max(maxDiff, Math.abs((a?.[i] ?? 0) - (b?.[i] ?? 0)));
    expect(maxDiff).toBeLessThan(1e-12);
  });
});

describe("stdlib SwinIR lowers (tests/fixtures/compiler/swinir.mio)", () => {
  it("the paper configuration has the reference's 11,604,775 parameters under its state-dict names", () => {
    const { program, specs, diagnostics } = checkFile("tests/fixtures/compiler/swinir.mio");
    expect(diagnostics).toEqual([]);
    const spec = specs.get("swinir_paper");
    if (!spec) throw new Error("no swinir_paper experiment");
    // 64×64 is 8×8 windows of 8: the parameters do not depend on the size.
    const m = lowerModel(program, spec, { batch: 1, height: 64, width: 64 });
    expect(m.out.shape).toEqual([1, 3, 64, 64]);
    const shapes = new Map(m.b.paramList().map((p) => [p.name, p.node.shape]));
    expect([...shapes.values()].reduce((n, s) => n + s.reduce((a, d) => a * d, 1), 0)).toBe(11_604_775);
    expect(shapes.get("layers.5.residual_group.blocks.5.attn.relative_position_bias_table")).toEqual([225, 6]);
    expect(shapes.get("layers.0.residual_group.blocks.1.attn.qkv.weight")).toEqual([540, 180]);
    expect(shapes.get("layers.3.conv.weight")).toEqual([180, 180, 3, 3]);
    expect(shapes.get("patch_embed.norm.bias")).toEqual([180]);
    expect(shapes.get("conv_before_upsample.0.weight")).toEqual([64, 180, 3, 3]);
    // conv_first, patch_embed.norm; 6 groups of 6 layers (13 tensors each) and a conv; norm; three convs.
    expect(shapes.size).toBe(4 + 6 * (6 * 13 + 2) + 2 + 6);
  });

  // SwinIR_EP/AP: F_ext_net (1 or 3 input channels) and 9 scale/shift pairs of Linear(64, C) under the reference's
  // names. The counts are PyTorch's, from scripts/fixtures/swinir_prompt_golden.py's definitions (its metadata).
  it.each([
    ["swinir_paper_ep", "ep", 1, 11_854_341],
    ["swinir_paper_ap", "ap", 3, 11_860_613],
  ])("%s has the reference's parameters, names and init", async (name, kind, inChannels, total) => {
    const { metadata } = await readSafetensors(`tests/fixtures/compiler/swinir_${kind}_small.safetensors`);
    expect(Number(metadata.paper_params)).toBe(total);
    const { program, specs, diagnostics } = checkFile("tests/fixtures/compiler/swinir.mio");
    expect(diagnostics).toEqual([]);
    const spec = specs.get(name);
    if (!spec) throw new Error(`no ${name} experiment`);
    expect(spec.model.params + (spec.prompt.extractor?.params ?? 0) + spec.prompt.modulationParams).toBe(total);
    const m = lowerModel(program, spec, { batch: 1, height: 64, width: 64 });
    const params = new Map(m.b.paramList().map((p) => [p.name, p]));
    expect([...params.values()].reduce((n, p) => n + p.node.shape.reduce((a, d) => a * d, 1), 0)).toBe(total);
    expect(params.get("F_ext_net.conv1.weight")?.node.shape).toEqual([64, inChannels, 7, 7]);
    expect(params.get("F_ext_net.conv3.bias")?.node.shape).toEqual([64]);
    const fcs = [
      ...[0, 1, 2, 3, 4, 5].map((g) => [`layers.${g}.prompt_scale`, `layers.${g}.prompt_shift`, 180] as const),
      ["prompt_scale_after_body", "prompt_shift_after_body", 180],
      ["prompt_scale_before_upsample", "prompt_shift_before_upsample", 64],
      ["prompt_scale_last", "prompt_shift_last", 3],
    ] as const;
    const stats = (v: Float32Array) => {
      const mean = v.reduce((a, x) => a + x, 0) / v.length;
      return {
        std: Math.sqrt(v.reduce((a, x) => a + (x - mean) ** 2, 0) / v.length),
        max: Math.max(...v.map(Math.abs)),
      };
    };
    for (const [scale, shift, c] of fcs) {
      for (const fc of [scale, shift]) {
        const w = params.get(`${fc}.weight`);
        expect(w?.node.shape, fc).toEqual([c, 64]);
        // _init_weights: trunc_normal_(std 0.02) weights, zero biases.
        expect(
          Array.from(params.get(`${fc}.bias`)?.init ?? [1]).every((x) => x === 0),
          fc,
        ).toBe(true);
        if (c >= 64) expect(stats(w?.init ?? new Float32Array()).std, fc).toBeCloseTo(0.02, 2);
      }
    }
    // F_ext's convs keep nn.Conv2d's default init: U(±1/√fan_in), biases too.
    const conv2 = stats(params.get("F_ext_net.conv2.weight")?.init ?? new Float32Array());
    expect(conv2.max).toBeLessThanOrEqual(1 / Math.sqrt(64 * 9));
    expect(conv2.std).toBeCloseTo(1 / Math.sqrt(64 * 9) / Math.sqrt(3), 3);
    expect(params.size).toBe(4 + 6 * (6 * 13 + 2) + 2 + 6 + 6 + 9 * 4);
  });
});

// The passes are near-linear in the graph: the largest model the checker lets through (MAX_TENSOR_OPS) compiles in
// seconds. A residual add searching every earlier kernel for a cycle, lists copied per append and a ready set sorted
// per pop made SRResNet(blocks: 1000) take minutes (issue 15's hangs).
describe("the largest model the checker allows", () => {
  it("checks, lowers and compiles in seconds", { timeout: 120_000 }, () => {
    const text = [
      "use stdlib/tasks",
      "use stdlib/backbones/srresnet",
      "use stdlib/prompts",
      "experiment e {",
      "  model SRResNet(feat: 4, blocks: 496)",
      "  prompt adaptive { extractor FExt(nf: 4); sites body.* }",
      "  data { crop 16; batch 1 }",
      "  curriculum mixed { tasks sr; iters 10 }",
      "}",
    ].join("\n");
    const t0 = performance.now();
    const { program, specs, diagnostics } = checkFile(join(import.meta.dirname, "largest.mio"), { text });
    expect(diagnostics).toEqual([]);
    const spec = specs.get("e");
    if (!spec) throw new Error("no spec");
    const plan = compileProgram(lowerTrainStep(program, spec).program, { maxBindings: 16 });
    expect(plan.kernels.length).toBeGreaterThan(5000);
    // About 6 s on a loaded 2-core machine; the quadratic passes took minutes.
    expect(performance.now() - t0).toBeLessThan(40_000);
  });
});
