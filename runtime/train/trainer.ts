// The curriculum driver: stage by stage, one compiled train step per iteration. Weights and EMA carry across
// stages; Adam's moments, its step counter and the cosine schedule restart at each stage, as the reference runs a
// fresh BasicSR job per stage (MIOIR.md §4). Checkpoints every N iterations, at each stage end and on SIGINT/SIGTERM.

import { stateNames, stepScalars } from "../../compiler/autodiff/optim.js";
import type { Plan } from "../../compiler/plan/plan.js";
import { type ExperimentSpec, isClassifier } from "../../compiler/spec/experiment.js";
import { type DataLoader, openLoader } from "../data/loader.js";
import { hashString } from "../data/rng.js";
import { Executor } from "../exec/executor.js";
import type { TensorMap } from "../interop/safetensors.js";
import type { Gpu } from "../webgpu/device.js";
import { type Checkpoint, saveCheckpoint, type TrainState } from "./checkpoint.js";
import { type PromptMaps, promptBatch } from "./prompts.js";
import { lrAt } from "./schedule.js";

export interface TrainEvent {
  type: string;
  [k: string]: unknown;
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
  emit: (e: TrainEvent) => void;
  /** Loader worker threads (default spec.data.workers). */
  workers?: number;
  /** Set by a signal handler: checkpoint at the next iteration and stop. */
  stopRequested?: () => boolean;
}

export interface TrainResult {
  exe: Executor;
  state: TrainState;
  /** False when stopped by a signal before the end. */
  finished: boolean;
}

/** Names of everything a checkpoint holds, with shapes from the plan. */
function stateInputs(plan: Plan, params: Iterable<string>): [string, readonly number[]][] {
  const out: [string, readonly number[]][] = [];
  for (const p of params) {
    const s = stateNames(p);
    for (const n of [p, s.ema, s.m, s.v]) {
      const input = plan.inputs[n];
      if (input) out.push([n, input.shape]);
    }
  }
  return out;
}

/** The loader seed of a stage: stages draw different samples, and a stage's samples never depend on earlier ones. */
const stageSeed = (seed: number, stage: number) => hashString(`${seed}:stage:${stage}`);

export async function train(o: TrainOptions): Promise<TrainResult> {
  const { spec, plan } = o;
  const exe = await Executor.create(o.gpu, plan);
  const params = [...o.initial.keys()];
  const saved = stateInputs(plan, params);
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

  if (o.resume) {
    for (const [name] of saved) {
      const t = o.resume.tensors[name];
      if (!t) throw new Error(`checkpoint has no '${name}'`);
      exe.write(name, t.data);
    }
  } else {
    for (const [name, value] of o.initial) {
      exe.write(name, value);
      const s = stateNames(name);
      if (plan.inputs[s.ema]) exe.write(s.ema, value);
    }
  }

  const checkpoint = async (): Promise<string> => {
    const values = await exe.read(saved.map(([n]) => n));
    const tensors: TensorMap = {};
    for (const [n, shape] of saved) tensors[n] = { shape, data: values[n] as Float32Array };
    state = { ...state, seconds: baseSeconds + (Date.now() - t0) / 1000 };
    const dir = await saveCheckpoint(o.runDir, { state, tensors });
    o.emit({ type: "checkpoint", step: state.step, path: dir });
    return dir;
  };

  const resetOptimizer = () => {
    for (const p of params) {
      const s = stateNames(p);
      for (const n of [s.m, s.v]) {
        const input = plan.inputs[n];
        if (input) exe.write(n, new Float32Array(input.shape.reduce((a, b) => a * b, 1)));
      }
    }
  };

  const stages = spec.curriculum.stages;
  const classes = isClassifier(spec) ? spec.tasks.length : 0;
  const optimizer = {
    kind: spec.train.optimizer.name,
    betas: spec.train.optimizer.betas,
    eps: spec.train.optimizer.eps,
    weightDecay: spec.train.optimizer.weight_decay,
  };
  for (let s = state.stage; s < stages.length; s++) {
    const stage = stages[s] as (typeof stages)[number];
    const fresh = !(o.resume && s === o.resume.state.stage && state.iter > 0);
    if (fresh) {
      resetOptimizer();
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
    const loader: DataLoader = await openLoader({
      sources: spec.data.train.map((t) => ({ root: t.path, weight: t.weight })),
      tasks: spec.tasks,
      stageTasks: stage.tasks,
      crop: spec.data.crop,
      batch: spec.data.batch,
      seed: stageSeed(spec.seed, s),
      flip: spec.data.flip,
      rot: spec.data.rotate,
      workers: o.workers ?? spec.data.workers,
      ...(state.cursor ? { cursor: state.cursor } : {}),
    });
    try {
      let windowStart = Date.now();
      let windowIters = 0;
      while (state.iter < stage.iters) {
        if (o.stopRequested?.()) {
          await checkpoint();
          return { exe, state, finished: false };
        }
        const batch = await loader.next();
        const iter = state.iter + 1;
        const lr = lrAt(spec, stage, iter);
        const t = state.optimizerStep + 1;
        for (const [name, v] of Object.entries(stepScalars(t, lr, optimizer))) exe.write(name, [v]);
        exe.write("lq", batch.lq);
        // A restoration step compares with the GT crop; a classifier step with each sample's task (a one-hot row).
        if (classes) exe.write("label", oneHot(batch.task, classes));
        else exe.write("gt", batch.gt);
        if (o.prompts) exe.write("prompt", promptBatch(o.prompts, batch.task));
        const logNow = iter % spec.train.log_every === 0 || iter === stage.iters;
        const fetched = await exe.run(logNow ? ["loss", "sample_loss", ...(classes ? ["out"] : [])] : []);
        state = { ...state, iter, step: state.step + 1, optimizerStep: t, cursor: batch.cursor };
        windowIters++;
        if (logNow) {
          const its = (windowIters * 1000) / Math.max(1, Date.now() - windowStart);
          o.emit({
            type: "train",
            stage: s + 1,
            iter,
            step: state.step,
            loss: fetched.loss?.[0],
            lr,
            its,
            task_loss: taskLosses(
              fetched.sample_loss,
              batch.task,
              spec.tasks.map((x) => x.name),
            ),
            ...(classes ? { acc: batchAccuracy(fetched.out, batch.task, classes) } : {}),
            time: Date.now(),
          });
          windowStart = Date.now();
          windowIters = 0;
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
  return { exe, state, finished: true };
}

/** Mean per-sample loss of each task present in the batch. */
function taskLosses(
  perSample: Float32Array | undefined,
  tasks: Int32Array,
  names: string[],
): Record<string, number> | undefined {
  if (!perSample) return undefined;
  const sum = new Map<string, [number, number]>();
  tasks.forEach((ti, i) => {
    const name = names[ti] ?? String(ti);
    const [s, n] = sum.get(name) ?? [0, 0];
    sum.set(name, [s + (perSample[i] ?? 0), n + 1]);
  });
  return Object.fromEntries([...sum].map(([k, [s, n]]) => [k, s / n]));
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
