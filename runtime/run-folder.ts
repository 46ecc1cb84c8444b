// The files of a run folder (`runs/<name>-<hash>/`): one type per format, shared by the code that writes them
// (training, evaluation) and the code that reads them (reports). docs/reports.md describes the formats.

/** One task's scores on one test set, averaged over its images. `null` stands for a PSNR of Infinity in JSON. */
export interface TaskScore {
  psnr: number | null;
  ssim?: number | null;
  /** PSNR of the degraded input itself: the baseline a model must beat. */
  lq_psnr?: number | null;
  images?: number;
}

/** Set → task → fraction of test images whose task the classifier got right. */
export type Accuracy = Record<string, Record<string, number>>;
/** Set → true task → predicted task → number of test images. */
export type Confusion = Record<string, Record<string, Record<string, number>>>;

/** `metrics.json`: the final evaluation of a run. */
export interface RunMetrics {
  run: string;
  name: string;
  profile?: string | null;
  weights?: "raw" | "ema";
  adapter?: string;
  steps?: number;
  seconds?: number;
  /** Set name (`in_dist`, `out_dist`, ...) → task name → scores. */
  sets: Record<string, Record<string, TaskScore>>;
  prompt_selection?: "oracle" | "classifier" | "none";
  /** The classifier checkpoint that picked explicit prompts (prompt_selection "classifier"). */
  classifier?: string;
  /** A classifier run's result, or the accuracy of the classifier an EP run used to pick its prompts. */
  classifier_accuracy?: Accuracy;
  /** The same predictions as counts, by true and predicted task (the confusion matrix). */
  classifier_confusion?: Confusion;
  depth?: string;
}

/** A `log.jsonl` line, as the trainer and evaluation write it. */
export type LogEvent =
  | {
      type: "start";
      run: string;
      resumed_from: number | null;
      adapter: string;
      fallback: boolean;
      kernels: number;
      peak_mib: number;
      /** GFLOP of one train step, counted from the plan's kernels (compiler/plan/plan.ts stepFlops). */
      step_gflop: number;
      time: number;
    }
  | { type: "stage"; stage: number; stages: number; tasks: string[]; iters: number; time?: number }
  | {
      type: "train";
      stage: number;
      iter: number;
      step: number;
      /** null when the loss was not finite (JSON has no NaN or Infinity): a diverged run still gets a report. */
      loss: number | null;
      lr: number | null;
      /** Iterations per second since the previous train line. */
      its?: number;
      /** The step's FLOPs (the plan's, see docs/reports.md) times `its`, in GFLOP/s. */
      gflops?: number;
      task_loss?: Record<string, number | null>;
      /** A classifier run: the fraction of the logged batch classified right. */
      acc?: number;
      time?: number;
    }
  | { type: "checkpoint"; step: number; path: string }
  | {
      /** Training images the loader could not read and left out; each file once per run (per process). */
      type: "skipped";
      stage: number;
      /** Steps done when they were found. */
      step: number;
      files: string[];
      /** Why, one per file, in the same order (the decoder's message, naming the file). */
      reasons: string[];
      time?: number;
    }
  | { type: "eval_start"; time: number }
  | {
      type: "eval";
      step: number;
      set: string;
      task: string;
      psnr?: number | null;
      ssim?: number | null;
      lq_psnr?: number | null;
      accuracy?: number;
      images?: number;
    }
  | { type: "done"; time?: number; seconds?: number };

/** Progress a long run reports to its display but not to the log. */
export type ProgressEvent = { type: "eval_progress"; done: number; total: number; what: string };

/** What a run tells its display: every log line, and progress. */
export type RunEvent = LogEvent | ProgressEvent;
