// Inference from a safetensors checkpoint: config read off the names, device output vs the CPU reference, and the
// `mioc infer` command end to end.
import { execFileSync } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkFile } from "../../../compiler/compile.js";
import { interpret } from "../../../compiler/ir/interp.js";
import { lowerModel } from "../../../compiler/lower/model.js";
import { readImage, writePng } from "../../../runtime/data/image.js";
import { ForwardPlan, restoreTiled } from "../../../runtime/exec/forward.js";
import { restoreImage, srresnetConfigFromWeights, srresnetExperiment } from "../../../runtime/exec/infer.js";
import { type TensorMap, writeSafetensors } from "../../../runtime/interop/safetensors.js";
import { acquireGpu, type Gpu } from "../../../runtime/webgpu/device.js";
import { buildSRResNet } from "../../reference/srresnet.js";

let gpu: Gpu;
beforeAll(async () => {
  gpu = await acquireGpu();
});
afterAll(() => gpu?.destroy());

function checkpoint(): TensorMap {
  const { b } = buildSRResNet({ feat: 4, blocks: 2, prompt: "adaptive", batch: 1, height: 8, width: 8, seed: 3 });
  return Object.fromEntries(b.paramList().map((p) => [p.name, { shape: [...p.node.shape], data: p.init }]));
}

const image = (w: number, h: number) => ({
  width: w,
  height: h,
  data: Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 37) % 256),
});

describe("SRResNet inference", () => {
  it("reads the model configuration off the weight names", () => {
    expect(srresnetConfigFromWeights(checkpoint())).toEqual({ feat: 4, blocks: 2, prompt: "adaptive" });
  });

  it("restores an image on the device as the CPU reference does", async () => {
    const w = checkpoint();
    const img = image(9, 7);
    // The stdlib's SRResNet, lowered from .mio, against the TypeScript reference construction on the CPU.
    const { program, spec } = srresnetExperiment(srresnetConfigFromWeights(w));
    const got = await restoreImage(gpu, program, spec, w, img);
    const { out } = buildSRResNet({ feat: 4, blocks: 2, prompt: "adaptive", batch: 1, height: 7, width: 9 });
    const lq = new Float64Array(3 * 63);
    for (let i = 0; i < 63; i++) for (let c = 0; c < 3; c++) lq[c * 63 + i] = (img.data[i * 3 + c] ?? 0) / 255;
    const inputs: Record<string, ArrayLike<number>> = { lq };
    for (const [k, t] of Object.entries(w)) inputs[k] = t.data;
    const [y] = interpret([out], inputs);
    let worst = 0;
    for (let i = 0; i < 63; i++)
      for (let c = 0; c < 3; c++) {
        const want = Math.round(Math.min(1, Math.max(0, y?.[c * 63 + i] ?? 0)) * 255);
        worst = Math.max(worst, Math.abs(want - (got.data[i * 3 + c] ?? 0)));
      }
    expect(worst).toBeLessThanOrEqual(1); // float32 vs float64 may round the other way
    expect(got.data.some((v, i) => v !== img.data[i])).toBe(true);
  }, 300_000); // a cold lavapipe shader cache compiles each GEMM kernel at its first dispatch

  // A stride-2 model takes even sides only: a 9×7 photo is restored in the eval tiles the checker verified (issue 15).
  it("an image of a size the model cannot take is restored in evaluation's tiles, with a note", async () => {
    const text = [
      "use stdlib/tasks",
      "backbone Half()(lq: image) {",
      "  return lq + (lq |> down: conv(4, stride: 2) |> upsample(2) |> up: conv(3))",
      "}",
      "experiment e {",
      "  model Half",
      "  data { crop 16 }",
      "  eval { tile 8; overlap 2 }",
      "  curriculum mixed { tasks sr; iters 1 }",
      "}",
    ].join("\n");
    const r = checkFile(path.join(import.meta.dirname, "half.mio"), { text });
    expect(r.diagnostics).toEqual([]);
    const spec = r.specs.get("e");
    if (!spec) throw new Error("no spec");
    const m = lowerModel(r.program, spec, { batch: 1, height: 8, width: 8 });
    const w: TensorMap = Object.fromEntries(
      m.b.paramList().map((p) => [p.name, { shape: [...p.node.shape], data: p.init }]),
    );
    const notes: string[] = [];
    const got = await restoreImage(gpu, r.program, spec, w, image(9, 7), undefined, "w", (n) => notes.push(n));
    expect(notes).toEqual([
      expect.stringMatching(
        /^the whole 9×7 image cannot be restored at once \('Half' cannot take a 9×7 input: '\+' of tensors of different sizes: 9×7 and 10×8 for a 9×7 input \(.*half\.mio:3:10\)\); restoring it in 8×8 tiles overlapping by 2 pixels, as evaluation does$/,
      ),
    ]);
    const plan = await ForwardPlan.create(gpu, r.program, spec, w, { height: 8, width: 8 });
    try {
      expect(got.data).toEqual((await restoreTiled(plan, image(9, 7), 8, 2)).data);
    } finally {
      plan.destroy();
    }
  }, 300_000);

  it("mioc infer writes the restored PNG", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "mio-infer-"));
    await writeSafetensors(path.join(dir, "w.safetensors"), checkpoint());
    await writePng(path.join(dir, "in.png"), image(9, 7));
    const cli = path.join(import.meta.dirname, "..", "..", "..", "dist", "cli", "mioc.js");
    execFileSync(
      process.execPath,
      [
        cli,
        "infer",
        "--weights",
        path.join(dir, "w.safetensors"),
        path.join(dir, "in.png"),
        "-o",
        path.join(dir, "out.png"),
      ],
      { stdio: "pipe" },
    );
    const out = await readImage(path.join(dir, "out.png"));
    expect([out.width, out.height]).toEqual([9, 7]);
    const { program, spec } = srresnetExperiment(srresnetConfigFromWeights(checkpoint()));
    expect(out.data).toEqual((await restoreImage(gpu, program, spec, checkpoint(), image(9, 7))).data);
  }, 300_000);
});
