// Explicit prompts: one fixed map per task (MiOIR's type7.npy: i.i.d. U(0, 1), 128x128), generated from a seed or
// loaded from a .npy file, and the per-sample batch of them the train step takes as its `prompt` input.
import { readFile } from "node:fs/promises";
import type { ExperimentSpec } from "../../compiler/schema/experiment.js";
import { MioRuntimeError } from "../errors.js";
import { parseNpy } from "./depth.js";
import { Rng } from "./rng.js";

export interface PromptMaps {
  size: number;
  /** One size*size map per task, in `spec.tasks` order. */
  maps: Float32Array[];
}

export async function promptMaps(spec: ExperimentSpec): Promise<PromptMaps | undefined> {
  const m = spec.prompt.maps;
  if (spec.prompt.kind !== "explicit" || !m) return undefined;
  const n = spec.tasks.length;
  if (m.kind === "random") {
    const rng = Rng.create(m.seed);
    const maps = Array.from({ length: n }, () => Float32Array.from({ length: m.size * m.size }, () => rng.float()));
    return { size: m.size, maps };
  }
  const bytes = new Uint8Array(
    await readFile(m.path).catch(() => {
      throw new MioRuntimeError(
        `cannot read the prompt maps '${m.path}'`,
        'prompt explicit { maps "file.npy" } needs a (tasks, S, S) .npy',
      );
    }),
  );
  const { shape, data } = parseNpy(bytes, m.path);
  const [rows, cols] = shape;
  const size = Math.round(Math.sqrt(cols));
  if (rows !== n || size * size !== cols) {
    throw new MioRuntimeError(`prompt maps '${m.path}' have shape ${rows}x${cols}; expected ${n} tasks x (S*S)`);
  }
  const maps = Array.from({ length: n }, (_, i) => Float32Array.from(data.subarray(i * cols, (i + 1) * cols)));
  return { size, maps };
}

/** The (B, 1, S, S) prompt input for a batch: each sample's task map. */
export function promptBatch(p: PromptMaps, tasks: ArrayLike<number>): Float32Array {
  const plane = p.size * p.size;
  const out = new Float32Array(tasks.length * plane);
  for (let i = 0; i < tasks.length; i++) out.set(p.maps[tasks[i] ?? 0] as Float32Array, i * plane);
  return out;
}
