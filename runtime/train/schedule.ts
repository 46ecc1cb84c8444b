// Learning rate within a stage: BasicSR's CosineAnnealingRestartLR with equal periods and restart weights 1, so
// the rate restarts at the base value every `iters / restarts` iterations and decays to eta_min by the period's end.
import type { ExperimentSpec, StageSpec } from "../../compiler/schema/experiment.js";

/**
 * The learning rate of 1-based iteration `iter` of a stage.
 * @example lrAt(spec, stage, 1) === spec.train.optimizer.lr (almost: one step into the cosine)
 */
export function lrAt(spec: ExperimentSpec, stage: StageSpec, iter: number): number {
  const base = spec.train.optimizer.lr;
  if (spec.train.schedule.name === "constant") return base;
  const eta = spec.train.schedule.eta_min;
  const period = stage.iters / stage.restarts;
  // BasicSR steps the scheduler before the update, so iteration t uses the value at last_epoch = t.
  const within = iter - Math.floor((iter - 1) / period) * period;
  return eta + ((base - eta) * (1 + Math.cos((Math.PI * within) / period))) / 2;
}
