// The one forward path: a model's forward-only plan compiled for this device and one input size, its weights
// loaded by name and shape, run on whole images or tile by tile. Inference, evaluation and the task classifier
// all restore (or score) through it.
import { showSize } from "../../compiler/check/elaborate.js";
import { forwardProgram, InputSizeError, type LowerOptions, lowerModel } from "../../compiler/lower/model.js";
import { PLAN_IO } from "../../compiler/plan/io.js";
import type { LoadedProgram } from "../../compiler/program.js";
import type { ExperimentSpec } from "../../compiler/schema/experiment.js";
import { quantize255, reflectIndex, toPlanes } from "../data/degrade/common.js";
import type { RgbImage } from "../data/image.js";
import { MioInputError } from "../errors.js";
import type { TensorMap } from "../interop/safetensors.js";
import type { Gpu } from "../webgpu/device.js";
import { Executor } from "./executor.js";
import { compileForDevice } from "./fit.js";
import { selectWeights } from "./weights.js";

/** Writes every parameter of `exe`'s plan from `weights`, checked by name and shape (see `selectWeights`). */
export function loadWeights(exe: Executor, weights: TensorMap, source: string): void {
  const params = new Map(
    Object.entries(exe.plan.inputs)
      .filter(([, input]) => input.role === "param")
      .map(([name, input]) => [name, input.shape]),
  );
  for (const [name, t] of Object.entries(selectWeights(weights, params, "raw", source))) exe.write(name, t.data);
}

/** An input size of a forward plan: the image (or tile), and for adaptive prompts the image the extractor reads. */
export type ForwardSize = Omit<LowerOptions, "batch" | "seed">;

const sizeKey = (s: ForwardSize) =>
  `${s.height}x${s.width}${s.promptImage ? `:${s.promptImage.height}x${s.promptImage.width}` : ""}`;

/** An input size the model cannot take (compiler/lower/model.ts, InputSizeError): the input's fault, named. */
export class InputSizeRefused extends MioInputError {}

/** The model lowered for one input size. */
function lowerForward(program: LoadedProgram, spec: ExperimentSpec, size: ForwardSize) {
  try {
    return lowerModel(program, spec, { ...size, batch: 1 });
  } catch (e) {
    if (!(e instanceof InputSizeError)) throw e;
    throw new InputSizeRefused(e.message, "this model takes the sizes it was checked at (the crop, the eval tile)");
  }
}

/** A model's forward plan for one input size, with its weights loaded. */
export class ForwardPlan {
  private constructor(
    private readonly gpu: Gpu,
    readonly exe: Executor,
    private readonly what: string,
  ) {}

  static async create(
    gpu: Gpu,
    program: LoadedProgram,
    spec: ExperimentSpec,
    weights: TensorMap,
    size: ForwardSize,
    source = "the weights",
  ): Promise<ForwardPlan> {
    const model = lowerForward(program, spec, size);
    const input = showSize([size.height, size.width]);
    const whole = size.promptImage
      ? `, its prompt read from the whole ${showSize([size.promptImage.height, size.promptImage.width])} image`
      : "";
    const plan = compileForDevice(gpu, forwardProgram(model), {
      what: `running '${spec.model.name}' on a ${input} input${whole}`,
      hint: "restore it in smaller tiles (eval { tile N }), or downscale the image",
    });
    const exe = await Executor.create(gpu, plan);
    try {
      loadWeights(exe, weights, source);
    } catch (e) {
      exe.destroy();
      throw e;
    }
    return new ForwardPlan(gpu, exe, `running ${spec.model.name}`);
  }

  /** Whether the plan takes a `prompt` input (explicit maps, or the whole image for tiled adaptive prompts). */
  get takesPrompt(): boolean {
    return PLAN_IO.prompt in this.exe.plan.inputs;
  }

  /** Runs the model on one (3, H, W) input (and its prompt); returns the float output. */
  async run(lq: Float32Array, prompt?: Float32Array): Promise<Float32Array> {
    this.exe.write(PLAN_IO.lq, lq);
    if (prompt) this.exe.write(PLAN_IO.prompt, prompt);
    const r = await this.gpu.scoped(this.what, () => this.exe.run([PLAN_IO.out]));
    return r[PLAN_IO.out] as Float32Array;
  }

  destroy(): void {
    this.exe.destroy();
  }
}

/** A model's forward plans by input size (test images differ in size); a few stay compiled at a time. */
export class ForwardPlans {
  private readonly plans = new Map<string, ForwardPlan>();
  constructor(
    private readonly gpu: Gpu,
    private readonly program: LoadedProgram,
    private readonly spec: ExperimentSpec,
    private readonly weights: TensorMap,
    private readonly source = "the weights",
    /** Sizes kept compiled: a set of all-different sizes must not pile up device memory. */
    private readonly keep = 4,
  ) {}

  async get(size: ForwardSize): Promise<ForwardPlan> {
    const key = sizeKey(size);
    const hit = this.plans.get(key);
    if (hit) return hit;
    if (this.plans.size >= this.keep) this.destroy();
    const plan = await ForwardPlan.create(this.gpu, this.program, this.spec, this.weights, size, this.source);
    this.plans.set(key, plan);
    return plan;
  }

  destroy(): void {
    for (const p of this.plans.values()) p.destroy();
    this.plans.clear();
  }
}

/** A restored image, and the network's float output it was rounded from. */
export interface Restored extends RgbImage {
  /** (3, H, W) floats before clamping and rounding (what PyTorch's model returns). */
  readonly chw: Float32Array;
}

/** The network's (3, H, W) output clamped and rounded to 8 bits, half to even (BasicSR `tensor2img`), keeping the floats. */
export function chwToImage(chw: Float32Array | Float64Array, width: number, height: number): Restored {
  const n = width * height;
  const data = new Uint8Array(3 * n);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) data[i * 3 + c] = quantize255((chw[c * n + i] ?? 0) * 255);
  return { width, height, data, chw: chw instanceof Float32Array ? chw : Float32Array.from(chw) };
}

/** Restores a whole image with `plan` compiled for its size. */
export async function restoreWhole(plan: ForwardPlan, img: RgbImage, prompt?: Float32Array): Promise<Restored> {
  return chwToImage(await plan.run(toPlanes(img), prompt), img.width, img.height);
}

/** Tile origins along one axis: `size`-wide tiles with at least `overlap` shared pixels, the last flush with the end. */
export function tileOrigins(length: number, size: number, overlap: number): number[] {
  if (length <= size) return [0];
  const step = Math.max(1, size - overlap);
  const out: number[] = [];
  for (let o = 0; o + size < length; o += step) out.push(o);
  out.push(length - size);
  return out;
}

/** The (3, tile, tile) planes of the tile at (x0, y0); past the image's edges it reflects, as the reference pads. */
function tilePlanes(img: RgbImage, x0: number, y0: number, tile: number, out: Float32Array): Float32Array {
  const { width: W, height: H } = img;
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < tile; y++) {
      const sy = reflectIndex(y0 + y, H);
      for (let x = 0; x < tile; x++)
        out[(c * tile + y) * tile + x] = (img.data[(sy * W + reflectIndex(x0 + x, W)) * 3 + c] ?? 0) / 255;
    }
  }
  return out;
}

/**
 * Restores an image with `plan` compiled for `tile`×`tile` inputs, tile by tile, averaging overlaps. `prompt` is
 * an explicit map; a plan whose adaptive extractor reads a separate prompt input is given the whole image.
 */
export async function restoreTiled(
  plan: ForwardPlan,
  img: RgbImage,
  tile: number,
  overlap: number,
  prompt?: Float32Array,
): Promise<Restored> {
  const { width: W, height: H } = img;
  const acc = new Float64Array(3 * W * H);
  const weight = new Float64Array(W * H);
  const input = new Float32Array(3 * tile * tile);
  const promptInput = prompt ?? (plan.takesPrompt ? toPlanes(img) : undefined);
  for (const y0 of tileOrigins(H, tile, overlap)) {
    for (const x0 of tileOrigins(W, tile, overlap)) {
      const out = await plan.run(tilePlanes(img, x0, y0, tile, input), promptInput);
      for (let y = 0; y < Math.min(tile, H - y0); y++) {
        for (let x = 0; x < Math.min(tile, W - x0); x++) {
          const p = (y0 + y) * W + x0 + x;
          weight[p] = (weight[p] ?? 0) + 1;
          for (let c = 0; c < 3; c++)
            acc[c * W * H + p] = (acc[c * W * H + p] ?? 0) + (out[(c * tile + y) * tile + x] ?? 0);
        }
      }
    }
  }
  // The average stays in float64 until it is rounded.
  for (let c = 0; c < 3; c++)
    for (let p = 0; p < W * H; p++) acc[c * W * H + p] = (acc[c * W * H + p] ?? 0) / (weight[p] ?? 1);
  return chwToImage(acc, W, H);
}
