// Checkpoints: everything a run needs to continue exactly — parameters, EMA, Adam moments (safetensors, PyTorch
// names), the stage/iteration, the optimizer step, the loader cursor and the spec hash (JSON). Each checkpoint is a
// folder written under a temporary name and renamed into place; `latest` is then replaced atomically, so a crash at
// any moment leaves the previous checkpoint intact.
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../data/image.js";
import type { LoaderCursor } from "../data/loader.js";
import { MioRuntimeError } from "../errors.js";
import { readSafetensors, type TensorMap, writeSafetensors } from "../interop/safetensors.js";

export interface TrainState {
  specHash: string;
  /** 0-based index of the stage in progress. */
  stage: number;
  /** Iterations completed in that stage. */
  iter: number;
  /** Iterations completed over all stages. */
  step: number;
  /** Adam's step counter (reset at each stage, as the reference restarts the optimizer). */
  optimizerStep: number;
  /** Where the stage's loader continues; null at a stage boundary. */
  cursor: LoaderCursor | null;
  /** Seconds of training so far (for it/s and the report). */
  seconds: number;
}

export interface Checkpoint {
  state: TrainState;
  /** Parameters, `ema.<name>`, `adam.m.<name>`, `adam.v.<name>` by their plan input names, with their shapes. */
  tensors: TensorMap;
}

export const checkpointDir = (runDir: string) => join(runDir, "checkpoints");

export async function saveCheckpoint(runDir: string, ck: Checkpoint): Promise<string> {
  const dir = checkpointDir(runDir);
  await mkdir(dir, { recursive: true });
  const name = `step-${ck.state.step}`;
  const tmp = join(dir, `.${name}.tmp-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp);
  await writeSafetensors(join(tmp, "state.safetensors"), ck.tensors, { format: "mio-checkpoint" });
  await writeFileAtomic(join(tmp, "state.json"), `${JSON.stringify(ck.state, null, 2)}\n`);
  const final = join(dir, name);
  await rm(final, { recursive: true, force: true });
  await rename(tmp, final);
  await writeFileAtomic(join(dir, "latest"), `${name}\n`);
  return final;
}

/** The newest complete checkpoint of a run, or undefined when it has none. */
export async function loadLatestCheckpoint(runDir: string): Promise<Checkpoint | undefined> {
  const pointer = join(checkpointDir(runDir), "latest");
  if (!existsSync(pointer)) return undefined;
  const name = (await readFile(pointer, "utf8")).trim();
  const dir = join(checkpointDir(runDir), name);
  try {
    const state = JSON.parse(await readFile(join(dir, "state.json"), "utf8")) as TrainState;
    const { tensors } = await readSafetensors(join(dir, "state.safetensors"));
    return { state, tensors };
  } catch (e) {
    throw new MioRuntimeError(
      `checkpoint '${dir}' is unreadable: ${(e as Error).message}`,
      "delete it and its 'latest' pointer to resume from an older one, or start over without --resume",
    );
  }
}
