// `mioc infer --model FILE.mio`: an explicit-prompt model restores with the named task's map (generated from the
// experiment's seed, as in training) or, with `--task auto`, the map of the task a classifier predicts.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readImage, writePng } from "../../runtime/data/image.js";
import { promptMaps } from "../../runtime/data/prompts.js";
import { restoreImage } from "../../runtime/exec/infer.js";
import { writeSafetensors } from "../../runtime/interop/safetensors.js";
import { acquireGpu, type Gpu } from "../../runtime/webgpu/device.js";
import { mioc } from "../helpers/cli.js";
import { EP_FILE, epExperiment, writeRiggedClassifier } from "../helpers/ep.js";

const dir = mkdtempSync(join(tmpdir(), "mio-infer-task-"));
const img = { width: 21, height: 18, data: Uint8Array.from({ length: 21 * 18 * 3 }, (_, i) => (i * 53) % 256) };
const [input, weightsPath] = [join(dir, "in.png"), join(dir, "w.safetensors")];

describe("mioc infer --model with explicit prompts", () => {
  let gpu: Gpu;
  const ep = epExperiment();
  let classifier = "";
  beforeAll(async () => {
    gpu = await acquireGpu();
    await writePng(input, img);
    await writeSafetensors(weightsPath, ep.weights);
    classifier = await writeRiggedClassifier(dir);
  });
  afterAll(() => gpu?.destroy());

  const expected = async (task: string) => {
    const maps = await promptMaps(ep.spec);
    const map = maps?.maps[ep.spec.tasks.findIndex((t) => t.name === task)];
    return (await restoreImage(gpu, ep.program, ep.spec, ep.weights, img, map)).data;
  };

  it("--task NAME uses that task's map", async () => {
    const out = join(dir, "noise.png");
    const r = mioc(["infer", "--model", EP_FILE, "--weights", weightsPath, "--task", "noise", input, "-o", out]);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect((await readImage(out)).data).toEqual(await expected("noise"));
    expect((await readImage(out)).data).not.toEqual(await expected("dark"));
  }, 300_000);

  it("--task auto lets the classifier pick, and prints the task and its probability", async () => {
    const out = join(dir, "auto.png");
    const args = ["infer", "--model", EP_FILE, "--weights", weightsPath, "--task", "auto", "--classifier", classifier];
    const r = mioc([...args, input, "-o", out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("predicted task: dark (probability 0.982)\n");
    expect((await readImage(out)).data).toEqual(await expected("dark"));
  }, 300_000);

  it("rejects an unknown task with a did-you-mean, and --task auto without a classifier", () => {
    const base = ["infer", "--model", EP_FILE, "--weights", weightsPath, input, "-o", join(dir, "x.png")];
    const typo = mioc([...base, "--task", "nosie"]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/unknown task 'nosie' for 'tiny_ep'[\s\S]*did you mean 'noise'\?/);
    const auto = mioc([...base, "--task", "auto"]);
    expect(auto.code).toBe(2);
    expect(auto.stderr).toMatch(/--task auto needs a task classifier/);
    const none = mioc(base);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/uses explicit prompts: name the task with --task/);
  });

  it("refuses a weight of the right size but the wrong shape (a transposed one)", async () => {
    const name = Object.keys(ep.weights).find((k) => {
      const shape = ep.weights[k]?.shape ?? [];
      return shape.join() !== [...shape].reverse().join();
    }) as string;
    const w = ep.weights[name] as { shape: readonly number[]; data: Float32Array };
    const bad = join(dir, "transposed.safetensors");
    await writeSafetensors(bad, { ...ep.weights, [name]: { shape: [...w.shape].reverse(), data: w.data } });
    const r = mioc(["infer", "--model", EP_FILE, "--weights", bad, "--task", "noise", input, "-o", join(dir, "t.png")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`'${name}' has shape [${[...w.shape].reverse()}]`);
    expect(r.stderr).not.toMatch(/internal error/);
  });
});
