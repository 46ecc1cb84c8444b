// drop_path in a compiled train step on the device: TrainSession writes the run's step number into `rng_step`, so
// each step drops other samples, a second session from the same state drops the same ones (same bytes), and about
// half the samples of p = 0.5 are dropped whole. The model's branch is `lq |> conv |> drop_path(0.5)` added to lq
// and trained against gt = lq, so a dropped sample's loss is exactly 0 and a kept one's is not.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkFile } from "../../../compiler/compile.js";
import { initialParams } from "../../../compiler/ir/builder.js";
import { lowerTrainStep } from "../../../compiler/lower/train-step.js";
import { PLAN_IO } from "../../../compiler/plan/io.js";
import type { ExperimentSpec } from "../../../compiler/schema/experiment.js";
import { compileForDevice } from "../../../runtime/exec/fit.js";
import { TrainSession } from "../../../runtime/exec/train-session.js";
import { acquireGpu, type Gpu } from "../../../runtime/webgpu/device.js";

const BATCH = 64;
const TEXT = `use stdlib/tasks
backbone Drop()(lq: image) {
  return lq + (lq |> c: conv(3, k: 1) |> drop_path(0.5))
}
experiment e {
  model Drop
  data { crop 8; batch ${BATCH} }
  curriculum mixed { tasks sr; iters 10 }
}
`;

let gpu: Gpu;
beforeAll(async () => {
  gpu = await acquireGpu();
});
afterAll(() => gpu?.destroy());

describe("drop_path in a device train step", () => {
  it("draws per step from rng_step: whole samples dropped, reproducibly, afresh each step", async () => {
    const r = checkFile(join(import.meta.dirname, "drop-path.mio"), { text: TEXT });
    expect(r.diagnostics).toEqual([]);
    const step = lowerTrainStep(r.program, r.specs.get("e") as ExperimentSpec);
    const plan = compileForDevice(gpu, step.program, { what: "the drop_path train step", hint: "" });
    expect(plan.inputs[PLAN_IO.rngStep]?.shape).toEqual([1]);
    const lq = Float32Array.from({ length: BATCH * 3 * 64 }, (_, i) => ((i * 7919) % 1000) / 1000);
    const batch = { lq, gt: lq };
    const losses = async () => {
      const s = await TrainSession.create(gpu, plan, initialParams(step.model.b), step.optimizer);
      try {
        const out: number[][] = [];
        for (let t = 0; t < 3; t++) {
          // lr 0: the weights stay, so only the masks change between steps.
          const got = await s.step(batch, 0, [PLAN_IO.sampleLoss]);
          out.push(Array.from(got[PLAN_IO.sampleLoss] as Float32Array));
        }
        return out;
      } finally {
        s.destroy();
      }
    };
    const [a, b] = [await losses(), await losses()];
    expect(b).toEqual(a); // same seed and steps: the same bytes
    const masks = a.map((l) => l.map((v) => (v === 0 ? "0" : "1")).join(""));
    expect(new Set(masks).size).toBe(3); // each step draws afresh
    const dropped =
      masks
        .join("")
        .split("")
        .filter((c) => c === "0").length /
      (3 * BATCH);
    // 192 draws of p = 0.5: within 4 standard deviations (0.144) of a half.
    expect(Math.abs(dropped - 0.5)).toBeLessThan(4 * Math.sqrt(0.25 / (3 * BATCH)));
  }, 300_000);
});
