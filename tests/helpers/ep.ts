// The tiny explicit-prompt experiment (tests/fixtures/e2e/ep.mio) with its initial weights, and a rigged task
// classifier for it: all weights zero but the last bias, so it predicts 'dark' for every image, with probability
// e^4 / (1 + e^4) = 0.982. Tests of classifier-picked prompts then know each pick in advance.
import { join } from "node:path";
import { checkFile } from "../../compiler/compile.js";
import type { ExperimentSpec } from "../../compiler/schema/experiment.js";
import { type TensorMap, writeSafetensors } from "../../runtime/interop/safetensors.js";
import { initialWeights } from "./weights.js";

export const EP_FILE = "tests/fixtures/e2e/ep.mio";

export function epExperiment() {
  const r = checkFile(EP_FILE);
  if (r.diagnostics.length) throw new Error(r.diagnostics.map((d) => d.message).join("; "));
  const spec = r.specs.get("tiny_ep") as ExperimentSpec;
  const weights = initialWeights(r.program, spec);
  return { program: r.program, spec, weights };
}

/** TaskClassifier(width: 4, classes: 2)'s parameters. */
const SHAPES: Record<string, number[]> = {
  "features.0.weight": [4, 3, 3, 3],
  "features.0.bias": [4],
  "features.2.weight": [4, 4, 3, 3],
  "features.2.bias": [4],
  "features.4.weight": [4, 4, 1, 1],
  "features.4.bias": [4],
  "features.6.weight": [4, 4, 1, 1],
  "features.6.bias": [4],
  "features.8.weight": [32, 4, 1, 1],
  "features.8.bias": [32],
  "fc.weight": [2, 32],
  "fc.bias": [2],
};

/** Writes the rigged classifier (classes noise, dark); `fcIn` changes fc.weight's shape to make a bad checkpoint. */
export async function writeRiggedClassifier(dir: string, fcIn = 32): Promise<string> {
  const tensors: TensorMap = {};
  for (const [name, shape] of Object.entries(SHAPES)) {
    const s = name === "fc.weight" ? [2, fcIn] : shape;
    tensors[name] = { shape: s, data: new Float32Array(s.reduce((a, b) => a * b, 1)) };
  }
  (tensors["fc.bias"] as { data: Float32Array }).data.set([0, 4]);
  const path = join(dir, fcIn === 32 ? "classifier.safetensors" : "bad-classifier.safetensors");
  const meta = { backbone: "TaskClassifier", args: { width: 4, classes: 2 }, classes: ["noise", "dark"] };
  await writeSafetensors(path, tensors, { "mio.classifier": JSON.stringify(meta) });
  return path;
}
