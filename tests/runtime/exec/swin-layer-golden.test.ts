// One Swin transformer layer (plain and shifted) in float32 on the device against PyTorch float64
// (scripts/fixtures/swin_ops_golden.py): the output and the gradients of the input and of every parameter, from one
// compiled plan of the forward and backward graph. The CPU reference's version is tests/compiler/swin-ops.test.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GraphBuilder } from "../../../compiler/ir/builder.js";
import { acquireGpu, type Gpu } from "../../../runtime/webgpu/device.js";
import { relErr } from "../../compiler/helpers.js";
import { readSwinOps, type SwinLayerFixture, swinLayer } from "../../compiler/swin-golden.js";
import { deviceGradients } from "./device-gradients.js";

const golden = (readSwinOps() as { swin_layer: SwinLayerFixture }).swin_layer;
/** Max error relative to each tensor's largest magnitude (issue 11's bound for parity with PyTorch). */
const TOL = 1e-4;

let gpu: Gpu;
beforeAll(async () => {
  gpu = await acquireGpu();
});
afterAll(() => gpu?.destroy());

describe("Swin transformer layer on the device vs PyTorch", () => {
  it.each(golden.layers.map((l) => [l.shift, l] as const))(
    "shift %i: output and every gradient within 1e-4",
    async (shift, l) => {
      const b = new GraphBuilder();
      const { x, y } = swinLayer(b, golden, shift);
      const got = await deviceGradients(gpu, b, x, y, { x: l.x, cot: l.cot, ...l.params });
      expect(relErr(got.y, l.y)).toBeLessThan(TOL);
      expect(relErr(got.gradX, l.grad_x)).toBeLessThan(TOL);
      for (const p of b.paramList()) {
        expect(relErr(got.gradParams[p.name] ?? [], l.grad_params[p.name] ?? []), p.name).toBeLessThan(TOL);
      }
    },
  );
});
