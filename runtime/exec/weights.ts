// A model's weights from a file: a checkpoint folder of `mioc run` (its state.safetensors, raw parameters or their
// EMA) or a safetensors of parameters with PyTorch names, each checked against the model by name and shape before
// any device work starts.
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { stateNames } from "../../compiler/autodiff/optim.js";
import { modelParamShapes } from "../../compiler/lower/model.js";
import type { LoadedProgram } from "../../compiler/program.js";
import type { ExperimentSpec } from "../../compiler/schema/experiment.js";
import { MioInputError } from "../errors.js";
import { readSafetensors, type TensorMap } from "../interop/safetensors.js";

/**
 * The safetensors file a weights path names: the file itself, or the first of `inside` a folder holds (a checkpoint
 * folder's state.safetensors by default). `what` names the path in messages.
 */
export function weightsFile(path: string, inside = ["state.safetensors"], what = "checkpoint", hint?: string): string {
  if (!existsSync(path)) throw new MioInputError(`no such ${what}: ${path}`, hint);
  if (!statSync(path).isDirectory()) return path;
  const found = inside.map((f) => join(path, f)).find((f) => existsSync(f));
  if (found) return found;
  if (existsSync(join(path, "checkpoints", "latest")))
    throw new MioInputError(
      `${path} is a run folder`,
      `pass one of its checkpoints, e.g. ${join(path, "checkpoints", "<step-N>")}`,
    );
  throw new MioInputError(`${path} holds no ${inside.join(" or ")}`, hint);
}

/**
 * Picks a model's parameters out of `tensors`: raw, or their EMA (`ema.<name>`); with `rawIfNoEma`, a parameter
 * without an EMA entry takes its raw value (a classifier.safetensors holds only what was evaluated). Every
 * parameter must be there with the model's shape and finite values (NaN/Inf weights would only restore to NaN).
 */
export function selectWeights(
  tensors: TensorMap,
  params: ReadonlyMap<string, readonly number[]>,
  which: "raw" | "ema",
  source: string,
  rawIfNoEma = false,
  model = "the model",
): TensorMap {
  const out: TensorMap = {};
  for (const [name, shape] of params) {
    const key = which === "ema" ? stateNames(name).ema : name;
    const t = tensors[key] ?? (rawIfNoEma ? tensors[name] : undefined);
    if (!t)
      throw new MioInputError(
        `${source} has no '${key}', a parameter of ${model}`,
        "is it a checkpoint of this experiment and profile?",
      );
    if (t.shape.join("x") !== shape.join("x"))
      throw new MioInputError(
        `'${key}' has shape [${t.shape}] in ${source}; ${model} needs [${shape}]`,
        "the weights belong to another model or configuration (check --profile)",
      );
    const bad = t.data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0)
      throw new MioInputError(
        `'${key}' in ${source} holds ${t.data[bad]} (at index ${bad}): the weights are not finite`,
        "the training that wrote them diverged; use an earlier checkpoint, or retrain with a lower lr",
      );
    out[name] = t;
  }
  return out;
}

/** The experiment's parameters from a weights file or checkpoint folder (see `selectWeights`). */
export async function readModelWeights(
  path: string,
  program: LoadedProgram,
  spec: ExperimentSpec,
  which: "raw" | "ema",
  rawIfNoEma = false,
): Promise<TensorMap> {
  const file = weightsFile(path);
  const { tensors } = await readSafetensors(file);
  return selectWeights(tensors, modelParamShapes(program, spec), which, file, rawIfNoEma);
}
