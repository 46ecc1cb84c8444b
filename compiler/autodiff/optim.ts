// The optimizer and EMA as graph nodes, so forward, loss, backward, update and EMA are one plan and one submit.
// Step-dependent numbers (learning rate, bias corrections) are tiny scalar inputs the host writes each step.
import type { GraphBuilder } from "../ir/builder.js";
import { assert, type Node } from "../ir/node.js";
import type { Program, Update } from "../passes/program.js";
import { PLAN_IO } from "../plan/io.js";
import { grad } from "./grad.js";

export interface AdamConfig {
  /** `adam`: L2 weight decay added to the gradient (torch.optim.Adam); `adamw`: decoupled (torch.optim.AdamW). */
  kind: "adam" | "adamw";
  betas: readonly [number, number];
  eps: number;
  weightDecay: number;
}

export const ADAM_DEFAULTS: AdamConfig = { kind: "adam", betas: [0.9, 0.99], eps: 1e-8, weightDecay: 0 };

export interface TrainStepOptions {
  optimizer: AdamConfig;
  /** EMA decay of the parameters (BasicSR model_ema), e.g. 0.999; omitted: no EMA. */
  ema?: number;
  /** Extra values to fetch by name (the loss is always fetchable as `loss`). */
  fetch?: Record<string, Node>;
  /** Also make every parameter gradient fetchable as `grad.<name>` (keeps them alive: tests and debugging). */
  fetchGrads?: boolean;
}

/** Names of the per-step scalar inputs. */
export const STEP_SCALARS = {
  stepSize: "optim.step_size",
  invSqrtBc2: "optim.inv_sqrt_bc2",
  decay: "optim.decay",
} as const;

/** Names of the state inputs of a parameter. */
export const stateNames = (param: string) => ({ m: `adam.m.${param}`, v: `adam.v.${param}`, ema: `ema.${param}` });

/**
 * Appends the backward graph, the Adam/AdamW update of every parameter and the EMA, and returns the program.
 * Inputs it adds: `adam.m.<p>`, `adam.v.<p>` (zeros at start), `ema.<p>` (the initial parameters), and the step
 * scalars (see `stepScalars`).
 * @example const prog = buildTrainStep(b, b.l1Loss(out, gt), { optimizer: ADAM_DEFAULTS, ema: 0.999 });
 */
export function buildTrainStep(b: GraphBuilder, loss: Node, opts: TrainStepOptions): Program {
  const params = b.paramList();
  assert(params.length > 0, () => "the graph has no parameters to train");
  const grads = grad(
    b,
    loss,
    params.map((p) => p.node),
  );
  const { betas, eps, weightDecay, kind } = opts.optimizer;
  const [b1, b2] = betas;
  const stepSize = b.input(STEP_SCALARS.stepSize, [1], "scalar");
  const invSqrtBc2 = b.input(STEP_SCALARS.invSqrtBc2, [1], "scalar");
  const decay = kind === "adamw" && weightDecay > 0 ? b.input(STEP_SCALARS.decay, [1], "scalar") : undefined;
  const updates: Update[] = [];
  params.forEach((p, i) => {
    const names = stateNames(p.name);
    const m = b.input(names.m, p.node.shape, "state");
    const v = b.input(names.v, p.node.shape, "state");
    let g = grads[i] as Node;
    if (kind === "adam" && weightDecay > 0) g = b.add(g, b.scale(p.node, weightDecay));
    const m1 = b.add(b.scale(m, b1), b.scale(g, 1 - b1));
    const v1 = b.add(b.scale(v, b2), b.scale(b.mul(g, g), 1 - b2));
    const p0 = decay ? b.mul(p.node, decay) : p.node;
    // torch: denom = sqrt(v) / sqrt(bc2) + eps; p -= (lr / bc1) * m / denom
    const denom = b.affine(b.mul(b.sqrt(v1), invSqrtBc2), 1, eps);
    const p1 = b.sub(p0, b.mul(stepSize, b.div(m1, denom)));
    updates.push({ target: p.node, value: p1 }, { target: m, value: m1 }, { target: v, value: v1 });
    if (opts.ema !== undefined) {
      const e = b.input(names.ema, p.node.shape, "state");
      updates.push({ target: e, value: b.add(b.scale(e, opts.ema), b.scale(p1, 1 - opts.ema)) });
    }
  });
  const outputs = new Map<string, Node>([[PLAN_IO.loss, loss], ...Object.entries(opts.fetch ?? {})]);
  if (opts.fetchGrads) {
    params.forEach((p, i) => {
      outputs.set(`grad.${p.name}`, grads[i] as Node);
    });
  }
  return { g: b.g, outputs, updates };
}

/**
 * The scalar inputs for optimizer step `t` (1-based) at learning rate `lr`.
 * @example exe.write("optim.step_size", [stepScalars(1, 2e-4, ADAM_DEFAULTS)["optim.step_size"]]);
 */
export function stepScalars(t: number, lr: number, cfg: AdamConfig): Record<string, number> {
  const bc1 = 1 - cfg.betas[0] ** t;
  const bc2 = 1 - cfg.betas[1] ** t;
  const out: Record<string, number> = {
    [STEP_SCALARS.stepSize]: lr / bc1,
    [STEP_SCALARS.invSqrtBc2]: 1 / Math.sqrt(bc2),
  };
  if (cfg.kind === "adamw" && cfg.weightDecay > 0) out[STEP_SCALARS.decay] = 1 - lr * cfg.weightDecay;
  return out;
}
