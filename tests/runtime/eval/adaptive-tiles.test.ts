// Adaptive prompts at test time see the whole LQ image, as the reference's full-size test does, even when the
// restoration runs tile by tile. The fixture has only 1x1 convs, so tiled and whole-image results agree exactly
// if and only if every tile gets the whole image's prompt vector.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkFile } from "../../../compiler/compile.js";
import type { ExperimentSpec } from "../../../compiler/schema/experiment.js";
import { evaluate } from "../../../runtime/eval/evaluate.js";
import { acquireGpu, type Gpu } from "../../../runtime/webgpu/device.js";
import { initialWeights } from "../../helpers/weights.js";

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
    const weights = initialWeights(r.program, spec);
    const base = { gpu, program: r.program, weights, cacheDir };
    const whole = await evaluate({ ...base, spec });
    const tiled = await evaluate({ ...base, spec: { ...spec, eval: { ...spec.eval, tile: 32, overlap: 8 } } });
    expect(tiled.sets.in_dist?.noise?.psnr).toBe(whole.sets.in_dist?.noise?.psnr);
    // ...and the prompt does change the output, so the equality above is not vacuous.
    const flat = Object.fromEntries(
      Object.entries(weights).map(([k, t]) => [k, k.startsWith("scale_fc") ? { ...t, data: t.data.map(() => 0) } : t]),
    );
    const unprompted = await evaluate({ ...base, spec, weights: flat });
    expect(unprompted.sets.in_dist?.noise?.psnr).not.toBe(whole.sets.in_dist?.noise?.psnr);
  }, 300_000);
});
