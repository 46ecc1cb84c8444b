// The one train-step driver: `mioc run`'s curriculum, the PyTorch golden tests and the bench all step a compiled
// train-step plan through this class. It owns the parameters' optimizer state (Adam moments, EMA, step counter),
// writes the per-step optimizer scalars and the batch, and submits one command buffer per step.
import { type AdamConfig, stateNames, stepScalars } from "../../compiler/autodiff/optim.js";
import { PLAN_IO } from "../../compiler/plan/io.js";
import type { Plan } from "../../compiler/plan/plan.js";
import { MioRuntimeError } from "../errors.js";
import type { TensorMap } from "../interop/safetensors.js";
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
  /**
   * Steps taken over the whole run, which the optimizer's resets between stages do not restart: drop_path draws
   * from it (`PLAN_IO.rngStep`), so no two steps of a run draw the same masks.
   */
  private taken = 0;
  private constructor(
    readonly exe: Executor,
    /** Parameter names, in the model's order. */
    readonly params: readonly string[],
    private readonly optimizer: AdamConfig,
  ) {}

  /** Uploads the initial parameters, zero Adam moments and EMA = parameters. */
  static async create(gpu: Gpu, plan: Plan, params: ReadonlyMap<string, Float32Array>, optimizer: AdamConfig) {
    const s = new TrainSession(await Executor.create(gpu, plan), [...params.keys()], optimizer);
    for (const [name, value] of params) {
      s.exe.write(name, value);
      const ema = stateNames(name).ema;
      if (plan.inputs[ema]) s.exe.write(ema, value);
    }
    s.resetOptimizer();
    return s;
  }

  /**
   * Continues from saved state (`state()`'s tensors): parameters, EMA and Adam moments, with Adam's step counter at
   * `optimizerStep` and `runStep` steps taken over the run (what drop_path draws from; default `optimizerStep`).
   */
  static async restore(
    gpu: Gpu,
    plan: Plan,
    params: readonly string[],
    saved: TensorMap,
    optimizerStep: number,
    optimizer: AdamConfig,
    runStep = optimizerStep,
  ) {
    const s = new TrainSession(await Executor.create(gpu, plan), params, optimizer);
    for (const name of s.stateTensors()) {
      const t = saved[name];
      if (!t) throw new MioRuntimeError(`the checkpoint has no '${name}'`);
      s.exe.write(name, t.data);
    }
    s.t = optimizerStep;
    s.taken = runStep;
    return s;
  }

  /** Steps taken since the optimizer was last reset. */
  get steps(): number {
    return this.t;
  }

  /** A fresh optimizer (zero moments, step counter 0) over the current parameters, as a new training job starts. */
  resetOptimizer(): void {
    for (const p of this.params) {
      const s = stateNames(p);
      for (const n of [s.m, s.v]) {
        const input = this.exe.plan.inputs[n];
        if (input) this.exe.write(n, new Float32Array(input.shape.reduce((a, b) => a * b, 1)));
      }
    }
    this.t = 0;
  }

  /** One optimizer step on `batch` at learning rate `lr`; resolves with `fetch` read after the update. */
  step(batch: Readonly<Record<string, ArrayLike<number>>>, lr: number, fetch: readonly string[] = []) {
    this.t += 1;
    for (const [name, v] of Object.entries(stepScalars(this.t, lr, this.optimizer))) this.exe.write(name, [v]);
    // The rand op's counter is an integer below 2^24 (exact in f32): 16.7M steps before the draws repeat.
    if (this.exe.plan.inputs[PLAN_IO.rngStep]) this.exe.write(PLAN_IO.rngStep, [this.taken % 2 ** 24]);
    this.taken += 1;
    for (const [name, v] of Object.entries(batch)) this.exe.write(name, v);
    return this.exe.run(fetch);
  }

  /** Names of everything training carries: each parameter, then its EMA and Adam moments where the plan has them. */
  stateTensors(): string[] {
    const out: string[] = [];
    for (const p of this.params) {
      const s = stateNames(p);
      for (const n of [p, s.ema, s.m, s.v]) if (this.exe.plan.inputs[n]) out.push(n);
    }
    return out;
  }

  /** The training state with shapes, as a checkpoint stores it. */
  async state(): Promise<TensorMap> {
    const names = this.stateTensors();
    const values = await this.exe.read(names);
    const out: TensorMap = {};
    for (const n of names) out[n] = { shape: this.exe.plan.inputs[n]?.shape ?? [], data: values[n] as Float32Array };
    return out;
  }

  /** The parameters' current values, or their EMA's. */
  async weights(which: "raw" | "ema"): Promise<TensorMap> {
    const key = (p: string) => (which === "ema" ? stateNames(p).ema : p);
    const values = await this.exe.read(this.params.map(key));
    const out: TensorMap = {};
    for (const p of this.params)
      out[p] = { shape: this.exe.plan.inputs[p]?.shape ?? [], data: values[key(p)] as Float32Array };
    return out;
  }

  destroy(): void {
    this.exe.destroy();
  }
}
