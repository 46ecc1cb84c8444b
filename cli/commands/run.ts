import { existsSync, statSync } from "node:fs";
import type { Command } from "commander";
import type { ExperimentSpec } from "../../compiler/schema/experiment.js";
import { promptSelection } from "../../runtime/eval/classifier.js";
import { runExperiment } from "../../runtime/run-experiment.js";
import type { RunEvent } from "../../runtime/run-folder.js";
import { acquireGpu } from "../../runtime/webgpu/device.js";
import { EXIT_INTERRUPTED, EXIT_USAGE, UsageError } from "../exit.js";
import { stopOnSignals } from "../stop.js";
import { checkOrFail, pickExperiment, printDiagnostics } from "./check.js";

/** `--seed N`: an integer in the range `seed N` accepts in a .mio file (0..2^53-1). */
export function parseSeed(text: string, option = "--seed"): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n))
    throw new UsageError(`${option} '${text}' is not a seed`, "a seed is a whole number from 0 to 2^53-1");
  return n;
}

/**
 * The experiment with another seed: its weights' init, its data draws and its test sets' degradations change with
 * the spec, and so does its run id (the spec's hash), so each seed trains into a folder of its own.
 */
export function withSeed(spec: ExperimentSpec, seed: number | undefined): ExperimentSpec {
  return seed === undefined ? spec : { ...spec, seed };
}

/** A live status line on a terminal; plain lines otherwise (CI logs). */
export function progressDisplay(totalIters: number) {
  const tty = process.stderr.isTTY;
  let lastStage = "";
  let lastShown = "";
  // The recent rate, not the average since the start: the first iterations include compiling the kernels.
  const eta = (step: number, rate: number) => {
    const left = (totalIters - step) / Math.max(rate, 1e-9);
    return rate > 0 ? `${Math.floor(left / 60)}m${String(Math.round(left % 60)).padStart(2, "0")}s` : "?";
  };
  const line = (text: string, final = false) => {
    if (tty) process.stderr.write(`\r\x1b[2K${text}${final ? "\n" : ""}`);
    else process.stderr.write(`${text}\n`);
  };
  return (e: RunEvent) => {
    switch (e.type) {
      case "start": {
        const resumed = e.resumed_from !== null ? `, resuming at step ${e.resumed_from}` : "";
        const where = `${e.adapter}${e.fallback ? " (CPU fallback)" : ""}`;
        process.stderr.write(
          `run ${e.run} on ${where}: ${e.kernels} kernels, ${Number(e.step_gflop).toFixed(2)} GFLOP a step, ${Number(e.peak_mib).toFixed(1)} MiB${resumed}\n`,
        );
        break;
      }
      case "stage": {
        // lavapipe compiles each kernel at its first dispatch: on a cold shader cache the first step of a large plan
        // takes minutes with nothing else to show (docs/training.md, "Progress").
        const compiling = lastStage === "" ? " (the first steps compile the kernels)" : "";
        lastStage = `stage ${e.stage}/${e.stages} [${e.tasks.join(",")}]`;
        line(`${lastStage} starting${compiling}`, !tty);
        break;
      }
      case "train": {
        const rate = `${Number(e.its).toFixed(1)} it/s ${Number(e.gflops).toFixed(1)} GFLOP/s ETA ${eta(Number(e.step), Number(e.its))}`;
        line(
          `${lastStage} iter ${e.iter} loss ${Number(e.loss).toFixed(4)} lr ${Number(e.lr).toExponential(2)} ${rate}`,
        );
        break;
      }
      case "checkpoint":
        if (!tty) line(`checkpoint ${e.path}`);
        break;
      case "skipped":
        // A corrupt training image is skipped, not fatal; say so once per file, as the report does.
        for (const [i, f] of e.files.entries()) line(`skipped ${f}: ${e.reasons[i] ?? "unreadable"}`, true);
        break;
      case "eval_start":
        line("evaluating (the first tiles compile the forward kernels)", true);
        break;
      case "eval_progress": {
        // Off a terminal, one line per tenth of each phase keeps CI logs short.
        const [done, total] = [Number(e.done), Number(e.total)];
        const phase = e.what === "building test sets" ? "building test sets" : "evaluating";
        const tenth = `${phase}:${Math.floor((10 * done) / total)}`;
        const text = phase === "evaluating" ? `evaluating ${e.what} ${done}/${total}` : `${phase} ${done}/${total}`;
        if (tty || tenth !== lastShown) line(text, !tty || done === total);
        lastShown = tenth;
        break;
      }
      default:
        break;
    }
  };
}

export function registerRun(cli: Command): void {
  cli
    .command("run")
    .description(
      "train and evaluate an experiment; leaves runs/<name>-<hash>/ with logs, checkpoints, metrics and a report",
    )
    .argument("<file>", "the .mio experiment")
    .option("--profile <name>", "apply a profile (default: 'quick' on a CPU adapter when the experiment has one)")
    .option("--full", "use the experiment's own recipe even on a CPU adapter")
    .option("--experiment <name>", "which experiment, when the file has several")
    .option("--seed <n>", "override the experiment's seed (a new spec, so a new run folder)", (v) => parseSeed(v))
    .option("--out <dir>", "folder for run folders", "runs")
    .option("--resume", "continue the run from its last checkpoint")
    .option("--workers <n>", "data loader threads (default: the spec's data.workers)", (v) => Number.parseInt(v, 10))
    .option(
      "--classifier <ckpt>",
      "explicit prompts: a task classifier checkpoint (classifier.safetensors of a classifier run) picks each test image's prompt",
    )
    .option("--oracle-task", "explicit prompts: give each test image its true task's prompt, even with a classifier")
    .action(
      async (
        file: string,
        opts: {
          profile?: string;
          full?: boolean;
          experiment?: string;
          seed?: number;
          out: string;
          resume?: boolean;
          workers?: number;
          classifier?: string;
          oracleTask?: boolean;
        },
      ) => {
        // The file is checked before a GPU is asked for: a typo is reported as a typo, even without a driver.
        const plain = checkOrFail(file, opts.profile);
        if (printDiagnostics(plain)) {
          process.exitCode = EXIT_USAGE;
          return;
        }
        pickExperiment(plain, file, opts.experiment);
        if (existsSync(opts.out) && !statSync(opts.out).isDirectory())
          throw new UsageError(`--out '${opts.out}' is a file`, "it names the folder that holds run folders");
        const gpu = await acquireGpu();
        let profile = opts.profile;
        if (profile === undefined && !opts.full && gpu.report.isFallbackAdapter) {
          const hasQuick = [...plain.specs.values()].some((s) => s.profiles.includes("quick"));
          if (hasQuick) {
            profile = "quick";
            process.stderr.write(
              "The adapter is a CPU fallback (lavapipe): using --profile quick. Pass --full for the paper's recipe.\n",
            );
          }
        }
        const result = profile === opts.profile ? plain : checkOrFail(file, profile);
        if (printDiagnostics(result)) {
          gpu.destroy();
          process.exitCode = EXIT_USAGE;
          return;
        }
        const spec = withSeed(pickExperiment(result, file, opts.experiment), opts.seed);
        const stopRequested = stopOnSignals();
        const prompts = promptSelection(spec, opts);
        if (prompts.note) process.stderr.write(`${prompts.note}\n`);
        const total = spec.curriculum.stages.reduce((n, s) => n + s.iters, 0);
        const r = await runExperiment({
          gpu,
          program: result.program,
          spec,
          runsRoot: opts.out,
          resume: Boolean(opts.resume),
          onEvent: progressDisplay(total),
          stopRequested,
          ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
          ...(opts.classifier ? { classifier: opts.classifier } : {}),
          ...(opts.oracleTask ? { oracleTask: true } : {}),
        });
        gpu.destroy();
        if (!r.finished) {
          process.stderr.write(
            `stopped; continue with: mioc run ${file}${profile ? ` --profile ${profile}` : ""}${opts.seed !== undefined ? ` --seed ${opts.seed}` : ""} --resume\n`,
          );
          process.exitCode = EXIT_INTERRUPTED;
          return;
        }
        process.stdout.write(`${r.runDir}/report.md\n`);
      },
    );
}
