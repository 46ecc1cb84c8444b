// A model's weights from a file: a checkpoint folder of `mioc run` (its state.safetensors, raw parameters or their
// EMA) or a safetensors of parameters with PyTorch names, each checked against the model by name and shape before
// any device work starts.
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { stateNames } from "../../compiler/autodiff/optim.js";
import { modelParamShapes } from "../../compiler/lower/model.js";
import type { LoadedProgram } from "../../compiler/program.js";
import type { ExperimentSpec } from "../../compiler/schema/experiment.js";
import { didYouMean } from "../../grammar/diagnostics.js";
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
 * Tensors a PyTorch state dict holds besides parameters: buffers the reference registers that mio's graph computes
 * (from the window size and the input size), accepted beside the parameter that shows they belong to the model.
 */
const DERIVED_BUFFERS: { suffix: string; beside: string }[] = [
  // SwinIR WindowAttention's relative_position_index (int64), beside its bias table.
  { suffix: ".relative_position_index", beside: ".relative_position_bias_table" },
  // A shifted Swin block's attn_mask, for the reference's training size; mio builds the mask for each input size.
  { suffix: ".attn_mask", beside: ".attn.relative_position_bias_table" },
];

/**
 * Whether `name` in a weights file belongs to none of `params`: not a parameter, nor a parameter's optimizer state
 * or EMA (a checkpoint of `mioc run`), nor a reference buffer mio computes (DERIVED_BUFFERS).
 */
function stray(name: string, params: ReadonlyMap<string, readonly number[]>): boolean {
  if (params.has(name)) return false;
  const state = /^(ema|adam\.m|adam\.v)\.(.*)$/.exec(name);
  if (state && params.has(state[2] as string)) return false;
  return !DERIVED_BUFFERS.some(
    (d) => name.endsWith(d.suffix) && params.has(name.slice(0, -d.suffix.length) + d.beside),
  );
}

/**
 * Picks a model's parameters out of `tensors`: raw, or their EMA (`ema.<name>`); with `rawIfNoEma`, a parameter
 * without an EMA entry takes its raw value (a classifier.safetensors holds only what was evaluated). Every
 * parameter must be there with the model's shape and finite values (NaN/Inf weights would only restore to NaN),
 * and every tensor there must belong to the model: a tensor of another model (a misspelt or renamed name in a
 * converted state dict) is an error naming it, rather than a parameter silently left at its init.
 */
export function selectWeights(
  tensors: TensorMap,
  params: ReadonlyMap<string, readonly number[]>,
  which: "raw" | "ema",
  source: string,
  rawIfNoEma = false,
  model = "the model",
): TensorMap {
  const unknown = Object.keys(tensors).find((n) => stray(n, params));
  if (unknown !== undefined)
    throw new MioInputError(
      `${source} holds '${unknown}', which is not a parameter of ${model}`,
      didYouMean(unknown, params.keys()) ??
        "the weights belong to another model or configuration (check --model and --profile)",
    );
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
