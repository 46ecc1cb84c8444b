// The named inputs and outputs of the plans mio compiles: the one place the compiler's lowering and the runtime
// that writes batches and reads results agree on them. Parameters and their optimizer state are named by the
// model (PyTorch state-dict names) and by `stateNames`.

export const PLAN_IO = {
  /** Input: the degraded images (B, 3, H, W) in [0, 1]. */
  lq: "lq",
  /** Input: explicit prompt maps (B, 1, S, S), or the whole image an adaptive extractor reads (B, 3, h, w). */
  prompt: "prompt",
  /** Input: the ground-truth crops (B, 3, H, W) a restoration loss compares with. */
  gt: "gt",
  /** Input: one-hot task rows (B, K) a classifier's loss compares with. */
  label: "label",
  /** Input: each sample's loss weight (B), when the experiment declares `task_weights`. */
  sampleWeight: "sample_weight",
  /**
   * Input (1): the training step's number, below 2^24, that a train step's stochastic layers (drop_path) draw from;
   * only train steps that have such layers have it.
   */
  rngStep: "rng_step",
  /** Output: the model's result: restored images, or a classifier's scores. */
  out: "out",
  /** Output: the batch's loss (1). */
  loss: "loss",
  /** Output: each sample's loss (B), which the trainer logs per task. */
  sampleLoss: "sample_loss",
} as const;
