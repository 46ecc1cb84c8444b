// `mioc run`'s own training loop (runtime/train/trainer.ts: stages, schedule, optimizer resets, checkpoints) on the
// .mio SRResNet-AP, fed a fixed batch stream, against the PyTorch golden step (scripts/fixtures/srresnet_golden.py):
// two stages of one iteration each, so stage 1's step is the golden Adam step and stage 2's logged loss is the
// golden loss after it.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path, { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkFile } from "../../../compiler/compile.js";
import { initialParams } from "../../../compiler/ir/builder.js";
import { lowerTrainStep } from "../../../compiler/lower/train-step.js";
import type { ExperimentSpec } from "../../../compiler/schema/experiment.js";
import type { Batch, LoaderCursor } from "../../../runtime/data/loader.js";
import { compileForDevice } from "../../../runtime/exec/fit.js";
import { readSafetensors, type TensorMap } from "../../../runtime/interop/safetensors.js";
import type { LogEvent } from "../../../runtime/run-folder.js";
import { train } from "../../../runtime/train/trainer.js";
import { acquireGpu, type Gpu } from "../../../runtime/webgpu/device.js";
import { relErr, uniform } from "../../compiler/helpers.js";

const FIXTURE = path.join(import.meta.dirname, "..", "..", "fixtures", "compiler", "srresnet_adaptive.safetensors");
const TOL = 1e-4;

// The golden test's network (feat 16, 4 blocks, adaptive prompts on every site, seed 0), batch 2 of 24x24, Adam at
// a constant 1e-3 with betas (0.9, 0.99), EMA 0.999.
const SOURCE = `use stdlib/tasks
use stdlib/backbones/srresnet
use stdlib/prompts
experiment golden {
  seed 0
  model SRResNet(feat: 16, blocks: 4, outer_init: "pytorch")
  prompt adaptive {
    extractor FExt(nf: 16)
    sites body.*, conv_hr, conv_last
  }
  data { train "tests/fixtures/e2e/train"; crop 24; batch 2 }
  curriculum stages {
    stage [noise], iters: 1
    stage [noise], iters: 1
  }
  train {
    loss l1
    optimizer adam(lr: 1e-3, betas: [0.9, 0.99])
    schedule constant
    ema 0.999
    log_every 1
  }
}
`;

let gpu: Gpu;
beforeAll(async () => {
  gpu = await acquireGpu();
});
afterAll(() => gpu?.destroy());

const tensor = (t: TensorMap, name: string): Float32Array => {
  const v = t[name];
  if (!v) throw new Error(`no tensor ${name}`);
  return v.data;
};

describe("the trainer's loop vs PyTorch", () => {
  it("steps, logs and checkpoints what PyTorch computes", async () => {
    const r = checkFile("tests/golden.mio", { text: SOURCE });
    expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const spec = r.specs.get("golden") as ExperimentSpec;
    const step = lowerTrainStep(r.program, spec);
    const initial = initialParams(step.model.b);
    const golden = (await readSafetensors(FIXTURE)).tensors;
    // The same two samples every iteration: the golden step's data.
    const batch: Batch = {
      n: 2,
      channels: 3,
      height: 24,
      width: 24,
      lq: Float32Array.from(uniform(11, 2 * 3 * 24 * 24, 0, 1)),
      gt: Float32Array.from(uniform(12, 2 * 3 * 24 * 24, 0, 1)),
      task: Int32Array.from([0, 0]),
      files: ["a", "b"],
      cursor: {} as LoaderCursor,
    };
    const events: LogEvent[] = [];
    const runDir = mkdtempSync(join(tmpdir(), "mio-trainer-golden-"));
    const result = await train({
      gpu,
      spec,
      specHash: "golden",
      plan: compileForDevice(gpu, step.program, { what: "the train step", hint: "lower crop or batch" }),
      initial,
      runDir,
      emit: (e) => events.push(e),
      batches: async () => ({ next: async () => batch, close: async () => {} }),
    });
    result.session.destroy();
    expect(result.finished).toBe(true);

    const losses = events.flatMap((e) => (e.type === "train" ? [e.loss ?? Number.NaN] : []));
    expect(losses).toHaveLength(2);
    expect(relErr([losses[0] ?? 0], tensor(golden, "loss"))).toBeLessThan(TOL);
    // Stage 2 starts from stage 1's weights: its first loss is PyTorch's loss after one step.
    expect(relErr([losses[1] ?? 0], tensor(golden, "loss2"))).toBeLessThan(TOL);

    // Stage 1's end checkpoint holds the parameters after the golden Adam step, their EMA and its moments.
    const ck = (await readSafetensors(join(runDir, "checkpoints", "step-1", "state.safetensors"))).tensors;
    for (const [name, p0] of initial) {
      const p1 = tensor(golden, `step1.${name}`);
      expect(relErr(tensor(ck, name), p1), name).toBeLessThan(TOL);
      const ema = p0.map((v, i) => 0.999 * v + 0.001 * (p1[i] ?? 0));
      expect(relErr(tensor(ck, `ema.${name}`), ema), `ema.${name}`).toBeLessThan(TOL);
      expect(ck[`adam.m.${name}`]?.shape).toEqual(ck[name]?.shape);
    }
  }, 600_000);
});
