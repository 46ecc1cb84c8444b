// Fake study run folders, as `mioc study` leaves them (docs/reports.md): spec.json with the study's seed, and
// metrics.json (and an EP run's metrics-oracle.json) with made-up scores, so aggregation, verdicts and the skip and
// resume logic are tested without training anything.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { checkFile } from "../../../compiler/compile.js";
import { printSpec } from "../../../compiler/schema/emit.js";
import type { ExperimentSpec } from "../../../compiler/schema/experiment.js";
import type { StudyRun } from "../../../runtime/study.js";
import { root } from "../../helpers/cli.js";
import { makeScores } from "../report/synthetic.js";

/** A pipeline's one experiment with a profile applied (`pipelines/<name>.mio`). */
export function pipelineSpec(name: string, profile = "study"): { file: string; spec: ExperimentSpec } {
  const file = join("pipelines", `${name}.mio`);
  const { specs, diagnostics } = checkFile(join(root, file), { profile });
  const spec = specs.get(name);
  if (!spec) throw new Error(`${name}: ${diagnostics.map((d) => d.message).join("; ")}`);
  return { file, spec };
}

/** Writes a finished run into its planned folder: every PSNR is makeScores' plus `offset`. */
export function finishRun(run: StudyRun, offset: number, o: { oracleOffset?: number } = {}): void {
  mkdirSync(run.dir, { recursive: true });
  writeFileSync(join(run.dir, "spec.json"), printSpec(run.spec));
  const ep = run.spec.prompt.kind === "explicit";
  const metrics = (sets: object, selection: string) => ({
    run: run.id,
    name: run.spec.name,
    profile: run.spec.profile,
    sets,
    prompt_selection: selection,
  });
  const sets = makeScores(offset, false);
  const accuracy = { classifier_accuracy: { in_dist: { sr: 0.9, noise: 1 }, out_dist: { sr: 0.7, noise: 0.8 } } };
  const main = { ...metrics(sets, ep ? "classifier" : "none"), ...(ep ? accuracy : {}) };
  writeFileSync(join(run.dir, "metrics.json"), JSON.stringify(main));
  if (ep && o.oracleOffset !== undefined) {
    const { unknown, ...known } = makeScores(o.oracleOffset, false);
    writeFileSync(join(run.dir, "metrics-oracle.json"), JSON.stringify(metrics(known, "oracle")));
  }
}

/** Leaves a checkpoint pointer, as a run stopped mid-way does. */
export function interruptRun(run: StudyRun): void {
  mkdirSync(join(run.dir, "checkpoints"), { recursive: true });
  writeFileSync(join(run.dir, "spec.json"), printSpec(run.spec));
  writeFileSync(join(run.dir, "checkpoints", "latest"), "step-500\n");
}
