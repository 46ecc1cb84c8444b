// `mioc run`, minus the CLI: compile the experiment's train step, train through the curriculum (resuming from the
// last checkpoint when asked), evaluate, and leave metrics, samples and a report in the run folder.
import { appendFileSync, existsSync, readdirSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { stateNames } from "../../compiler/autodiff/optim.js";
import { initialParams } from "../../compiler/ir/builder.js";
import type { Node } from "../../compiler/ir/node.js";
import { lowerTrainStep } from "../../compiler/lower/train-step.js";
import { compileProgram } from "../../compiler/passes/pipeline.js";
import type { Program as LoadedProgram } from "../../compiler/program.js";
import { printSpec, specHash } from "../../compiler/spec/emit.js";
import { type ExperimentSpec, isClassifier } from "../../compiler/spec/experiment.js";
import { writeFileAtomic } from "../data/image.js";
import { MioRuntimeError } from "../errors.js";
import { Classifier, loadClassifier, writeClassifier } from "../eval/classifier.js";
import { evaluateClassifier } from "../eval/classify.js";
import { evaluate, evalWeights } from "../eval/evaluate.js";
import { writeTriptych } from "../report/grid.js";
import { writeReport } from "../report/report.js";
import type { Gpu } from "../webgpu/device.js";
import { loadLatestCheckpoint } from "./checkpoint.js";
import { promptMaps } from "./prompts.js";
import { type TrainEvent, train } from "./trainer.js";

export interface RunOptions {
  gpu: Gpu;
  program: LoadedProgram;
  spec: ExperimentSpec;
  /** Folder that holds run folders (default `runs`). */
  runsRoot: string;
  resume: boolean;
  /** Progress and log lines for people (the CLI's display). */
  onEvent?: (e: TrainEvent) => void;
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
  await mkdir(runDir, { recursive: true });
  await writeFileAtomic(specPath, printSpec(o.spec));
  return runDir;
}

export async function runExperiment(o: RunOptions): Promise<RunResult> {
  const { spec, gpu } = o;
  const hash = specHash(spec);
  const runId = `${spec.name}-${hash}`;
  const runDir = await prepareRunDir(o, runId, hash);
  const logPath = join(runDir, "log.jsonl");
  const emit = (e: TrainEvent) => {
    // Synchronous, so lines keep their order; a line every log_every iterations costs nothing.
    appendFileSync(logPath, `${JSON.stringify(e)}\n`);
    o.onEvent?.(e);
  };

  const step = lowerTrainStep(o.program, spec);
  // A classifier's scores are fetched too: the log shows the accuracy of each logged batch.
  const extra: [string, Node][] = [["sample_loss", step.sampleLoss]];
  if (isClassifier(spec)) extra.push(["out", step.model.out]);
  const program = { ...step.program, outputs: new Map([...step.program.outputs, ...extra]) };
  // Explicit prompts at test time: the classifier, if there is one, is loaded before training, so a bad path
  // fails now and not after hours of training.
  const classifierPath = o.oracleTask ? undefined : (o.classifier ?? spec.prompt.classifier?.weights ?? undefined);
  const classifierModel =
    spec.prompt.kind === "explicit" && classifierPath
      ? await loadClassifier(classifierPath, o.program, spec)
      : undefined;
  const plan = compileProgram(program);
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
    const params = [...initial.keys()];
    const names = spec.eval.weights === "ema" ? params.map((p) => stateNames(p).ema) : params;
    const values = await t.exe.read(names);
    const weights = evalWeights(spec, values, params);
    emit({ type: "eval_start", time: Date.now() });
    const base = {
      run: runId,
      name: spec.name,
      profile: spec.profile,
      weights: spec.eval.weights,
      adapter: `${gpu.report.description}${gpu.report.isFallbackAdapter ? " (fallback)" : ""}`,
      steps: t.state.step,
      seconds: Math.round(t.state.seconds),
    };
    const onProgress = (done: number, total: number, what: string) =>
      o.onEvent?.({ type: "eval_progress", done, total, what });
    if (isClassifier(spec)) {
      // A classifier run leaves its evaluated weights as one file that EP evaluation and `mioc infer` take.
      const shapes = new Map(params.map((p) => [p, plan.inputs[p]?.shape ?? []]));
      await writeClassifier(join(runDir, "classifier.safetensors"), spec, weights, shapes);
      const r = await evaluateClassifier({
        gpu,
        program: o.program,
        spec,
        weights,
        cacheDir: join(o.runsRoot, ".testsets"),
        onProgress,
      });
      for (const [set, tasks] of Object.entries(r.accuracy)) {
        for (const [task, accuracy] of Object.entries(tasks))
          emit({ type: "eval", step: t.state.step, set, task, accuracy, images: r.images[set]?.[task] });
      }
      const metrics = { ...base, sets: {}, classifier_accuracy: r.accuracy };
      await writeFileAtomic(join(runDir, "metrics.json"), `${JSON.stringify(metrics, null, 2)}\n`);
      emit({ type: "done", time: Date.now(), seconds: Math.round(t.state.seconds) });
      await writeReport(runDir);
      return { runDir, runId, finished: true };
    }
    const classifier = classifierModel ? await Classifier.create(gpu, o.program, spec, classifierModel) : undefined;
    const result = await evaluate({
      gpu,
      program: o.program,
      spec,
      weights,
      cacheDir: join(o.runsRoot, ".testsets"),
      ...(prompts ? { prompts } : {}),
      ...(classifier ? { classifier } : {}),
      onProgress,
    }).finally(() => classifier?.destroy());
    for (const [set, tasks] of Object.entries(result.sets)) {
      for (const [task, score] of Object.entries(tasks))
        emit({ type: "eval", step: t.state.step, set, task, ...score });
    }
    for (const s of result.samples)
      await writeTriptych(join(runDir, "samples", s.set, `${s.task}.png`), s.lq, s.out, s.gt);
    const metrics = {
      ...base,
      sets: result.sets,
      prompt_selection: spec.prompt.kind !== "explicit" ? "none" : classifier ? "classifier" : "oracle",
      ...(classifierModel ? { classifier: classifierModel.source } : {}),
      ...(result.classifierAccuracy ? { classifier_accuracy: result.classifierAccuracy } : {}),
      ...(result.depth.length ? { depth: result.depth.join("+") } : {}),
    };
    await writeFileAtomic(join(runDir, "metrics.json"), `${JSON.stringify(metrics, null, 2)}\n`);
    emit({ type: "done", time: Date.now(), seconds: Math.round(t.state.seconds) });
    await writeReport(runDir);
    return { runDir, runId, finished: true };
  } finally {
    t.exe.destroy();
  }
}
