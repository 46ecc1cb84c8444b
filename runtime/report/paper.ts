// The paper's numbers (MiOIR, Table 3 and Table 4; docs/reports.md, "The paper's tables"), quoted in reports for
// reference. PSNR in dB, RGB, 4-pixel border crop, on DIV2K-valid (In-Dis) and its harder Out-Dis degradations.

import type { ExperimentSpec } from "../../compiler/schema/experiment.js";

/** Task names in the paper's column order: SR, Blur, Noise, JPEG, Rain, Haze, Low-Light. */
export const PAPER_TASKS = ["sr", "blur", "noise", "jpeg", "rain", "haze", "dark"] as const;

/** Table 3: In-Dis PSNR per task in PAPER_TASKS order, then the In-Dis average. */
export const PAPER_TABLE3: Readonly<Record<string, readonly number[]>> = {
  "SRResNet-M": [25.52, 30.01, 30.49, 32.46, 32.38, 25.57, 30.2, 29.52],
  "SRResNet-S": [25.72, 30.49, 30.67, 32.73, 32.81, 25.78, 30.45, 29.81],
  "SRResNet-M+EP": [25.73, 30.78, 30.81, 33.12, 34.26, 25.84, 31.29, 30.26],
  "SRResNet-S+EP": [25.9, 31.23, 30.88, 33.16, 34.31, 26.13, 30.91, 30.36],
  "SRResNet-M+AP": [25.52, 30.16, 30.48, 32.52, 33.46, 25.55, 29.48, 29.6],
  "SRResNet-S+AP": [25.73, 30.66, 30.6, 32.68, 34.13, 25.51, 28.97, 29.76],
  "SwinIR-M": [25.51, 30.63, 30.81, 32.79, 34.38, 28.83, 34.43, 31.05],
  "SwinIR-S": [26.02, 31.58, 31.36, 33.4, 36.69, 29.58, 34.64, 31.9],
  "SwinIR-M+EP": [25.77, 31.26, 31.22, 33.41, 36.56, 29.16, 34.9, 31.75],
  "SwinIR-S+EP": [26.15, 31.98, 31.48, 33.66, 37.84, 29.65, 35.05, 32.26],
  "SwinIR-M+AP": [25.4, 30.33, 30.22, 32.34, 33.77, 27.88, 33.2, 30.45],
  "SwinIR-S+AP": [26.04, 31.74, 31.4, 33.48, 36.94, 29.37, 34.99, 32.0],
};

/** Table 4: the Out-Dis average, for the rows the paper gives it. */
export const PAPER_OUTDIS_AVG: Readonly<Record<string, number>> = {
  "SRResNet-M": 24.88,
  "SRResNet-S+EP": 25.43,
  "SRResNet-S+AP": 24.88,
  "SwinIR-M": 26.09,
  "SwinIR-S+EP": 26.97,
  "SwinIR-S+AP": 26.86,
};

/** Table 4's Unknown sets, in its column order (the names of stdlib/unknown.mio's stand-ins). */
export const PAPER_UNKNOWN_SETS = ["difficult", "mild", "wild", "ntire20", "toled"] as const;

/** Table 4: PSNR on each Unknown set in PAPER_UNKNOWN_SETS order, then the Unknown average. */
export const PAPER_UNKNOWN: Readonly<Record<string, readonly number[]>> = {
  "SRResNet-M": [16.77, 16.38, 16.63, 22.26, 18.05, 18.02],
  "SRResNet-S+EP": [16.21, 16.37, 16.63, 22.81, 17.16, 17.84],
  "SRResNet-S+AP": [17.87, 17.35, 17.66, 22.48, 20.06, 19.08],
  "SwinIR-M": [17.45, 16.9, 17.54, 22.77, 17.16, 18.36],
  "SwinIR-S+EP": [17.82, 17.46, 17.86, 22.91, 17.45, 18.7],
  "SwinIR-S+AP": [18.2, 17.58, 18.18, 22.86, 18.09, 18.98],
};

/**
 * The paper's name for an experiment's recipe (`SRResNet-S+AP`): backbone, "-M" mixed or "-S" sequential learning,
 * "+EP"/"+AP" explicit or adaptive prompts. Undefined when the paper has no such row (another backbone, or a
 * hand-written `stages` curriculum).
 *
 * @example paperVariant(spec) // "SRResNet-S+AP"
 */
export function paperVariant(spec: ExperimentSpec): string | undefined {
  const strategy = { mixed: "M", sequential: "S", stages: undefined }[spec.curriculum.kind];
  if (!strategy) return undefined;
  const prompt = { none: "", explicit: "+EP", adaptive: "+AP" }[spec.prompt.kind];
  const name = `${spec.model.name}-${strategy}${prompt}`;
  return name in PAPER_TABLE3 ? name : undefined;
}

/** The paper's training scale per backbone (docs/training.md, "The reference's recipes" and
 * "The reference's backbones and prompts"): parameters by prompt kind, iterations, batch. */
export const PAPER_SCALE: Readonly<
  Record<
    string,
    { params: Partial<Record<"none" | "explicit" | "adaptive", number>>; iters: number; batch: number; crop: number }
  >
> = {
  SRResNet: { params: { none: 1.222e6, explicit: 1.441e6, adaptive: 1.447e6 }, iters: 2.5e6, batch: 16, crop: 128 },
  SwinIR: { params: { none: 11.605e6, explicit: 11.854e6, adaptive: 11.861e6 }, iters: 1e6, batch: 8, crop: 128 },
  // Table 3 has no Restormer, Uformer or PromptIR rows (not retrieved), so paperVariant names none; their scale is
  // the reference's.
  Restormer: { params: { none: 26.127e6, explicit: 26.548e6, adaptive: 26.573e6 }, iters: 1e6, batch: 8, crop: 128 },
  Uformer: { params: { none: 50.881e6, explicit: 51.458e6, adaptive: 51.489e6 }, iters: 1e6, batch: 8, crop: 128 },
  // PromptIR keeps its own prompt blocks: the reference has no EP/AP variant of it (docs/training.md).
  PromptIR: { params: { none: 35.377e6 }, iters: 1e6, batch: 8, crop: 128 },
};
