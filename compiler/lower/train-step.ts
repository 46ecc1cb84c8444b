// An experiment's training step as one IR program: the lowered model, the spec's loss against `gt`, the backward
// graph, the optimizer update and the EMA (compiler/autodiff), ready for the passes.
import { type AdamConfig, buildTrainStep } from "../autodiff/optim.js";
import type { Node } from "../ir/node.js";
import type { Program } from "../passes/program.js";
import type { Program as LoadedProgram } from "../program.js";
import type { ExperimentSpec } from "../spec/experiment.js";
import { type LoweredModel, lowerModel } from "./model.js";

export interface TrainStep {
  model: LoweredModel;
  gt: Node;
  loss: Node;
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
  const model = lowerModel(program, spec, { batch, height: crop, width: crop });
  const { b, out } = model;
  const gt = b.input("gt", [batch, 3, crop, crop]);
  const l = spec.train.loss;
  const loss =
    l.name === "l1" ? b.l1Loss(out, gt) : l.name === "mse" ? b.mseLoss(out, gt) : b.charbonnierLoss(out, gt, l.eps);
  const optimizer = optimizerConfig(spec);
  const prog = buildTrainStep(b, loss, { optimizer, ...(spec.train.ema > 0 ? { ema: spec.train.ema } : {}) });
  return { model, gt, loss, program: prog, optimizer };
}
