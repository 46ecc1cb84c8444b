// An explicit-prompt run evaluated a second way: each test image gets its true task's prompt (the oracle, as
// `mioc eval --oracle-task`), beside metrics.json's task-classifier selection, so a study shows how much the
// classifier's mistakes cost. Written to metrics-oracle.json in the run folder (docs/reports.md).
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import type { LoadedProgram } from "../../compiler/program.js";
import type { ExperimentSpec } from "../../compiler/schema/experiment.js";
import { writeFileAtomic } from "../data/image.js";
import { MioRuntimeError } from "../errors.js";
import { readModelWeights } from "../exec/weights.js";
import type { RunMetrics } from "../run-folder.js";
import { checkpointDir } from "../train/checkpoint.js";
import type { Gpu } from "../webgpu/device.js";
import { evaluateExperiment } from "./experiment.js";

/** The oracle evaluation's file in a run folder; the same format as metrics.json. */
export const ORACLE_METRICS = "metrics-oracle.json";

export interface OracleOptions {
  gpu: Gpu;
  program: LoadedProgram;
  spec: ExperimentSpec;
  runDir: string;
  /** Where built test sets are cached (the run's `<out>/.testsets`). */
  cacheDir: string;
  onProgress?: (done: number, total: number, what: string) => void;
}

/** The run's final checkpoint folder (the one `checkpoints/latest` names). */
async function finalCheckpoint(runDir: string): Promise<string> {
  const pointer = join(checkpointDir(runDir), "latest");
  if (!existsSync(pointer))
    throw new MioRuntimeError(`${runDir} has no checkpoint to evaluate`, "the run must finish training first");
  return join(checkpointDir(runDir), (await readFile(pointer, "utf8")).trim());
}

/**
 * Evaluates a finished explicit-prompt run's weights (the ones metrics.json scored: `eval weights`) with the
 * oracle task on its In-Dis and Out-Dis sets (the Unknown sets have no true task) and writes metrics-oracle.json.
 */
export async function writeOracleMetrics(o: OracleOptions): Promise<RunMetrics> {
  const { spec } = o;
  if (spec.prompt.kind !== "explicit")
    throw new MioRuntimeError(`${spec.name} has no explicit prompts: an oracle evaluation is for EP models`);
  const checkpoint = await finalCheckpoint(o.runDir);
  const weights = await readModelWeights(checkpoint, o.program, spec, spec.eval.weights, true);
  const groups = spec.eval.sets.filter((s) => s.path === null && s.name !== "unknown").map((s) => s.name);
  const r = await evaluateExperiment({
    gpu: o.gpu,
    program: o.program,
    spec,
    weights,
    which: spec.eval.weights,
    cacheDir: o.cacheDir,
    groups,
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
  });
  const state = JSON.parse(await readFile(join(checkpoint, "state.json"), "utf8")) as { step: number };
  const metrics: RunMetrics = {
    run: basename(resolve(o.runDir)),
    name: spec.name,
    profile: spec.profile,
    adapter: `${o.gpu.report.description}${o.gpu.report.isFallbackAdapter ? " (fallback)" : ""}`,
    steps: state.step,
    ...r.metrics,
  };
  await writeFileAtomic(join(o.runDir, ORACLE_METRICS), `${JSON.stringify(metrics, null, 2)}\n`);
  return metrics;
}
