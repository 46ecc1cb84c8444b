// stdlib's SwinIR with every prompt site wired, as SwinIR_EP and SwinIR_AP (explicit 1-channel maps, or the input
// itself, through the extractor F_ext_net: SwinFExt), lowered from .mio at a small configuration with every feature
// (embed 12, 2 groups of one plain and one shifted layer, 2 heads, window 4, nf 6, 16×16, batch 2), against PyTorch
// float64 (scripts/fixtures/swinir_prompt_golden.py): the reference's parameter names and shapes, output, L1 loss and
// every gradient on the CPU reference, and one compiled train-step plan on the device (output, loss, gradients, the
// Adam step and the next loss).
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grad } from "../../../compiler/autodiff/grad.js";
import { buildTrainStep } from "../../../compiler/autodiff/optim.js";
import { checkFile } from "../../../compiler/compile.js";
import { interpret } from "../../../compiler/ir/interp.js";
import { lowerModel } from "../../../compiler/lower/model.js";
import { compileProgram } from "../../../compiler/passes/pipeline.js";
import { TrainSession } from "../../../runtime/exec/train-session.js";
import { readSafetensors, type TensorMap } from "../../../runtime/interop/safetensors.js";
import { acquireGpu, type Gpu } from "../../../runtime/webgpu/device.js";
import { relErr } from "../../compiler/helpers.js";

const FIXTURES = path.join(import.meta.dirname, "..", "..", "fixtures", "compiler");
const OPT = { kind: "adam", betas: [0.9, 0.99], eps: 1e-8, weightDecay: 0 } as const;
const LR = 1e-3;
/** Max error relative to each tensor's largest magnitude: issue 11's bound for parity with PyTorch. */
const TOL = 1e-4;

let gpu: Gpu;
beforeAll(async () => {
  gpu = await acquireGpu();
});
afterAll(() => gpu?.destroy());

/**
 * NOTE: the key third of a qkv bias has a zero gradient (softmax ignores a constant per row); float32 leaves ~1e-9
 * there, which Adam's first step turns into up to lr/10 where float64 moves nothing (docs/compiler.md). Its step is
 * not compared; its gradient is checked to be ~0 instead.
 */
const keyBias = (v: ArrayLike<number>) => Array.from(v).slice(v.length / 3, (2 * v.length) / 3);
const keyBiasOut = (name: string, v: ArrayLike<number>) =>
  name.endsWith("attn.qkv.bias") ? Array.from(v).filter((_, i) => i < v.length / 3 || i >= (2 * v.length) / 3) : v;
const maxAbs = (v: ArrayLike<number>) => Math.max(...Array.from(v, Math.abs));

describe.each([
  ["ep", "swinir_small_ep"],
  ["ap", "swinir_small_ap"],
])("stdlib SwinIR_%s (small) vs PyTorch", (kind, experiment) => {
  let golden: TensorMap;
  beforeAll(async () => {
    golden = (await readSafetensors(path.join(FIXTURES, `swinir_${kind}_small.safetensors`))).tensors;
  });
  const tensor = (name: string): Float32Array => {
    const v = golden[name];
    if (!v) throw new Error(`fixture has no tensor ${name}`);
    return v.data;
  };

  function lowered() {
    const { program, specs, diagnostics } = checkFile(path.join(FIXTURES, "swinir.mio"));
    expect(diagnostics).toEqual([]);
    const spec = specs.get(experiment);
    if (!spec) throw new Error(`no ${experiment} experiment`);
    const m = lowerModel(program, spec, { batch: 2, height: 16, width: 16 });
    const gt = m.b.input("gt", m.out.shape);
    return { ...m, loss: m.b.l1Loss(m.out, gt) };
  }
  /** The data inputs: explicit prompts read the fixture's maps; adaptive ones read `lq` itself. */
  const data = () => ({
    lq: tensor("lq"),
    gt: tensor("gt"),
    ...(kind === "ep" ? { prompt: tensor("prompt") } : {}),
  });

  it("has the reference's parameter names and shapes", () => {
    const m = lowered();
    expect(m.prompt === undefined).toBe(kind === "ap");
    const ours = m.b.paramList().map((p) => `${p.name}:${p.node.shape.join("x")}`);
    const theirs = Object.keys(golden)
      .filter((k) => k.startsWith("grad."))
      .map((k) => `${k.slice("grad.".length)}:${golden[k]?.shape.join("x")}`);
    expect(ours.sort()).toEqual(theirs.sort());
  });

  it("CPU reference: output, loss and every gradient", () => {
    const { b, out, loss } = lowered();
    const params = b.paramList();
    const grads = grad(
      b,
      loss,
      params.map((p) => p.node),
    );
    const inputs = { ...data(), ...Object.fromEntries(params.map((p) => [p.name, tensor(`param.${p.name}`)])) };
    const [o, l, ...g] = interpret([out, loss, ...grads], inputs);
    // The fixture holds float32 roundings of PyTorch's float64 values.
    expect(relErr(o ?? [], tensor("out"))).toBeLessThan(1e-6);
    expect(relErr(l ?? [], tensor("loss"))).toBeLessThan(1e-6);
    params.forEach((p, i) => {
      expect(relErr(g[i] ?? [], tensor(`grad.${p.name}`)), p.name).toBeLessThan(1e-6);
    });
  });

  it("device: one train-step plan gives PyTorch's output, loss, gradients, Adam step and next loss", async () => {
    const { b, out, loss } = lowered();
    const plan = compileProgram(buildTrainStep(b, loss, { optimizer: OPT, fetch: { out }, fetchGrads: true }), {
      maxBindings: gpu.device.limits.maxStorageBuffersPerShaderStage,
    });
    const names = b.paramList().map((p) => p.name);
    const init = new Map(names.map((n) => [n, tensor(`param.${n}`)]));
    const session = await TrainSession.create(gpu, plan, init, OPT);
    const got = await session.step(data(), LR, ["loss", "out", ...names.map((n) => `grad.${n}`), ...names]);
    const errs: Record<string, number> = {
      loss: relErr(got.loss ?? [], tensor("loss")),
      out: relErr(got.out ?? [], tensor("out")),
    };
    for (const n of names) {
      const g = got[`grad.${n}`] ?? new Float32Array();
      errs[`grad.${n}`] = relErr(g, tensor(`grad.${n}`));
      errs[`step1.${n}`] = relErr(keyBiasOut(n, got[n] ?? []), keyBiasOut(n, tensor(`step1.${n}`)));
      if (n.endsWith("attn.qkv.bias")) expect(maxAbs(keyBias(g)) / maxAbs(g), n).toBeLessThan(1e-6);
    }
    const worst = Object.entries(errs).sort((a, c) => c[1] - a[1])[0];
    process.stdout.write(`SwinIR_${kind} small: worst relative error ${worst?.[1].toExponential(2)} (${worst?.[0]})\n`);
    for (const [k, e] of Object.entries(errs)) expect(e, k).toBeLessThan(TOL);
    const next = await session.step(data(), LR, ["loss"]);
    expect(relErr(next.loss ?? [], tensor("loss2"))).toBeLessThan(TOL);
    session.destroy();
  }, 600_000);
});
