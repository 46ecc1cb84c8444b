// The trainer feeds `task_weights` to the train step on the device (runtime/train/trainer.ts; docs/training.md,
// "Task weights"): each logged loss is the mean of each sample's L1 times its task's weight over the stage's mean
// weight, read against the per-task L1 the same step logs; equal weights train exactly as none.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkFile } from "../../../compiler/compile.js";
import { initialParams } from "../../../compiler/ir/builder.js";
import { lowerTrainStep } from "../../../compiler/lower/train-step.js";
import type { ExperimentSpec } from "../../../compiler/schema/experiment.js";
import type { Batch, LoaderCursor } from "../../../runtime/data/loader.js";
import { compileForDevice } from "../../../runtime/exec/fit.js";
import type { LogEvent } from "../../../runtime/run-folder.js";
import { train } from "../../../runtime/train/trainer.js";
import { acquireGpu, type Gpu } from "../../../runtime/webgpu/device.js";

const source = (weights: string) => `use stdlib/tasks
use stdlib/backbones/srresnet
experiment weighted {
  seed 0
  model SRResNet(feat: 4, blocks: 1)
  data { train "tests/fixtures/e2e/train"; crop 16; batch 2 }
  curriculum stages {
    stage [sr, noise], iters: 4
  }
  train {
    loss l1
    optimizer adam(lr: 1e-3)
    schedule constant
    log_every 1
    checkpoint_every 100
    ${weights}
  }
}
`;

let gpu: Gpu;
beforeAll(async () => {
  gpu = await acquireGpu();
});
afterAll(() => gpu?.destroy());

async function trainLog(weights: string): Promise<LogEvent[]> {
  const r = checkFile("tests/weighted.mio", { text: source(weights) });
  expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  const spec = r.specs.get("weighted") as ExperimentSpec;
  const step = lowerTrainStep(r.program, spec);
  const size = 2 * 3 * 16 * 16;
  // Sample 0 is an sr crop, sample 1 a noise crop, with different errors, so the weights change the loss.
  const lq = Float32Array.from({ length: size }, (_, i) => (i % 7) / 7);
  const gt = Float32Array.from({ length: size }, (_, i) => (i < size / 2 ? (i % 5) / 5 : (i % 3) / 9));
  const batch: Batch = {
    n: 2,
    channels: 3,
    height: 16,
    width: 16,
    lq,
    gt,
    task: Int32Array.from([0, 1]),
    files: ["a", "b"],
    cursor: {} as LoaderCursor,
  };
  const events: LogEvent[] = [];
  await train({
    gpu,
    spec,
    specHash: "weighted",
    plan: compileForDevice(gpu, step.program, { what: "the train step", hint: "lower crop or batch" }),
    initial: initialParams(step.model.b),
    runDir: mkdtempSync(join(tmpdir(), "mio-task-weights-")),
    emit: (e) => events.push(e),
    batches: async () => ({ next: async () => batch, close: async () => {} }),
  });
  return events.filter((e) => e.type === "train");
}

describe("task weights in training", () => {
  it("weigh each sample's loss by its task's weight over the stage's mean", async () => {
    // sr 3, noise 1: over the stage's mean of 2, sr samples weigh 1.5 and noise samples 0.5.
    const lines = await trainLog("task_weights sr: 3");
    expect(lines).toHaveLength(4);
    for (const e of lines) {
      if (e.type !== "train") continue;
      const sr = e.task_loss?.sr ?? Number.NaN;
      const noise = e.task_loss?.noise ?? Number.NaN;
      expect(e.loss).toBeCloseTo((1.5 * sr + 0.5 * noise) / 2, 5);
      // Not the unweighted mean: the two tasks' losses differ enough to tell.
      expect(Math.abs((e.loss ?? 0) - (sr + noise) / 2)).toBeGreaterThan(1e-3);
    }
  }, 600_000);

  it("that are all equal train as no weights do", async () => {
    const plain = await trainLog("");
    const equal = await trainLog("task_weights sr: 2, noise: 2");
    expect(equal.map((e) => (e.type === "train" ? e.loss : null))).toEqual(
      plain.map((e) => (e.type === "train" ? expect.closeTo(e.loss ?? Number.NaN, 5) : null)),
    );
  }, 600_000);
});
