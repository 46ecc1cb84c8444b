// An experiment's training step as one IR program: the lowered model, the spec's loss against `gt`, the backward
// graph, the optimizer update and the EMA (compiler/autodiff), ready for the passes.
import { type AdamConfig, buildTrainStep } from "../autodiff/optim.js";
import type { Node } from "../ir/node.js";
import type { Program } from "../passes/program.js";
import { PLAN_IO } from "../plan/io.js";
import type { LoadedProgram } from "../program.js";
import type { ExperimentSpec } from "../schema/experiment.js";
import { type LoweredModel, lowerModel } from "./model.js";

export interface TrainStep {
  model: LoweredModel;
  /** What the loss compares the output with: `gt` (B, 3, H, W) for restoration, `label` (B, K) one-hot for classifiers. */
  target: Node;
  loss: Node;
  /** The loss of each sample, (B): the trainer logs it per task. */
  sampleLoss: Node;
  program: Program;
  optimizer: AdamConfig;
}

export function optimizerConfig(spec: ExperimentSpec): AdamConfig {
  const o = spec.train.optimizer;
  return { kind: o.name, betas: o.betas, eps: o.eps, weightDecay: o.weight_decay };
}

/**
 * Builds the train step for batches of `spec.data.batch` crops of `spec.data.crop` pixels (or the sizes given).
 * @example const step = lowerTrainStep(result.program, spec); compileProgram(step.program);
 */
export function lowerTrainStep(
  program: LoadedProgram,
  spec: ExperimentSpec,
  size: { batch?: number; crop?: number } = {},
): TrainStep {
  const batch = size.batch ?? spec.data.batch;
  const crop = size.crop ?? spec.data.crop;
  // A training lowering: drop_path draws (the evaluation plans lower without it).
  const model = lowerModel(program, spec, { batch, height: crop, width: crop, train: true });
  const { b, out } = model;
  const l = spec.train.loss;
  let target: Node;
  let loss: Node;
  let sampleLoss: Node;
  // Each sample's loss (B), whatever the loss: the weighted loss needs it, and the trainer logs the L1 per task.
  let perSample: Node;
  if (l.name === "cross_entropy") {
    // The classes are the curriculum's tasks; the trainer writes each sample's task as a one-hot row.
    target = b.input(PLAN_IO.label, [batch, out.shape[1] ?? 0]);
    // NOTE: with double_softmax (the reference; docs/training.md) the model's output, already a softmax, goes through
    // CrossEntropy's log-softmax again: the loss cannot fall below log(e + K - 1) - 1 (1.166 for 7 classes), and
    // the gradient is smaller, but argmax and accuracy are unaffected.
    sampleLoss = l.double_softmax === false ? b.nllPerSample(out, target) : b.crossEntropyPerSample(out, target);
    perSample = sampleLoss;
    loss = b.scale(b.reshape(b.sum(sampleLoss, [0], true), [1]), 1 / batch);
  } else {
    target = b.input(PLAN_IO.gt, [batch, 3, crop, crop]);
    const pixel = b.pixelLoss(l.name, out, target, l.eps);
    loss = b.meanAll(pixel);
    sampleLoss = b.mean(b.abs(b.sub(out, target)), [1, 2, 3], false);
    perSample = l.name === "l1" ? sampleLoss : b.mean(pixel, [1, 2, 3], false);
  }
  // Task weights (docs/training.md, "Task weights"): the batch's mean of each sample's loss times its weight, which
  // the trainer feeds per sample (its task's weight over the stage's mean weight). Without them the plain mean
  // above stays, so existing experiments compile to the same kernels.
  if (spec.train.task_weights) {
    const w = b.input(PLAN_IO.sampleWeight, [batch]);
    loss = b.scale(b.reshape(b.sum(b.mul(perSample, w), [0], true), [1]), 1 / batch);
  }
  const optimizer = optimizerConfig(spec);
  // The trainer logs each task's loss, and a classifier's accuracy from its scores.
  const fetch: Record<string, Node> = { [PLAN_IO.sampleLoss]: sampleLoss };
  if (l.name === "cross_entropy") fetch[PLAN_IO.out] = out;
  const prog = buildTrainStep(b, loss, { optimizer, fetch, ...(spec.train.ema > 0 ? { ema: spec.train.ema } : {}) });
  return { model, target, loss, sampleLoss, program: prog, optimizer };
}
