// SRResNet with adaptive, explicit and no prompts (feat 16, 4 blocks, batch 2, 24×24) against PyTorch float64
// (scripts/fixtures/srresnet_golden.py): output, L1 loss, every parameter gradient, one Adam step, the EMA and
// the loss after the step, on the device through one compiled train-step plan, and on the CPU reference.
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grad } from "../../../compiler/autodiff/grad.js";
import { buildTrainStep } from "../../../compiler/autodiff/optim.js";
import { initialParams } from "../../../compiler/ir/builder.js";
import { interpret } from "../../../compiler/ir/interp.js";
import { compileProgram } from "../../../compiler/passes/pipeline.js";
import { TrainSession } from "../../../runtime/exec/train-session.js";
import { readSafetensors, type TensorMap } from "../../../runtime/interop/safetensors.js";
import { acquireGpu, type Gpu } from "../../../runtime/webgpu/device.js";
import { relErr, uniform } from "../../compiler/helpers.js";
import { buildSRResNet, type PromptKind } from "../../reference/srresnet.js";

const FIXTURES = path.join(import.meta.dirname, "..", "..", "fixtures", "compiler");
const OPT = { kind: "adam", betas: [0.9, 0.99], eps: 1e-8, weightDecay: 0 } as const;
const LR = 1e-3;
const EMA = 0.999;
/** Max error relative to each tensor's largest magnitude; the brief's bound. */
const TOL = 1e-4;

let gpu: Gpu;
beforeAll(async () => {
  gpu = await acquireGpu();
});
afterAll(() => gpu?.destroy());

function setup(prompt: PromptKind) {
  const built = buildSRResNet({ feat: 16, blocks: 4, prompt, batch: 2, height: 24, width: 24, promptSize: 32 });
  const data: Record<string, Float64Array> = {
    lq: uniform(11, 2 * 3 * 24 * 24, 0, 1),
    gt: uniform(12, 2 * 3 * 24 * 24, 0, 1),
  };
  if (prompt === "explicit") data.prompt = uniform(13, 2 * 32 * 32, 0, 1);
  return { ...built, data };
}

function tensor(t: TensorMap, name: string): Float32Array {
  const v = t[name];
  if (!v) throw new Error(`fixture has no tensor ${name}`);
  return v.data;
}

describe.each(["adaptive", "explicit", "none"] as const)("SRResNet, prompt %s, vs PyTorch", (prompt) => {
  let golden: TensorMap;
  beforeAll(async () => {
    golden = (await readSafetensors(path.join(FIXTURES, `srresnet_${prompt}.safetensors`))).tensors;
  });

  it("has PyTorch's parameter names and shapes", () => {
    const { b } = setup(prompt);
    const ours = b.paramList().map((p) => `grad.${p.name}:${p.node.shape.join("x")}`);
    const theirs = Object.keys(golden)
      .filter((k) => k.startsWith("grad."))
      .map((k) => `${k}:${golden[k]?.shape.join("x")}`);
    expect(ours.sort()).toEqual(theirs.sort());
  });

  it("CPU reference: output, loss and gradients", () => {
    const { b, out, data } = setup(prompt);
    const gt = b.input("gt", out.shape);
    const loss = b.l1Loss(out, gt);
    const params = b.paramList();
    const grads = grad(
      b,
      loss,
      params.map((p) => p.node),
    );
    const inputs = { ...data, ...Object.fromEntries(params.map((p) => [p.name, p.init])) };
    const [o, l, ...g] = interpret([out, loss, ...grads], inputs);
    expect(relErr(o ?? [], tensor(golden, "out"))).toBeLessThan(1e-6);
    expect(relErr(l ?? [], tensor(golden, "loss"))).toBeLessThan(1e-6);
    params.forEach((p, i) => {
      expect(relErr(g[i] ?? [], tensor(golden, `grad.${p.name}`)), p.name).toBeLessThan(1e-6);
    });
  });
});

// NOTE: the plain model's kernels are nearly a subset of the prompted ones', so the device check runs for the
// prompted variants only (a cold lavapipe shader cache costs seconds per GEMM kernel).
describe.each(["adaptive", "explicit"] as const)("SRResNet, prompt %s, on the device vs PyTorch", (prompt) => {
  let golden: TensorMap;
  beforeAll(async () => {
    golden = (await readSafetensors(path.join(FIXTURES, `srresnet_${prompt}.safetensors`))).tensors;
  });

  it("device: one train-step plan gives PyTorch's output, loss, gradients, Adam step, EMA and next loss", async () => {
    const { b, out, data } = setup(prompt);
    const gt = b.input("gt", out.shape);
    const loss = b.l1Loss(out, gt);
    const program = buildTrainStep(b, loss, { optimizer: OPT, ema: EMA, fetch: { out }, fetchGrads: true });
    const plan = compileProgram(program, { debug: 1 });
    expect(plan.peakBytes).toBeLessThan(plan.unplannedBytes);
    const init = initialParams(b);
    const session = await TrainSession.create(gpu, plan, init, OPT);
    const names = [...init.keys()];
    const got = await gpu.scoped(`SRResNet ${prompt} step`, () =>
      session.step(data, LR, [
        "loss",
        "out",
        ...names.map((n) => `grad.${n}`),
        ...names,
        ...names.map((n) => `ema.${n}`),
      ]),
    );
    const errs: Record<string, number> = {
      loss: relErr(got.loss ?? [], tensor(golden, "loss")),
      out: relErr(got.out ?? [], tensor(golden, "out")),
    };
    for (const n of names) {
      errs[`grad.${n}`] = relErr(got[`grad.${n}`] ?? [], tensor(golden, `grad.${n}`));
      errs[`step1.${n}`] = relErr(got[n] ?? [], tensor(golden, `step1.${n}`));
      const p0 = init.get(n) ?? new Float32Array();
      const p1 = tensor(golden, `step1.${n}`);
      const ema = p0.map((v, i) => EMA * v + (1 - EMA) * (p1[i] ?? 0));
      errs[`ema.${n}`] = relErr(got[`ema.${n}`] ?? [], ema);
    }
    const worst = Object.entries(errs).sort((a, c) => c[1] - a[1])[0];
    process.stdout.write(`SRResNet ${prompt}: worst relative error ${worst?.[1].toExponential(2)} (${worst?.[0]})\n`);
    for (const [k, e] of Object.entries(errs)) expect(e, k).toBeLessThan(TOL);
    // The Adam step moves every parameter by about lr (the first step is lr * sign(g)).
    const moved = names.map((n) => relErr(got[n] ?? [], init.get(n) ?? []));
    expect(Math.min(...moved)).toBeGreaterThan(1e-4);

    const next = await session.step(data, LR, ["loss"]);
    expect(relErr(next.loss ?? [], tensor(golden, "loss2"))).toBeLessThan(TOL);
    session.destroy();
  }, 600_000);
});
