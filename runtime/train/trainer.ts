// The curriculum driver: stage by stage, one compiled train step per iteration. Weights and EMA carry across
// stages; Adam's moments, its step counter and the cosine schedule restart at each stage, as the reference runs a
// fresh BasicSR job per stage (docs/training.md). Checkpoints every N iterations, at each stage end and on SIGINT/SIGTERM.

import { optimizerConfig } from "../../compiler/lower/train-step.js";
import { PLAN_IO } from "../../compiler/plan/io.js";
import { type Plan, stepFlops } from "../../compiler/plan/plan.js";
import { type ExperimentSpec, isClassifier, type StageSpec } from "../../compiler/schema/experiment.js";
import { type Batch, openLoader } from "../data/loader.js";
import { type PromptMaps, promptBatch } from "../data/prompts.js";
import { dataHash } from "../data/rng.js";
import { MioRuntimeError } from "../errors.js";
import { TrainSession } from "../exec/train-session.js";
import type { LogEvent } from "../run-folder.js";
import type { Gpu } from "../webgpu/device.js";
import { type Checkpoint, saveCheckpoint, type TrainState } from "./checkpoint.js";
import { lrAt } from "./schedule.js";

/** Where a stage's batches come from: the data loader, or (tests) any stream of batches. */
export interface BatchSource {
  next(): Promise<Batch>;
  close(): Promise<void>;
}

export interface TrainOptions {
  gpu: Gpu;
  spec: ExperimentSpec;
  specHash: string;
  plan: Plan;
  /** Parameter name → initial value (used when not resuming). */
  initial: ReadonlyMap<string, Float32Array>;
  runDir: string;
  prompts?: PromptMaps;
  resume?: Checkpoint;
  /** Log sink (the JSONL log and the progress display). */
  emit: (e: LogEvent) => void;
  /** Loader worker threads (default spec.data.workers). */
  workers?: number;
  /** Set by a signal handler: checkpoint at the next iteration and stop. */
  stopRequested?: () => boolean;
  /** The batches of stage `stage` (0-based), continuing from `cursor`; default: the spec's data loader. */
  batches?: (stage: number, cursor: TrainState["cursor"]) => Promise<BatchSource>;
}

export interface TrainResult {
  session: TrainSession;
  state: TrainState;
  /** False when stopped by a signal before the end. */
  finished: boolean;
}

/** The loader seed of a stage: stages draw different samples, and a stage's samples never depend on earlier ones. */
const stageSeed = (seed: number, stage: number) => dataHash(`${seed}:stage:${stage}`);

/** The spec's data loader for one stage; `onCorrupt` hears of each unreadable training image it skips. */
function stageLoader(
  o: TrainOptions,
  s: number,
  cursor: TrainState["cursor"],
  onCorrupt: (path: string, message: string) => void,
): Promise<BatchSource> {
  const { spec } = o;
  const stage = spec.curriculum.stages[s] as StageSpec;
  return openLoader(
    {
      sources: spec.data.train.map((t) => ({ root: t.path, weight: t.weight })),
      tasks: spec.tasks,
      stageTasks: stage.tasks,
      crop: spec.data.crop,
      batch: spec.data.batch,
      seed: stageSeed(spec.seed, s),
      flip: spec.data.flip,
      rot: spec.data.rotate,
      ...(spec.data.crop_candidates ? { cropCandidates: spec.data.crop_candidates } : {}),
      workers: o.workers ?? spec.data.workers,
      ...(cursor ? { cursor } : {}),
    },
    onCorrupt,
  );
}

export async function train(o: TrainOptions): Promise<TrainResult> {
  const { spec, plan } = o;
  const optimizer = optimizerConfig(spec);
  const params = [...o.initial.keys()];
  const session = o.resume
    ? await TrainSession.restore(
        o.gpu,
        plan,
        params,
        o.resume.tensors,
        o.resume.state.optimizerStep,
        optimizer,
        o.resume.state.step,
      )
    : await TrainSession.create(o.gpu, plan, o.initial, optimizer);
  const t0 = Date.now();
  let state: TrainState = o.resume?.state ?? {
    specHash: o.specHash,
    stage: 0,
    iter: 0,
    step: 0,
    optimizerStep: 0,
    cursor: null,
    seconds: 0,
  };
  const baseSeconds = state.seconds;

  const checkpoint = async (): Promise<string> => {
    const tensors = await session.state();
    state = { ...state, seconds: baseSeconds + (Date.now() - t0) / 1000 };
    const dir = await saveCheckpoint(o.runDir, { state, tensors });
    o.emit({ type: "checkpoint", step: state.step, path: dir });
    return dir;
  };

  const stages = spec.curriculum.stages;
  const classes = isClassifier(spec) ? spec.tasks.length : 0;
  const taskNames = spec.tasks.map((x) => x.name);
  // Unreadable training images: each is logged once, in a "skipped" line after the batch that found it.
  const skipped = new Map<string, string>();
  let newSkipped: string[] = [];
  const onCorrupt = (path: string, message: string) => {
    if (skipped.has(path)) return;
    skipped.set(path, message);
    newSkipped.push(path);
  };
  const logSkipped = (stage: number) => {
    if (!newSkipped.length) return;
    const files = newSkipped;
    newSkipped = [];
    const reasons = files.map((f) => skipped.get(f) ?? "");
    o.emit({ type: "skipped", stage, step: state.step, files, reasons, time: Date.now() });
  };
  for (let s = state.stage; s < stages.length; s++) {
    const stage = stages[s] as StageSpec;
    const fresh = !(o.resume && s === o.resume.state.stage && state.iter > 0);
    if (fresh) {
      session.resetOptimizer();
      state = { ...state, stage: s, iter: 0, optimizerStep: 0, cursor: null };
    }
    o.emit({
      type: "stage",
      stage: s + 1,
      stages: stages.length,
      tasks: stage.tasks,
      iters: stage.iters,
      time: Date.now(),
    });
    // A plan with task weights takes each sample's weight; its task's, normalised over this stage's tasks.
    const weights = plan.inputs[PLAN_IO.sampleWeight] ? stageTaskWeights(spec, stage) : undefined;
    const loader = await (o.batches ?? ((i, c) => stageLoader(o, i, c, onCorrupt)))(s, state.cursor);
    logSkipped(s + 1);
    try {
      const flops = stepFlops(plan);
      let windowStart = Date.now();
      let windowIters = 0;
      while (state.iter < stage.iters) {
        if (o.stopRequested?.()) {
          await checkpoint();
          return { session, state, finished: false };
        }
        const batch = await loader.next();
        logSkipped(s + 1);
        const iter = state.iter + 1;
        const lr = lrAt(spec, stage, iter);
        // A restoration step compares with the GT crop; a classifier step with each sample's task (a one-hot row).
        const inputs: Record<string, Float32Array> = { [PLAN_IO.lq]: batch.lq };
        if (classes) inputs[PLAN_IO.label] = oneHot(batch.task, classes);
        else inputs[PLAN_IO.gt] = batch.gt;
        if (o.prompts) inputs[PLAN_IO.prompt] = promptBatch(o.prompts, batch.task);
        if (weights) inputs[PLAN_IO.sampleWeight] = Float32Array.from(batch.task, (t) => weights[t] ?? 1);
        const logNow = iter % spec.train.log_every === 0 || iter === stage.iters;
        const fetch = [PLAN_IO.loss, PLAN_IO.sampleLoss, ...(classes ? [PLAN_IO.out] : [])];
        const fetched = await session.step(inputs, lr, logNow ? fetch : []);
        state = { ...state, iter, step: state.step + 1, optimizerStep: session.steps, cursor: batch.cursor };
        windowIters++;
        if (logNow) {
          const its = (windowIters * 1000) / Math.max(1, Date.now() - windowStart);
          const acc = classes ? batchAccuracy(fetched[PLAN_IO.out], batch.task, classes) : undefined;
          const loss = fetched[PLAN_IO.loss]?.[0];
          o.emit({
            type: "train",
            stage: s + 1,
            iter,
            step: state.step,
            loss: loss ?? null,
            lr,
            its,
            gflops: (its * flops) / 1e9,
            ...taskLosses(fetched[PLAN_IO.sampleLoss], batch.task, taskNames),
            ...(acc !== undefined ? { acc } : {}),
            time: Date.now(),
          });
          windowStart = Date.now();
          windowIters = 0;
          // Only logged iterations fetch the loss, so divergence is seen at the first logged one after it.
          if (loss !== undefined && !Number.isFinite(loss)) {
            const dir = await checkpoint();
            throw new MioRuntimeError(
              `training diverged: the loss is ${loss} at stage ${s + 1}/${stages.length}, iteration ${iter} (step ${state.step}); stopped with a checkpoint in ${dir}`,
              `lower the learning rate (train { optimizer ...(lr: ...) }) and start over; the loss is checked every log_every (${spec.train.log_every}) iterations, so it may have diverged up to ${spec.train.log_every - 1} earlier`,
            );
          }
        }
        if (state.step % spec.train.checkpoint_every === 0 && state.iter < stage.iters) await checkpoint();
      }
    } finally {
      await loader.close();
    }
    // A stage's end is a checkpoint: the next stage starts from these weights (and a fresh optimizer).
    state = { ...state, stage: s + 1, iter: 0, optimizerStep: 0, cursor: null };
    await checkpoint();
  }
  return { session, state, finished: true };
}

/** Mean per-sample loss of each task present in the batch. */
function taskLosses(
  perSample: Float32Array | undefined,
  tasks: Int32Array,
  names: string[],
): { task_loss?: Record<string, number> } {
  if (!perSample) return {};
  const sum = new Map<string, [number, number]>();
  tasks.forEach((ti, i) => {
    const name = names[ti] ?? String(ti);
    const [s, n] = sum.get(name) ?? [0, 0];
    sum.set(name, [s + (perSample[i] ?? 0), n + 1]);
  });
  return { task_loss: Object.fromEntries([...sum].map(([k, [s, n]]) => [k, s / n])) };
}

/**
 * Each task's loss weight in a stage (indexed like `spec.tasks`): its `task_weights` entry (1 if absent) over the
 * mean weight of the stage's tasks, so a stage's loss keeps its scale (docs/training.md, "Task weights").
 */
export function stageTaskWeights(spec: Pick<ExperimentSpec, "tasks" | "train">, stage: StageSpec): Float32Array {
  const weightOf = (name: string) => spec.train.task_weights?.[name] ?? 1;
  const mean = stage.tasks.reduce((a, t) => a + weightOf(t), 0) / Math.max(1, stage.tasks.length);
  return Float32Array.from(spec.tasks, (t) => weightOf(t.name) / mean);
}

/** The (B, K) one-hot rows of a batch's task indices: a classifier's targets. */
export function oneHot(tasks: ArrayLike<number>, classes: number): Float32Array {
  const out = new Float32Array(tasks.length * classes);
  for (let i = 0; i < tasks.length; i++) out[i * classes + (tasks[i] ?? 0)] = 1;
  return out;
}

/** Index of the largest value in row `i` of a (B, K) array (the first one on ties). */
export function argmaxRow(scores: ArrayLike<number>, i: number, classes: number): number {
  let best = 0;
  for (let k = 1; k < classes; k++) if ((scores[i * classes + k] ?? 0) > (scores[i * classes + best] ?? 0)) best = k;
  return best;
}

/** Fraction of a batch whose argmax score is its task. */
function batchAccuracy(scores: Float32Array | undefined, tasks: Int32Array, classes: number): number | undefined {
  if (!scores) return undefined;
  let right = 0;
  tasks.forEach((t, i) => {
    if (argmaxRow(scores, i, classes) === t) right++;
  });
  return right / tasks.length;
}
