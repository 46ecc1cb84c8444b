// A loss that turns NaN stops `mioc run`'s training loop with a checkpoint and a message naming where it diverged
// (runtime/train/trainer.ts; docs/training.md, "When the loss diverges"), instead of training on NaN weights.
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkFile } from "../../../compiler/compile.js";
import { initialParams } from "../../../compiler/ir/builder.js";
import { lowerTrainStep } from "../../../compiler/lower/train-step.js";
import type { ExperimentSpec } from "../../../compiler/schema/experiment.js";
import type { Batch, LoaderCursor } from "../../../runtime/data/loader.js";
import { MioRuntimeError } from "../../../runtime/errors.js";
import { compileForDevice } from "../../../runtime/exec/fit.js";
import type { LogEvent } from "../../../runtime/run-folder.js";
import { train } from "../../../runtime/train/trainer.js";
import { acquireGpu, type Gpu } from "../../../runtime/webgpu/device.js";

const SOURCE = `use stdlib/tasks
use stdlib/backbones/srresnet
experiment diverge {
  seed 0
  model SRResNet(feat: 4, blocks: 1)
  data { train "tests/fixtures/e2e/train"; crop 16; batch 1 }
  curriculum stages {
    stage [noise], iters: 8
  }
  train {
    loss l1
    optimizer adam(lr: 1e-3)
    schedule constant
    log_every 2
    checkpoint_every 100
  }
}
`;

let gpu: Gpu;
beforeAll(async () => {
  gpu = await acquireGpu();
});
afterAll(() => gpu?.destroy());

describe("a diverging loss", () => {
  it("stops the run at the first logged non-finite loss, with a checkpoint", async () => {
    const r = checkFile("tests/diverge.mio", { text: SOURCE });
    expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const spec = r.specs.get("diverge") as ExperimentSpec;
    const step = lowerTrainStep(r.program, spec);
    const size = 3 * 16 * 16;
    const good = Float32Array.from({ length: size }, (_, i) => (i % 7) / 7);
    const bad = good.map((v, i) => (i === 5 ? Number.NaN : v));
    let served = 0;
    // Iterations 1-2 are finite; from iteration 3 the GT holds a NaN, so the loss logged at iteration 4 is NaN.
    const next = async (): Promise<Batch> => {
      served++;
      return {
        n: 1,
        channels: 3,
        height: 16,
        width: 16,
        lq: good,
        gt: served >= 3 ? bad : good,
        task: Int32Array.from([0]),
        files: ["a"],
        cursor: {} as LoaderCursor,
      };
    };
    const events: LogEvent[] = [];
    const runDir = mkdtempSync(join(tmpdir(), "mio-trainer-diverge-"));
    const run = train({
      gpu,
      spec,
      specHash: "diverge",
      plan: compileForDevice(gpu, step.program, { what: "the train step", hint: "lower crop or batch" }),
      initial: initialParams(step.model.b),
      runDir,
      emit: (e) => events.push(e),
      batches: async () => ({ next, close: async () => {} }),
    });
    const err = await run.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MioRuntimeError);
    expect((err as MioRuntimeError).message).toMatch(
      /^training diverged: the loss is NaN at stage 1\/1, iteration 4 \(step 4\); stopped with a checkpoint in /,
    );
    expect((err as MioRuntimeError).hint).toMatch(/lower the learning rate/);
    expect(served).toBe(4);
    // The log line records the loss as null (JSON has no NaN); the checkpoint is the last event.
    const trains = events.filter((e) => e.type === "train");
    expect(trains.map((e) => e.iter)).toEqual([2, 4]);
    expect(Number.isFinite(trains[0]?.loss)).toBe(true);
    expect(JSON.parse(JSON.stringify(trains[1])).loss).toBeNull();
    expect(events.at(-1)?.type).toBe("checkpoint");
    const latest = readFileSync(join(runDir, "checkpoints", "latest"), "utf8").trim();
    expect(latest).toBe("step-4");
    expect(existsSync(join(runDir, "checkpoints", latest, "state.safetensors"))).toBe(true);
  }, 600_000);
});
