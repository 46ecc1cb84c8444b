// Explicit-prompt evaluation with a task classifier vs the oracle task: the classifier's pick decides each test
// image's prompt map (here a rigged classifier that always says 'dark'), and its per-task accuracy is reported.
// Loading a classifier checkpoint names what is wrong with a bad one.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { promptMaps } from "../../../runtime/data/prompts.js";
import { accuracyOf, Classifier, loadClassifier } from "../../../runtime/eval/classifier.js";
import { evaluate } from "../../../runtime/eval/evaluate.js";
import { acquireGpu, type Gpu } from "../../../runtime/webgpu/device.js";
import { epExperiment, writeRiggedClassifier } from "../../helpers/ep.js";

const dir = mkdtempSync(join(tmpdir(), "mio-epcls-"));

describe("explicit prompts at test time", () => {
  let gpu: Gpu;
  beforeAll(async () => {
    gpu = await acquireGpu();
  });
  afterAll(() => gpu?.destroy());

  it("the classifier picks each image's prompt; the oracle uses its true task", async () => {
    const { program, spec, weights } = epExperiment();
    const prompts = await promptMaps(spec);
    const base = { gpu, program, spec, weights, cacheDir: join(dir, "cache"), ...(prompts ? { prompts } : {}) };
    const oracle = await evaluate(base);
    expect(oracle.classifierConfusion).toBeUndefined();

    const model = await loadClassifier(await writeRiggedClassifier(dir), program, spec);
    expect(model.classes).toEqual(["noise", "dark"]);
    const classifier = await Classifier.create(gpu, program, spec, model);
    const picked = await evaluate({ ...base, classifier }).finally(() => classifier.destroy());
    // The rigged classifier answers dark for everything: the confusion matrix has each image in dark's column.
    const { accuracy, images } = accuracyOf(picked.classifierConfusion ?? {});
    expect(accuracy).toEqual({ in_dist: { noise: 0, dark: 1 } });
    const n = images.in_dist ?? {};
    expect(picked.classifierConfusion).toEqual({
      in_dist: { noise: { dark: n.noise }, dark: { dark: n.dark } },
    });
    const [o, c] = [oracle.sets.in_dist ?? {}, picked.sets.in_dist ?? {}];
    // Dark images get their own map either way; noisy ones get dark's map from the classifier.
    expect(c.dark?.psnr).toBe(o.dark?.psnr);
    expect(c.noise?.psnr).not.toBe(o.noise?.psnr);
  }, 300_000);

  it("predicts with the classifier's output as probability", async () => {
    const { program, spec } = epExperiment();
    const cls = await Classifier.create(
      gpu,
      program,
      spec,
      await loadClassifier(join(dir, "classifier.safetensors"), program, spec),
    );
    const img = { width: 20, height: 17, data: new Uint8Array(20 * 17 * 3).fill(100) };
    const p = await cls.predict(img).finally(() => cls.destroy());
    expect(p.task).toBe("dark");
    expect(p.prob).toBeCloseTo(Math.exp(4) / (1 + Math.exp(4)), 5);
  }, 300_000);

  it("names what is wrong with a classifier checkpoint", async () => {
    const { program, spec } = epExperiment();
    await expect(loadClassifier(join(dir, "nope.safetensors"), program, spec)).rejects.toThrow(
      /no such classifier checkpoint/,
    );
    const bad = await writeRiggedClassifier(dir, 16);
    await expect(loadClassifier(bad, program, spec)).rejects.toThrow(
      /'fc\.weight' has shape \[2,16\] in the classifier checkpoint '.*'; TaskClassifier\(width: 4, classes: 2\) needs \[2,32\]/,
    );
  });
});
