// A model's initial parameters with their shapes: the weights tests evaluate and infer with.
import { lowerModel } from "../../compiler/lower/model.js";
import type { LoadedProgram } from "../../compiler/program.js";
import type { ExperimentSpec } from "../../compiler/schema/experiment.js";
import type { TensorMap } from "../../runtime/interop/safetensors.js";

export function initialWeights(program: LoadedProgram, spec: ExperimentSpec): TensorMap {
  const { b } = lowerModel(program, spec, { batch: 1, height: spec.data.crop, width: spec.data.crop });
  return Object.fromEntries(b.paramList().map((p) => [p.name, { shape: p.node.shape, data: p.init }]));
}
