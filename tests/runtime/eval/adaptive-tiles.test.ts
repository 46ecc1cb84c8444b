// Adaptive prompts at test time see the whole LQ image, as the reference's full-size test does, even when the
// restoration runs tile by tile. The fixture has only 1x1 convs, so tiled and whole-image results agree exactly
// if and only if every tile gets the whole image's prompt vector.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkFile } from "../../../compiler/compile.js";
import { initialParams } from "../../../compiler/ir/builder.js";
import { lowerModel } from "../../../compiler/lower/model.js";
import type { ExperimentSpec } from "../../../compiler/spec/experiment.js";
import { evaluate } from "../../../runtime/eval/evaluate.js";
import { acquireGpu, type Gpu } from "../../../runtime/webgpu/device.js";

const cacheDir = join(mkdtempSync(join(tmpdir(), "mio-aptiles-")), "cache");

describe("adaptive prompts on tiled evaluation", () => {
  let gpu: Gpu;
  beforeAll(async () => {
    gpu = await acquireGpu();
  });
  afterAll(() => gpu?.destroy());

  it("every tile is modulated by the whole image's prompt", async () => {
    const r = checkFile("tests/fixtures/e2e/pointwise_ap.mio");
    expect(r.diagnostics).toEqual([]);
    const spec = r.specs.get("pointwise_ap") as ExperimentSpec;
    const weights = initialParams(lowerModel(r.program, spec, { batch: 1, height: 16, width: 16 }).b);
    const base = { gpu, program: r.program, weights, cacheDir };
    const whole = await evaluate({ ...base, spec });
    const tiled = await evaluate({ ...base, spec: { ...spec, eval: { ...spec.eval, tile: 32, overlap: 8 } } });
    expect(tiled.sets.in_dist?.noise?.psnr).toBe(whole.sets.in_dist?.noise?.psnr);
    // ...and the prompt does change the output, so the equality above is not vacuous.
    const flat = new Map([...weights].map(([k, v]) => [k, k.startsWith("scale_fc") ? v.map(() => 0) : v]));
    const unprompted = await evaluate({ ...base, spec, weights: flat });
    expect(unprompted.sets.in_dist?.noise?.psnr).not.toBe(whole.sets.in_dist?.noise?.psnr);
  }, 300_000);
});
