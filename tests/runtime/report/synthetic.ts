// A small synthetic run folder, as the trainer writes one (docs/reports.md): a real spec from a pipeline's quick
// profile, a log.jsonl with every entry type, metrics.json with numbers chosen here, and three sample grids.
import { mkdtempSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkFile, printSpec } from "../../../compiler/compile.js";
import type { ExperimentSpec } from "../../../compiler/schema/experiment.js";
import type { RgbImage } from "../../../runtime/data/image.js";
import { writeSampleGrid } from "../../../runtime/report/grid.js";
import { root } from "../../helpers/cli.js";

const made: string[] = [];

/** Removes every folder `syntheticRun` made (call it in afterAll). */
export async function removeSyntheticRuns(): Promise<void> {
  for (const d of made.splice(0)) await rm(d, { recursive: true, force: true });
}

export const TASKS = ["sr", "blur", "noise", "jpeg", "rain", "haze", "dark"] as const;
export const UNKNOWN_SETS = ["difficult", "mild", "wild", "ntire20", "toled"] as const;

export function quickSpec(pipeline: string): ExperimentSpec {
  const { specs, diagnostics } = checkFile(join(root, "pipelines", `${pipeline}.mio`), { profile: "quick" });
  const spec = specs.get(pipeline);
  if (!spec) throw new Error(`${pipeline}: ${diagnostics.map((d) => d.message).join("; ")}`);
  return spec;
}

export interface Scores {
  psnr: number;
  lq_psnr: number;
  ssim?: number;
}

/**
 * Made-up scores: task i of set s gets a distinct PSNR so a wrong column shows; the Unknown sets' outputs are a
 * little below their inputs, so a loss shows too.
 */
export function makeScores(offset: number, withSsim: boolean): Record<string, Record<string, Scores>> {
  const sets: Record<string, Record<string, Scores>> = {};
  ["in_dist", "out_dist"].forEach((set, s) => {
    sets[set] = {};
    TASKS.forEach((t, i) => {
      (sets[set] as Record<string, Scores>)[t] = {
        psnr: 24.123 + i * 1.37 - s * 2.5 + offset,
        lq_psnr: 21.456 + i * 1.11 - s * 3.25,
        ...(withSsim ? { ssim: 0.61 + i * 0.031 - s * 0.05 } : {}),
      };
    });
  });
  sets.unknown = Object.fromEntries(
    UNKNOWN_SETS.map((t, i) => [t, { psnr: 17.5 + i * 0.9 + offset - 0.3, lq_psnr: 17.5 + i * 0.9 }]),
  );
  return sets;
}

function image(w: number, h: number, seed: number): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37 + seed * 101) % 256;
  return { width: w, height: h, data };
}

export interface SyntheticRun {
  dir: string;
  spec: ExperimentSpec;
  sets: Record<string, Record<string, Scores>>;
}

/** Writes a run folder under a fresh temp dir and returns it. */
export async function syntheticRun(
  pipeline = "seq_prompt",
  options: { offset?: number; ssim?: boolean; samples?: boolean } = {},
): Promise<SyntheticRun> {
  const spec = quickSpec(pipeline);
  const parent = mkdtempSync(join(tmpdir(), "mio-report-"));
  made.push(parent);
  const dir = join(parent, `${spec.name}-0123456789ab`);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "spec.json"), printSpec(spec));

  const lines: object[] = [];
  let step = 0;
  spec.curriculum.stages.forEach((st, k) => {
    lines.push({
      type: "stage",
      stage: k + 1,
      stages: spec.curriculum.stages.length,
      tasks: st.tasks,
      iters: st.iters,
      time: 1e12 + k,
    });
    for (let iter = 50; iter <= st.iters; iter += 50) {
      step += 50;
      const loss = 0.2 * Math.exp(-step / 1500) + 0.02;
      const lr = 1e-7 + 0.5 * (2e-4 - 1e-7) * (1 + Math.cos((Math.PI * iter) / st.iters));
      const task_loss = Object.fromEntries(st.tasks.map((t, i) => [t, loss * (1 + 0.1 * i)]));
      lines.push({ type: "train", stage: k + 1, iter, step, loss, lr, its: 14.2, task_loss, time: 1e12 + step });
    }
    if (iterSum(spec, k) > 0) lines.push({ type: "checkpoint", step, path: `checkpoints/step-${step}` });
  });
  const sets = makeScores(options.offset ?? 0, options.ssim ?? false);
  for (const [set, tasks] of Object.entries(sets)) {
    for (const [task, s] of Object.entries(tasks)) lines.push({ type: "eval", step, set, task, ...s, images: 3 });
  }
  lines.push({ type: "done", time: 1e12 + step, seconds: 812 });
  await writeFile(join(dir, "log.jsonl"), lines.map((l) => `${JSON.stringify(l)}\n`).join(""));

  const withImages = Object.fromEntries(
    Object.entries(sets).map(([set, tasks]) => [
      set,
      Object.fromEntries(Object.entries(tasks).map(([t, s]) => [t, { ...s, images: 3 }])),
    ]),
  );
  const metrics = {
    run: `${spec.name}-0123456789ab`,
    name: spec.name,
    profile: "quick",
    weights: "raw",
    adapter: "llvmpipe (LLVM 15.0.6, 256 bits) (fallback)",
    steps: step,
    seconds: 812,
    sets: withImages,
    prompt_selection: spec.prompt.kind === "explicit" ? "oracle" : "none",
    depth: "prior",
  };
  await writeFile(join(dir, "metrics.json"), `${JSON.stringify(metrics, null, 2)}\n`);
  if (options.samples ?? true) {
    for (const task of ["sr", "blur", "mild"]) {
      const row = (label: string) => ({
        label,
        lq: image(24, 16, 1),
        out: image(24, 16, 2),
        gt: image(24, 16, 3),
        lqPsnr: 20,
        outPsnr: 21.5,
      });
      await writeSampleGrid(
        join(dir, "samples", `${task}.png`),
        task === "mild" ? [row("Unknown")] : [row("In-Dis"), row("Out-Dis")],
      );
    }
  }
  return { dir, spec, sets };
}

function iterSum(spec: ExperimentSpec, k: number): number {
  return spec.curriculum.stages[k]?.iters ?? 0;
}
