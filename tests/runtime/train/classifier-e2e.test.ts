// End to end on the device: a tiny task classifier (loss cross_entropy, the reference's double softmax) trains,
// its loss falls and it beats chance on its training crops; the run leaves per-task accuracy in metrics.json and
// the report, and a classifier.safetensors that names its backbone and classes.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkFile } from "../../../compiler/compile.js";
import type { ExperimentSpec } from "../../../compiler/schema/experiment.js";
import { readSafetensors } from "../../../runtime/interop/safetensors.js";
import { runExperiment } from "../../../runtime/run-experiment.js";
import { acquireGpu, type Gpu } from "../../../runtime/webgpu/device.js";
import { miocAsync } from "../../helpers/cli.js";

describe("a task classifier run, end to end", () => {
  let gpu: Gpu;
  beforeAll(async () => {
    gpu = await acquireGpu();
  });
  afterAll(() => gpu?.destroy());

  it("trains: the loss falls, training accuracy beats chance, metrics and report show per-task accuracy", async () => {
    const r = checkFile("tests/fixtures/e2e/classifier.mio");
    expect(r.diagnostics).toEqual([]);
    const spec = r.specs.get("tiny_classifier") as ExperimentSpec;
    const root = mkdtempSync(join(tmpdir(), "mio-cls-"));
    const run = await runExperiment({ gpu, program: r.program, spec, runsRoot: root, resume: false });
    expect(run.finished).toBe(true);

    const train = readFileSync(join(run.runDir, "log.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .filter((e) => e.type === "train");
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const losses = train.map((e) => e.loss as number);
    expect(losses[0]).toBeCloseTo(Math.log(3), 1); // chance: a uniform output
    expect(mean(losses.slice(-4))).toBeLessThan(mean(losses.slice(0, 2)) - 0.05);
    // The last 4 logged batches (48 training crops): chance is 1/3.
    expect(mean(train.slice(-4).map((e) => e.acc as number))).toBeGreaterThan(0.6);

    const metrics = JSON.parse(readFileSync(join(run.runDir, "metrics.json"), "utf8"));
    expect(Object.keys(metrics.classifier_accuracy.in_dist).sort()).toEqual(["dark", "haze", "noise"]);
    for (const a of Object.values(metrics.classifier_accuracy.in_dist)) expect(a).toBeGreaterThanOrEqual(0);
    const report = readFileSync(join(run.runDir, "report.md"), "utf8");
    expect(report).toMatch(/## Task classifier accuracy \(%\)\n\n\| {2}\| Noise \| Haze \| Low-Light \| Avg \|/);
    // The confusion matrix counts the same predictions: each row's diagonal over its sum is the task's accuracy.
    for (const [task, row] of Object.entries(
      metrics.classifier_confusion.in_dist as Record<string, Record<string, number>>,
    )) {
      const total = Object.values(row).reduce((a, b) => a + b, 0);
      expect((row[task] ?? 0) / total).toBeCloseTo(metrics.classifier_accuracy.in_dist[task], 10);
    }
    expect(report).toMatch(/### Confusion, In-Dis\n\n\| true ↓ predicted → \| Noise \| Haze \| Low-Light \|/);

    const { tensors, metadata } = await readSafetensors(join(run.runDir, "classifier.safetensors"));
    expect(JSON.parse(metadata["mio.classifier"] ?? "{}")).toEqual({
      backbone: "TaskClassifier",
      args: { width: 16, classes: 3 },
      classes: ["noise", "haze", "dark"],
    });
    expect(tensors["fc.weight"]?.shape).toEqual([3, 32]);

    // `mioc eval` of the same weights prints the same accuracy table and the confusion matrices.
    const ev = await miocAsync([
      ...["eval", "tests/fixtures/e2e/classifier.mio", "--weights", join(run.runDir, "classifier.safetensors")],
      ...["--out", root],
    ]);
    expect(ev.code, ev.stderr).toBe(0);
    expect(ev.stdout).toContain(report.match(/\| In-Dis \|[^\n]*/)?.[0] as string);
    expect(ev.stdout).toMatch(/Confusion, In-Dis\n\| true ↓ predicted → \| Noise \| Haze \| Low-Light \|/);
  }, 300_000);
});
