// `mioc study`, minus the CLI: the runs of a study (each experiment × each seed, and the task classifier once when
// an experiment has explicit prompts), run one after another. A run whose folder has metrics.json is done and
// skipped; one with a checkpoint is resumed; so an interrupted study continues where it stopped. docs/training.md,
// "The study".
import { existsSync } from "node:fs";
import { join } from "node:path";
import { specHash } from "../compiler/schema/emit.js";
import type { ExperimentSpec } from "../compiler/schema/experiment.js";
import { MioInputError } from "./errors.js";
import { ORACLE_METRICS } from "./eval/oracle.js";
import { formatDuration } from "./report/report.js";
import { checkpointDir } from "./train/checkpoint.js";

export interface StudyRun {
  /** The .mio file the experiment comes from. */
  file: string;
  /** The resolved spec, with the study's seed applied (a model) or as written (the classifier). */
  spec: ExperimentSpec;
  /** The study's seed; null for the task classifier, which is trained once with its own. */
  seed: number | null;
  /** The run id (`<name>-<hash>`) and its folder. */
  id: string;
  dir: string;
  /** Explicit prompts: the classifier checkpoint that picks each test image's prompt. */
  classifier?: string;
}

/** The run id `runExperiment` gives a spec: its name and the first 12 hex digits of its printed spec's hash. */
export const runIdOf = (spec: ExperimentSpec): string => `${spec.name}-${specHash(spec)}`;

const isEp = (spec: ExperimentSpec) => spec.prompt.kind === "explicit";

/**
 * The study's runs in order: the classifier first (only when some experiment has explicit prompts), then every
 * experiment with the first seed, every experiment with the second, and so on: a study stopped part-way has
 * compared all its experiments over the seeds it finished, not some experiments over all seeds.
 */
export function planStudy(o: {
  models: readonly { file: string; spec: ExperimentSpec }[];
  seeds: readonly number[];
  out: string;
  classifier?: { file: string; spec: ExperimentSpec };
}): StudyRun[] {
  const runs: StudyRun[] = [];
  let classifier: string | undefined;
  if (o.classifier && o.models.some((m) => isEp(m.spec))) {
    const id = runIdOf(o.classifier.spec);
    const dir = join(o.out, id);
    runs.push({ file: o.classifier.file, spec: o.classifier.spec, seed: null, id, dir });
    classifier = join(dir, "classifier.safetensors");
  }
  for (const seed of o.seeds) {
    for (const m of o.models) {
      const spec = { ...m.spec, seed };
      const id = runIdOf(spec);
      runs.push({
        file: m.file,
        spec,
        seed,
        id,
        dir: join(o.out, id),
        ...(isEp(spec) && classifier ? { classifier } : {}),
      });
    }
  }
  const ids = runs.map((r) => r.id);
  const twice = ids.find((id, i) => ids.indexOf(id) !== i);
  if (twice)
    throw new MioInputError(`the study would run ${twice} twice`, "name each experiment file once, and each seed once");
  return runs;
}

/** What a run folder holds: a finished run (metrics.json), checkpoints to resume from, an oracle evaluation. */
export function runStatus(run: StudyRun): { trained: boolean; resumable: boolean; oracleDone: boolean } {
  return {
    trained: existsSync(join(run.dir, "metrics.json")),
    // The checkpoints folder, not its `latest`: a run killed while writing its first checkpoint has the folder
    // alone, and runExperiment refuses to start over in it without resume (which then starts from step 0).
    resumable: existsSync(checkpointDir(run.dir)),
    oracleDone: !needsOracle(run) || existsSync(join(run.dir, ORACLE_METRICS)),
  };
}

/** An explicit-prompt model is also evaluated with the oracle task (the classifier is not: it has no prompts). */
export const needsOracle = (run: StudyRun): boolean => run.seed !== null && isEp(run.spec);

/** How the study trains and evaluates one run: `mioc study` passes runExperiment's, tests a fake. */
export interface StudyRunner {
  /** Trains and evaluates the run into its folder (metrics.json); false when it was stopped before the end. */
  train(run: StudyRun, resume: boolean): Promise<boolean>;
  /** Evaluates a trained explicit-prompt run with the oracle task into metrics-oracle.json. */
  oracle(run: StudyRun): Promise<void>;
}

const label = (r: StudyRun) => `${r.spec.name}${r.seed === null ? " (task classifier)" : ` seed ${r.seed}`}`;

/**
 * Runs what is left of the study, one run after another, saying on `log` which run of how many and the time left
 * (from the runs this call has trained). Returns false when a run was stopped (SIGINT): its checkpoint stays, and
 * the same study resumes it.
 */
export async function runStudy(
  runs: readonly StudyRun[],
  runner: StudyRunner,
  o: { log: (line: string) => void; now?: () => number },
): Promise<boolean> {
  const now = o.now ?? Date.now;
  const statuses = runs.map(runStatus);
  let left = statuses.filter((s) => !s.trained).length;
  const took: number[] = [];
  for (const [i, run] of runs.entries()) {
    const s = statuses[i] as ReturnType<typeof runStatus>;
    const head = `study: run ${i + 1}/${runs.length}, ${label(run)} (${run.dir})`;
    if (s.trained && s.oracleDone) {
      o.log(`${head}: done, skipped`);
      continue;
    }
    if (!s.trained) {
      const eta = took.length
        ? `; about ${formatDuration((left * took.reduce((a, b) => a + b, 0)) / took.length / 1000)} left for ${left} run${left === 1 ? "" : "s"}`
        : `; ${left} run${left === 1 ? "" : "s"} to train`;
      o.log(`${head}: ${s.resumable ? "resuming from its last checkpoint" : "training"}${eta}`);
    }
    const start = now();
    if (!s.trained && !(await runner.train(run, s.resumable))) return false;
    if (!runStatus(run).oracleDone) {
      o.log(`${head}: evaluating with the oracle task (metrics-oracle.json)`);
      await runner.oracle(run);
    }
    if (!s.trained) {
      took.push(now() - start);
      left--;
    }
  }
  return true;
}
