// stdlib's Uformer (stdlib/backbones/uformer.mio) lowered from tests/fixtures/compiler/uformer.mio: the paper
// configuration's exact parameter count (PyTorch's, scripts/fixtures/uformer_golden.py) under the reference's
// state-dict names and inits, and the small configuration's names and shapes against the PyTorch fixture.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { builtins, padToPads } from "../../../compiler/check/builtins.js";
import { checkFile } from "../../../compiler/compile.js";
import { interpret } from "../../../compiler/ir/interp.js";
import { lowerModel } from "../../../compiler/lower/model.js";
import { readSafetensors } from "../../../runtime/interop/safetensors.js";
import { relErr } from "../helpers.js";

const FILE = "tests/fixtures/compiler/uformer.mio";

function lowered(experiment: string, height: number, width = height) {
  const { program, specs, diagnostics } = checkFile(FILE);
  expect(diagnostics).toEqual([]);
  const spec = specs.get(experiment);
  if (!spec) throw new Error(`no ${experiment} experiment`);
  return lowerModel(program, spec, { batch: 1, height, width });
}

const maxAbs = (v: Float32Array) => v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
const std = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0) / v.length);

describe("stdlib Uformer lowers (tests/fixtures/compiler/uformer.mio)", () => {
  it("the paper configuration has the reference's 50,880,946 parameters under its state-dict names", () => {
    // 128×128 (the training crop; a multiple of 128 and square, so pad_to adds nothing).
    const m = lowered("uformer_paper", 128);
    expect(m.out.shape).toEqual([1, 3, 128, 128]);
    const shapes = new Map(m.b.paramList().map((p) => [p.name, p.node.shape]));
    expect([...shapes.values()].reduce((n, s) => n + s.reduce((a, d) => a * d, 1), 0)).toBe(50_880_946);
    expect(shapes.get("input_proj.proj.0.weight")).toEqual([32, 3, 3, 3]);
    expect(shapes.get("encoderlayer_2.blocks.7.attn.qkv.to_kv.weight")).toEqual([256, 128]);
    expect(shapes.get("conv.blocks.1.attn.relative_position_bias_table")).toEqual([225, 16]);
    expect(shapes.get("dowsample_3.conv.0.weight")).toEqual([512, 256, 4, 4]);
    expect(shapes.get("upsample_0.deconv.0.weight")).toEqual([512, 256, 2, 2]);
    expect(shapes.get("decoderlayer_0.blocks.7.modulator.weight")).toEqual([64, 512]);
    expect(shapes.get("decoderlayer_1.blocks.0.mlp.linear1.0.weight")).toEqual([1024, 256]);
    expect(shapes.get("decoderlayer_1.blocks.0.mlp.dwconv.0.weight")).toEqual([1024, 1, 3, 3]);
    expect(shapes.get("decoderlayer_3.blocks.0.mlp.linear2.0.bias")).toEqual([64]);
    expect(shapes.get("output_proj.proj.0.weight")).toEqual([3, 64, 3, 3]);
    expect(shapes.has("encoderlayer_0.blocks.0.modulator.weight")).toBe(false); // modulators only in the decoder
    // The reference's inits: Linear trunc normal 0.02 and bias 0, LayerNorm 1/0, nn.Embedding N(0, 1), convs and
    // the transposed conv PyTorch's (the latter's fan-in from the weight's dim 1: out · 2 · 2).
    const init = (n: string) => m.b.params.get(n)?.init ?? new Float32Array();
    expect(std(init("decoderlayer_2.blocks.1.attn.qkv.to_q.weight"))).toBeCloseTo(0.02, 3);
    expect(maxAbs(init("decoderlayer_2.blocks.1.attn.qkv.to_q.bias"))).toBe(0);
    expect(std(init("encoderlayer_3.blocks.0.mlp.linear2.0.weight"))).toBeCloseTo(0.02, 3);
    expect(std(init("decoderlayer_0.blocks.0.modulator.weight"))).toBeCloseTo(1, 1);
    expect([...new Set(init("conv.blocks.0.norm2.weight"))]).toEqual([1]);
    const deconv = init("upsample_1.deconv.0.weight");
    expect(maxAbs(deconv)).toBeLessThanOrEqual(1 / Math.sqrt(128 * 4));
    expect(maxAbs(deconv)).toBeGreaterThan(0.9 / Math.sqrt(128 * 4));
  });

  it("the small configuration has the PyTorch fixture's parameter names and shapes", async () => {
    const { tensors } = await readSafetensors("tests/fixtures/compiler/uformer_small.safetensors");
    const m = lowered("uformer_small", 64);
    const ours = m.b.paramList().map((p) => `${p.name}:${p.node.shape.join("x")}`);
    const theirs = Object.keys(tensors)
      .filter((k) => k.startsWith("grad."))
      .map((k) => `${k.slice("grad.".length)}:${tensors[k]?.shape.join("x")}`);
    expect(ours.sort()).toEqual(theirs.sort());
    expect(ours.length).toBe(theirs.length);
  });

  it("test-time padding is the reference's: to multiples, then to a square, cropped back (PyTorch's output)", async () => {
    // scripts/fixtures/uformer_golden.py: a 33×66 image through the small model (pad 64) at the fixture's
    // parameters: reflect to 64×128, then 32 rows reflected at the top and bottom of that to 128×128, run, cropped
    // back from row 32.
    const pad = JSON.parse(readFileSync("tests/fixtures/compiler/uformer-pad.json", "utf8")) as {
      shape: number[];
      lq: number[];
      out: number[];
    };
    const [, , h, w] = pad.shape as [number, number, number, number];
    const { tensors } = await readSafetensors("tests/fixtures/compiler/uformer_small.safetensors");
    const m = lowered("uformer_small", h, w);
    expect(m.out.shape).toEqual([1, 3, h, w]);
    // The network runs at the square: its deepest map is 128 / 16 = 8 (two windows of 4).
    expect(m.b.g.nodes.some((n) => n.op === "pad" && n.shape[2] === 128 && n.shape[3] === 128)).toBe(true);
    const values: Record<string, Float64Array | Float32Array> = { lq: Float64Array.from(pad.lq) };
    for (const p of m.b.paramList()) values[p.name] = tensors[`param.${p.name}`]?.data ?? new Float32Array();
    const [out] = interpret([m.out], values);
    expect(relErr(out ?? [], pad.out)).toBeLessThan(1e-6);
  }, 120_000);

  it("pad_to(square: true) pads as the reference: half the difference at both ends, or a size error", () => {
    // 100×300 at 128: 128×384, then 128 rows at the top and the bottom (128 is not below 128: no reflection).
    expect(padToPads(100, 300, 128, true)).toEqual([
      [0, 28, 0, 84],
      [128, 128, 0, 0],
    ]);
    expect(padToPads(300, 200, 128, true)).toEqual([
      [0, 84, 0, 56],
      [0, 0, 64, 64],
    ]);
    expect(padToPads(300, 200, 128, false)[1]).toEqual([0, 0, 0, 0]);
    const sizes = builtins.pad_to?.sizes;
    if (!sizes) throw new Error("pad_to has no sizes rule");
    expect(sizes([[300, 200]], { multiple: 128, mode: "reflect", square: true })).toEqual([384, 384]);
    expect(() => sizes([[100, 300]], { multiple: 128, mode: "reflect", square: true })).toThrow(
      "pad_to reflect-pads 128 pixels, which needs an input side over 128, but the side here is 128",
    );
    expect(sizes([[100, 300]], { multiple: 128, mode: "zeros", square: true })).toEqual([384, 384]);
  });
});
