// A training loop's view of a compiled train-step plan: it owns the step counter, writes the per-step optimizer
// scalars and the batch, and submits one command buffer per step.
import { type AdamConfig, stateNames, stepScalars } from "../../compiler/autodiff/optim.js";
import type { Plan } from "../../compiler/plan/plan.js";
import type { Gpu } from "../webgpu/device.js";
import { Executor } from "./executor.js";

/**
 * @example
 * const prog = buildTrainStep(b, loss, { optimizer: ADAM_DEFAULTS, ema: 0.999 });
 * const s = await TrainSession.create(gpu, compileProgram(prog), initialParams(b), ADAM_DEFAULTS);
 * const { loss } = await s.step({ lq, gt }, 2e-4, ["loss"]);
 */
export class TrainSession {
  private t = 0;
  private constructor(
    readonly exe: Executor,
    private readonly optimizer: AdamConfig,
  ) {}

  /** Uploads the initial parameters, zero Adam moments and EMA = parameters. */
  static async create(gpu: Gpu, plan: Plan, params: ReadonlyMap<string, Float32Array>, optimizer: AdamConfig) {
    const exe = await Executor.create(gpu, plan);
    for (const [name, value] of params) {
      exe.write(name, value);
      const s = stateNames(name);
      if (plan.inputs[s.m]) exe.write(s.m, new Float32Array(value.length));
      if (plan.inputs[s.v]) exe.write(s.v, new Float32Array(value.length));
      if (plan.inputs[s.ema]) exe.write(s.ema, value);
    }
    return new TrainSession(exe, optimizer);
  }

  /** Steps taken so far. */
  get steps(): number {
    return this.t;
  }

  /** One optimizer step on `batch` at learning rate `lr`; resolves with `fetch` read after the update. */
  step(batch: Readonly<Record<string, ArrayLike<number>>>, lr: number, fetch: readonly string[] = []) {
    this.t += 1;
    for (const [name, v] of Object.entries(stepScalars(this.t, lr, this.optimizer))) this.exe.write(name, [v]);
    for (const [name, v] of Object.entries(batch)) this.exe.write(name, v);
    return this.exe.run(fetch);
  }

  destroy(): void {
    this.exe.destroy();
  }
}
