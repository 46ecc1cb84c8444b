// End to end on the device: a tiny sequential experiment trains (the loss falls), beats its degraded input on
// the test set, and a run stopped mid-stage and resumed from its checkpoint ends with exactly the weights and loss
// curve of an uninterrupted run.
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkFile } from "../../../compiler/compile.js";
import type { ExperimentSpec } from "../../../compiler/schema/experiment.js";
import { readSafetensors } from "../../../runtime/interop/safetensors.js";
import { runExperiment } from "../../../runtime/run-experiment.js";
import { acquireGpu, type Gpu } from "../../../runtime/webgpu/device.js";

const FILE = "tests/fixtures/e2e/denoise.mio";

function compiled() {
  const r = checkFile(FILE);
  expect(r.diagnostics).toEqual([]);
  return { program: r.program, spec: r.specs.get("denoise") as ExperimentSpec };
}

function logLines(runDir: string, type: string) {
  return readFileSync(join(runDir, "log.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l))
    .filter((e) => e.type === type);
}

function trainLosses(runDir: string): [number, number][] {
  return logLines(runDir, "train").map((e) => [e.step, e.loss]);
}

async function finalWeights(runDir: string) {
  const latest = readFileSync(join(runDir, "checkpoints", "latest"), "utf8").trim();
  return (await readSafetensors(join(runDir, "checkpoints", latest, "state.safetensors"))).tensors;
}

describe("mioc run, end to end", () => {
  let gpu: Gpu;
  const root = mkdtempSync(join(tmpdir(), "mio-e2e-"));
  beforeAll(async () => {
    gpu = await acquireGpu();
  });
  afterAll(() => gpu?.destroy());

  let straight = "";
  it("trains: the loss falls and the model beats its noisy input", async () => {
    const { program, spec } = compiled();
    const r = await runExperiment({ gpu, program, spec, runsRoot: join(root, "a"), resume: false });
    expect(r.finished).toBe(true);
    straight = r.runDir;
    const losses = trainLosses(r.runDir).map(([, l]) => l);
    const head = losses.slice(0, 3).reduce((a, b) => a + b) / 3;
    const tail = losses.slice(-3).reduce((a, b) => a + b) / 3;
    expect(tail).toBeLessThan(head * 0.8);
    const metrics = JSON.parse(readFileSync(join(r.runDir, "metrics.json"), "utf8"));
    const noise = metrics.sets.in_dist.noise;
    expect(noise.images).toBe(2);
    expect(noise.psnr).toBeGreaterThan(noise.lq_psnr + 0.5);
    for (const f of ["report.md", "report.html", "loss.png", "samples/noise.png"]) {
      expect(existsSync(join(r.runDir, f)), f).toBe(true);
    }
    // The noise cell (the first task) beats its input, so it is marked ▲.
    expect(readFileSync(join(r.runDir, "report.md"), "utf8")).toMatch(/\| In-Dis \| [\d.]+ ▲ \| [\d.]+( [▲▼])? \|/);
    // Throughput: every train line has it/s and GFLOP/s, and GFLOP per iteration is the one plan's count.
    const perIter = logLines(r.runDir, "start")[0].step_gflop;
    expect(perIter).toBeGreaterThan(0);
    for (const e of logLines(r.runDir, "train")) {
      expect(e.its).toBeGreaterThan(0);
      expect(e.gflops).toBeGreaterThan(0);
      expect(e.gflops / e.its).toBeCloseTo(perIter, 9);
    }
  }, 600_000);

  it("resumes a stopped run to the same weights and loss curve", async () => {
    const { program, spec } = compiled();
    const runsRoot = join(root, "b");
    let iterations = 0;
    // Stop in the middle of the first stage, after a checkpoint (step 25) and before the next (step 50).
    const first = await runExperiment({
      gpu,
      program,
      spec,
      runsRoot,
      resume: false,
      onEvent: (e) => {
        if (e.type === "train") iterations = Number(e.step);
      },
      stopRequested: () => iterations >= 40,
    });
    expect(first.finished).toBe(false);
    // Stopped again during the evaluation: unfinished, no metrics; the next resume only evaluates.
    let evaluating = false;
    const evalStop = await runExperiment({
      gpu,
      program,
      spec,
      runsRoot,
      resume: true,
      onEvent: (e) => {
        if (e.type === "eval_progress") evaluating = true;
      },
      stopRequested: () => evaluating,
    });
    expect(evaluating).toBe(true);
    expect(evalStop.finished).toBe(false);
    expect(existsSync(join(evalStop.runDir, "metrics.json"))).toBe(false);
    const second = await runExperiment({ gpu, program, spec, runsRoot, resume: true });
    expect(second.finished).toBe(true);
    const metrics = (dir: string) => JSON.parse(readFileSync(join(dir, "metrics.json"), "utf8")).sets;
    expect(metrics(second.runDir)).toEqual(metrics(straight));

    expect(trainLosses(second.runDir).filter(([s]) => s > 40)).toEqual(trainLosses(straight).filter(([s]) => s > 40));
    const [a, b] = [await finalWeights(straight), await finalWeights(second.runDir)];
    expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
    for (const [name, t] of Object.entries(a))
      expect(Array.from(b[name]?.data ?? []), name).toEqual(Array.from(t.data));
  }, 600_000);

  it("skips unreadable training images, logs each once, trains on and reports them", async () => {
    const { program, spec } = compiled();
    const train = join(root, "train-with-bad");
    cpSync("tests/fixtures/e2e/train", train, { recursive: true });
    const png = readFileSync(join(train, "lomiri-brushes.png"));
    writeFileSync(join(train, "x.png"), "a text file named x.png"); // found when the loader opens (header)
    writeFileSync(join(train, "cut.png"), png.subarray(0, Math.floor(png.length / 2))); // found when first drawn
    const withBad = { ...spec, data: { ...spec.data, train: spec.data.train.map((t) => ({ ...t, path: train })) } };
    const r = await runExperiment({ gpu, program, spec: withBad, runsRoot: join(root, "c"), resume: false });
    expect(r.finished).toBe(true);
    const events = readFileSync(join(r.runDir, "log.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const skipped = events.filter((e) => e.type === "skipped");
    const files = skipped.flatMap((e) => e.files);
    expect(files.sort()).toEqual([join(train, "cut.png"), join(train, "x.png")]);
    for (const e of skipped) expect(e.reasons.every((m: string) => /cannot read image/.test(m))).toBe(true);
    const md = readFileSync(join(r.runDir, "report.md"), "utf8");
    expect(md).toMatch(/· 2 files skipped\./);
    expect(md).toContain(`- cannot read image '${join(train, "cut.png")}'`);
    expect(md).toContain(`- cannot read image '${join(train, "x.png")}'`);
  }, 600_000);

  it("refuses to resume when the spec changed", async () => {
    const { program, spec } = compiled();
    const changed = { ...spec, seed: spec.seed + 1 };
    await expect(
      runExperiment({ gpu, program, spec: changed, runsRoot: join(root, "b"), resume: true }),
    ).rejects.toThrow(/spec changed/);
  });
});
