// `mioc run`, minus the CLI: compile the experiment's train step, train through the curriculum (resuming from the
// last checkpoint when asked), evaluate, and leave metrics, samples and a report in the run folder.
import { appendFileSync, existsSync, readdirSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { initialParams } from "../compiler/ir/builder.js";
import { forwardProgram, lowerModel } from "../compiler/lower/model.js";
import { lowerTrainStep } from "../compiler/lower/train-step.js";
import { stepFlops } from "../compiler/plan/plan.js";
import type { LoadedProgram } from "../compiler/program.js";
import { printSpec, specHash } from "../compiler/schema/emit.js";
import { type ExperimentSpec, evalTile, isClassifier } from "../compiler/schema/experiment.js";
import { ImageReadError, writeFileAtomic } from "./data/image.js";
import { promptMaps } from "./data/prompts.js";
import { DataError } from "./data/testsets.js";
import { fileProblem, MioInputError, MioRuntimeError } from "./errors.js";
import { loadClassifier, promptSelection, writeClassifier } from "./eval/classifier.js";
import { ensureTestsets } from "./eval/evaluate.js";
import { evaluateExperiment } from "./eval/experiment.js";
import { compileForDevice } from "./exec/fit.js";
import { writeSampleGrids } from "./report/grid.js";
import { writeReport } from "./report/report.js";
import type { LogEvent, RunEvent, RunMetrics } from "./run-folder.js";
import { loadLatestCheckpoint } from "./train/checkpoint.js";
import { train } from "./train/trainer.js";
import type { Gpu } from "./webgpu/device.js";

export interface RunOptions {
  gpu: Gpu;
  program: LoadedProgram;
  spec: ExperimentSpec;
  /** Folder that holds run folders (default `runs`). */
  runsRoot: string;
  resume: boolean;
  /** Progress and log lines for people (the CLI's display). */
  onEvent?: (e: RunEvent) => void;
  stopRequested?: () => boolean;
  workers?: number;
  /**
   * Explicit prompts: a classifier checkpoint that picks each test image's prompt (default: the experiment's
   * `classifier_weights`). Without one, or with `oracleTask`, each test image gets its true task's prompt.
   */
  classifier?: string;
  oracleTask?: boolean;
}

export interface RunResult {
  runDir: string;
  runId: string;
  finished: boolean;
}

/** Refuses to mix two experiments in one folder: a run folder belongs to one spec hash. */
async function prepareRunDir(o: RunOptions, runId: string, hash: string): Promise<string> {
  const runDir = join(o.runsRoot, runId);
  const specPath = join(runDir, "spec.json");
  if (o.resume && !existsSync(specPath)) {
    const prefix = `${o.spec.name}-`;
    const others = existsSync(o.runsRoot)
      ? readdirSync(o.runsRoot).filter((d) => d.startsWith(prefix) && d !== runId)
      : [];
    if (others.length) {
      throw new MioRuntimeError(
        `cannot resume: the spec changed since ${others.map((d) => join(o.runsRoot, d)).join(", ")} (its hash is ${hash} now)`,
        "a resumed run must continue the same experiment; run without --resume to start a new run for the changed spec",
      );
    }
    throw new MioRuntimeError(`cannot resume: ${runDir} does not exist`, "run without --resume to start it");
  }
  if (existsSync(specPath)) {
    const old = JSON.parse(await readFile(specPath, "utf8")) as ExperimentSpec;
    if (specHash(old) !== hash) {
      throw new MioRuntimeError(
        `${runDir} holds a run of a different spec (${specHash(old)} vs ${hash})`,
        "delete the folder or choose another --out",
      );
    }
    if (!o.resume && existsSync(join(runDir, "checkpoints"))) {
      throw new MioRuntimeError(
        `${runDir} already has a run`,
        "add --resume to continue it, or delete the folder to start over",
      );
    }
  }
  await mkdir(runDir, { recursive: true }).catch((e: unknown) => {
    throw new MioInputError(
      `cannot create the run folder '${runDir}': ${fileProblem(e)}`,
      `--out (here '${o.runsRoot}') must be a folder, or a path where one can be made`,
    );
  });
  await writeFileAtomic(specPath, printSpec(o.spec));
  return runDir;
}

/**
 * Builds the test sets (or finds them in the cache, where evaluation will look) before training, so a missing,
 * corrupt or too small image in data.test stops the run now, naming the file, and not after hours of training.
 */
async function prepareTestsets(o: RunOptions, cacheDir: string): Promise<void> {
  try {
    await ensureTestsets(o.spec, cacheDir, (done, total) =>
      o.onEvent?.({ type: "eval_progress", done, total, what: "building test sets" }),
    );
  } catch (e) {
    // An image that cannot be read, or a test-set build that fails on one, is the test folder's fault: say which.
    if (!(e instanceof ImageReadError || e instanceof DataError)) throw e;
    throw new MioInputError(
      `data.test '${o.spec.data.test}': ${e.message}`,
      "every image in data.test becomes a test image: replace or remove this one (training has not started)",
    );
  }
}

/**
 * Lowers and compiles the train step for this adapter, and the eval tile's forward plan too (compiled, not
 * allocated), so a crop, batch or tile too large for the adapter fails before a run folder is made or training starts.
 */
function compileRun(o: RunOptions) {
  const { spec, gpu } = o;
  const step = lowerTrainStep(o.program, spec);
  const crop = `${spec.data.crop}×${spec.data.crop}`;
  const plan = compileForDevice(gpu, step.program, {
    what: `training on batches of ${spec.data.batch} crops of ${crop}`,
    hint: "lower data { crop } or data { batch }",
  });
  if (!isClassifier(spec)) {
    const tile = evalTile(spec);
    compileForDevice(gpu, forwardProgram(lowerModel(o.program, spec, { batch: 1, height: tile, width: tile })), {
      what: `evaluating in tiles of ${tile}×${tile}`,
      hint: "lower eval { tile }",
    });
  }
  return { step, plan };
}

export async function runExperiment(o: RunOptions): Promise<RunResult> {
  const { spec, gpu } = o;
  const hash = specHash(spec);
  const runId = `${spec.name}-${hash}`;
  // Test images first (no GPU needed), then the plans against the adapter, then the run folder: a run that cannot
  // start leaves nothing behind.
  const testsetCache = join(o.runsRoot, ".testsets");
  await prepareTestsets(o, testsetCache);
  const { step, plan } = compileRun(o);
  const runDir = await prepareRunDir(o, runId, hash);
  const logPath = join(runDir, "log.jsonl");
  const emit = (e: LogEvent) => {
    // Synchronous, so lines keep their order; a line every log_every iterations costs nothing.
    appendFileSync(logPath, `${JSON.stringify(e)}\n`);
    o.onEvent?.(e);
  };

  // Explicit prompts at test time: the classifier, if there is one, is loaded before training, so a bad path
  // fails now and not after hours of training.
  const picker = promptSelection(spec, o).classifier;
  const classifier = picker ? await loadClassifier(picker, o.program, spec) : undefined;
  const initial = initialParams(step.model.b);
  const prompts = await promptMaps(spec);
  const resume = o.resume ? await loadLatestCheckpoint(runDir) : undefined;
  if (resume && resume.state.specHash !== hash) {
    throw new MioRuntimeError(`the checkpoint in ${runDir} belongs to spec ${resume.state.specHash}, not ${hash}`);
  }
  emit({
    type: "start",
    run: runId,
    resumed_from: resume?.state.step ?? null,
    adapter: gpu.report.description,
    fallback: gpu.report.isFallbackAdapter,
    kernels: plan.kernels.length,
    peak_mib: plan.peakBytes / 2 ** 20,
    step_gflop: stepFlops(plan) / 1e9,
    time: Date.now(),
  });

  const t = await train({
    gpu,
    spec,
    specHash: hash,
    plan,
    initial,
    runDir,
    ...(prompts ? { prompts } : {}),
    ...(resume ? { resume } : {}),
    emit,
    ...(o.workers !== undefined ? { workers: o.workers } : {}),
    ...(o.stopRequested ? { stopRequested: o.stopRequested } : {}),
  });
  try {
    if (!t.finished) return { runDir, runId, finished: false };
    const weights = await t.session.weights(spec.eval.weights);
    // A classifier run leaves its evaluated weights as one file that EP evaluation and `mioc infer` take.
    if (isClassifier(spec)) await writeClassifier(join(runDir, "classifier.safetensors"), spec, weights);
    emit({ type: "eval_start", time: Date.now() });
    // A stop during evaluation leaves the run unfinished: its final checkpoint is written, so a resume trains
    // nothing and evaluates again.
    const stopped = Symbol("stopped");
    const r = await evaluateExperiment({
      gpu,
      program: o.program,
      spec,
      weights,
      which: spec.eval.weights,
      cacheDir: testsetCache,
      ...(classifier ? { classifier } : {}),
      onProgress: (done, total, what) => {
        if (o.stopRequested?.()) throw stopped;
        o.onEvent?.({ type: "eval_progress", done, total, what });
      },
    }).catch((e: unknown) => {
      if (e === stopped) return undefined;
      throw e;
    });
    if (!r) return { runDir, runId, finished: false };
    for (const e of r.events(t.state.step)) emit(e);
    await writeSampleGrids(join(runDir, "samples"), r.samples);
    const metrics: RunMetrics = {
      run: runId,
      name: spec.name,
      profile: spec.profile,
      weights: spec.eval.weights,
      adapter: `${gpu.report.description}${gpu.report.isFallbackAdapter ? " (fallback)" : ""}`,
      steps: t.state.step,
      seconds: Math.round(t.state.seconds),
      ...r.metrics,
    };
    await writeFileAtomic(join(runDir, "metrics.json"), `${JSON.stringify(metrics, null, 2)}\n`);
    emit({ type: "done", time: Date.now(), seconds: Math.round(t.state.seconds) });
    await writeReport(runDir);
    return { runDir, runId, finished: true };
  } finally {
    t.session.destroy();
  }
}
