// One Restormer TransformerBlock (both LayerNorm forms) in float32 on the device against PyTorch float64
// (scripts/fixtures/restormer_ops_golden.py): the output and the gradients of the input and of every parameter, from
// one compiled plan of the forward and backward graph. The CPU reference's version is
// tests/compiler/restormer-ops.test.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GraphBuilder } from "../../../compiler/ir/builder.js";
import { acquireGpu, type Gpu } from "../../../runtime/webgpu/device.js";
import { relErr } from "../../compiler/helpers.js";
import { type RestormerBlockFixture, readRestormerOps, restormerBlock } from "../../compiler/restormer-golden.js";
import { deviceGradients } from "./device-gradients.js";

const golden = (readRestormerOps() as { block: RestormerBlockFixture }).block;
/** Max error relative to each tensor's largest magnitude (the brief's bound for one block in float32). */
const TOL = 1e-5;

let gpu: Gpu;
beforeAll(async () => {
  gpu = await acquireGpu();
});
afterAll(() => gpu?.destroy());

describe("Restormer TransformerBlock on the device vs PyTorch", () => {
  it.each(golden.blocks.map((l) => [`${l.norm} norm, conv bias ${l.bias}`, l] as const))(
    "%s: output and every gradient within 1e-5",
    async (_, l) => {
      const b = new GraphBuilder();
      const { x, y } = restormerBlock(b, golden, l);
      const got = await deviceGradients(gpu, b, x, y, { x: l.x, cot: l.cot, ...l.params });
      const errors: Record<string, number> = { y: relErr(got.y, l.y), x: relErr(got.gradX, l.grad_x) };
      for (const p of b.paramList()) errors[p.name] = relErr(got.gradParams[p.name] ?? [], l.grad_params[p.name] ?? []);
      for (const [name, e] of Object.entries(errors)) expect(e, name).toBeLessThan(TOL);
    },
    // About 60 kernels, compiled cold on a fresh lavapipe shader cache: minutes; seconds warm.
    600_000,
  );
});
