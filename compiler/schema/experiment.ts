// The resolved experiment spec: plain JSON, everything the runtime needs, nothing it must look up in .mio files.
// `compiler/schema/experiment.schema.json` validates it; `SPEC_VERSION` changes whenever its shape does.
import type { Scalar } from "../check/builtins.js";
import type { TaskSpec, TestsetSpec } from "./task.js";

export const SPEC_VERSION = 2;

export interface SiteSpec {
  name: string;
  channels: number;
}

export interface CallSpec {
  /** The backbone or block name. */
  name: string;
  args: Record<string, Scalar>;
  /** Number of trainable parameters. */
  params: number;
}

export interface PromptSpec {
  kind: "none" | "explicit" | "adaptive";
  /**
   * The prompt extractor (a block returning a vector); absent for `none`. `label` is the prefix of its parameter
   * names (`extractor F_ext_net: SwinFExt(...)`), present only when it is not the default `prompt_extractor`.
   */
  extractor?: CallSpec & { inChannels: number; label?: string };
  /**
   * Several extractors, each feeding its own sites (`extractor F_ext_net1: RestormerFExt { sites latent }`, as
   * Restormer_EP/AP's four F_ext nets); then `extractor` and `dim` are absent. Read either form with
   * `promptExtractors`.
   */
  extractors?: PromptFeed[];
  /** Width of the prompt vector the extractor produces. */
  dim?: number;
  /** Where scale and shift are injected: `feat * (1 + scale) + shift` per site. */
  sites: SiteSpec[];
  /** Parameters of the per-site scale/shift linear layers. */
  modulationParams: number;
  /** Explicit prompts only: the fixed per-task maps. */
  maps?: { kind: "random"; size: number; seed: number } | { kind: "file"; path: string };
  /** Explicit prompts only: the test-time task classifier. */
  classifier?: { name: string; args: Record<string, Scalar>; weights: string | null };
}

export interface StageSpec {
  tasks: string[];
  iters: number;
  /** Cosine periods in this stage (restarts of the schedule); the period is iters / restarts. */
  restarts: number;
}

export interface ExperimentSpec {
  version: typeof SPEC_VERSION;
  name: string;
  /** The profile applied (`--profile`), or null. */
  profile: string | null;
  /** Profiles the experiment declares. */
  profiles: string[];
  seed: number;
  /** Content hashes of the .mio modules it was compiled from (spans and comments excluded). */
  sources: Record<string, string>;
  model: CallSpec & { sites: SiteSpec[] };
  prompt: PromptSpec;
  tasks: TaskSpec[];
  /** Every `testset` in the experiment's scope, in declaration order: the `unknown` group of `eval.sets`. */
  testsets: TestsetSpec[];
  data: {
    train: { path: string; weight: number }[];
    val: string | null;
    test: string | null;
    crop: number;
    batch: number;
    flip: boolean;
    rotate: boolean;
    workers: number;
    /**
     * Each training crop is the most detailed of this many random positions (docs/data.md, "Training loader");
     * absent means 1, a uniform position as BasicSR's. Recorded only when set, so older specs keep their run ids.
     */
    crop_candidates?: number;
  };
  curriculum: { kind: "mixed" | "sequential" | "stages"; order: string[]; stages: StageSpec[] };
  train: {
    /**
     * The loss. `cross_entropy` makes the experiment a task classifier: its model returns one score per task (the
     * curriculum's tasks, in order, are the class labels) and `double_softmax` (default true, as the reference)
     * applies CrossEntropy's log-softmax on top of the model's softmax output.
     */
    loss: { name: "l1" | "mse" | "charbonnier" | "cross_entropy"; eps: number; double_softmax?: boolean };
    optimizer: { name: "adam" | "adamw"; lr: number; betas: [number, number]; eps: number; weight_decay: number };
    schedule: { name: "cosine_restarts" | "constant"; eta_min: number };
    ema: number;
    checkpoint_every: number;
    log_every: number;
    /**
     * Loss weight per task (absent tasks weigh 1): each sample's loss is scaled by its task's weight over the mean
     * weight of the stage's tasks, so a stage's loss keeps its scale (docs/training.md, "Task weights"). Recorded
     * only when set, so older specs keep their run ids.
     */
    task_weights?: Record<string, number>;
  };
  eval: {
    sets: { name: string; path: string | null }[];
    metrics: { name: "psnr" | "ssim"; crop: number; y_channel: boolean }[];
    weights: "raw" | "ema";
    tile: number;
    overlap: number;
    /** Evaluate on the central `center_crop` square of each test image (0: whole images). */
    center_crop: number;
    /** At most this many images per test set (0: all). */
    max_images: number;
  };
}

/** The prompt extractor's parameters are named `<label>.<its own label>...`: SRResNet_EP/AP's `prompt_extractor`. */
export const DEFAULT_EXTRACTOR_LABEL = "prompt_extractor";

/** The prefix (without the dot) of the prompt extractor's parameter names. */
export function extractorLabel(prompt: Pick<PromptSpec, "extractor">): string {
  return prompt.extractor?.label ?? DEFAULT_EXTRACTOR_LABEL;
}

/** One prompt extractor and the wired sites (by name) its vector of `dim` values feeds. */
export type PromptFeed = CallSpec & { inChannels: number; label: string; dim: number; sites: string[] };

/** The prompt's extractors in either form: the one `extractor` feeding every wired site, or each of `extractors`. */
export function promptExtractors(prompt: PromptSpec): PromptFeed[] {
  if (prompt.extractors) return prompt.extractors;
  const e = prompt.extractor;
  if (!e) return [];
  const { label: _, ...call } = e;
  return [{ ...call, label: extractorLabel(prompt), dim: prompt.dim ?? 0, sites: prompt.sites.map((s) => s.name) }];
}

/** Trainable parameters of the prompt's extractors, all of them. */
export function extractorParams(prompt: PromptSpec): number {
  return promptExtractors(prompt).reduce((n, e) => n + e.params, 0);
}

/**
 * The side of the square tiles evaluation restores test images in (runtime/eval/evaluate.ts): `eval.tile`, else the
 * center crop (each image is one tile), else 128 pixels. The model is checked at this size too.
 */
export function evalTile(spec: Pick<ExperimentSpec, "eval">): number {
  return spec.eval.tile > 0 ? spec.eval.tile : spec.eval.center_crop > 0 ? spec.eval.center_crop : 128;
}

/** Evaluation's tiles: `evalTile`, overlapping by `eval.overlap` but at most half a tile (so they advance). */
export function evalTiling(spec: Pick<ExperimentSpec, "eval">): { tile: number; overlap: number } {
  const tile = evalTile(spec);
  return { tile, overlap: Math.min(spec.eval.overlap, tile / 2) };
}

/** A task-classifier experiment (`loss cross_entropy`): it predicts the task of an LQ image instead of restoring it. */
export function isClassifier(spec: Pick<ExperimentSpec, "train">): boolean {
  return spec.train.loss.name === "cross_entropy";
}
