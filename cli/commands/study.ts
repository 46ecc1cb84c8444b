import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import type { LoadedProgram } from "../../compiler/program.js";
import { isClassifier } from "../../compiler/schema/experiment.js";
import { writeFileAtomic } from "../../runtime/data/image.js";
import { writeOracleMetrics } from "../../runtime/eval/oracle.js";
import { RunFolderError } from "../../runtime/report/run.js";
import { loadStudy, STUDY_HEAD, studyMarkdown } from "../../runtime/report/study.js";
import { runExperiment } from "../../runtime/run-experiment.js";
import { planStudy, runStudy, type StudyRun, type StudyRunner } from "../../runtime/study.js";
import { acquireGpu, type Gpu } from "../../runtime/webgpu/device.js";
import { EXIT_INTERRUPTED, EXIT_USAGE, UsageError } from "../exit.js";
import { stopOnSignals } from "../stop.js";
import { checkOrFail, pickExperiment, printDiagnostics } from "./check.js";
import { checkOut } from "./report.js";
import { parseSeed, progressDisplay } from "./run.js";

interface StudyOptions {
  profile: string;
  seeds: string;
  out: string;
  classifierFile: string;
  md?: string;
  reportOnly?: boolean;
  workers?: number;
}

/** `--seeds 0,1,2`: distinct seeds, in the order given. */
export function parseSeeds(text: string): number[] {
  const parts = text.split(",").map((s) => s.trim());
  if (parts.some((p) => p === ""))
    throw new UsageError(`--seeds '${text}' has an empty entry`, "a comma-separated list of seeds, e.g. --seeds 0,1,2");
  const seeds = parts.map((p) => parseSeed(p, "--seeds entry"));
  const twice = seeds.find((s, i) => seeds.indexOf(s) !== i);
  if (twice !== undefined) throw new UsageError(`--seeds names seed ${twice} twice`, "list each seed once");
  return seeds;
}

/** Checks one file with the study's profile and returns its single experiment, or exits with its diagnostics. */
function compile(file: string, profile: string) {
  const result = checkOrFail(file, profile);
  if (printDiagnostics(result)) return undefined;
  return { file, spec: pickExperiment(result, file), program: result.program };
}

/** Trains through runExperiment, as `mioc run` does, and evaluates EP runs with the oracle task too. */
function deviceRunner(
  gpu: Gpu,
  programs: Map<string, LoadedProgram>,
  opts: StudyOptions,
  stopRequested: () => boolean,
): StudyRunner {
  const program = (run: StudyRun) => programs.get(run.file) as LoadedProgram;
  return {
    async train(run, resume) {
      const total = run.spec.curriculum.stages.reduce((n, s) => n + s.iters, 0);
      const r = await runExperiment({
        gpu,
        program: program(run),
        spec: run.spec,
        runsRoot: opts.out,
        resume,
        onEvent: progressDisplay(total),
        stopRequested,
        ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
        ...(run.classifier ? { classifier: run.classifier } : {}),
      });
      return r.finished;
    },
    async oracle(run) {
      const show = progressDisplay(0);
      await writeOracleMetrics({
        gpu,
        program: program(run),
        spec: run.spec,
        runDir: run.dir,
        cacheDir: join(opts.out, ".testsets"),
        onProgress: (done, total, what) => show({ type: "eval_progress", done, total, what }),
      });
    },
  };
}

export function registerStudy(cli: Command): void {
  cli
    .command("study")
    .description(
      "train each experiment with each seed (the task classifier once, for EP models), then print the paper's " +
        "Table 3/4 layout as mean ± sd over seeds, the paper's numbers and a verdict on each of its claims",
    )
    .argument("<files...>", "the .mio experiments (e.g. pipelines/srresnet_{m,s,m_ep,s_ep,m_ap,s_ap}.mio)")
    .option("--profile <name>", "the profile every experiment (and the classifier) is run with", "study")
    .option("--seeds <list>", "comma-separated seeds; each overrides the experiments' seed", "0,1,2")
    .option("--out <dir>", "folder for run folders", "runs")
    .option(
      "--classifier-file <file>",
      "the task classifier experiment, trained once for EP models",
      "pipelines/classifier.mio",
    )
    .option("--md <file.md>", "also write the tables to this Markdown file (new, or one an earlier study wrote)")
    .option("--report-only", "train nothing: print the tables from the run folders that are finished")
    .option("--workers <n>", "data loader threads (default: the spec's data.workers)", (v) => Number.parseInt(v, 10))
    .action(async (files: string[], opts: StudyOptions) => {
      const seeds = parseSeeds(opts.seeds);
      if (opts.md) checkOut(opts.md, "--md", [STUDY_HEAD], "mioc study");
      if (existsSync(opts.out) && !statSync(opts.out).isDirectory())
        throw new UsageError(`--out '${opts.out}' is a file`, "it names the folder that holds run folders");
      const twice = files.find((f, i) => files.indexOf(f) !== i);
      if (twice) throw new UsageError(`${twice} is named twice`, "name each experiment file once");
      const models = files.map((f) => compile(f, opts.profile));
      if (models.some((m) => m === undefined)) {
        process.exitCode = EXIT_USAGE;
        return;
      }
      const ok = models as NonNullable<(typeof models)[number]>[];
      for (const m of ok)
        if (isClassifier(m.spec))
          throw new UsageError(`${m.file} is a task classifier`, "the study trains it once itself: --classifier-file");
      const needsClassifier = ok.some((m) => m.spec.prompt.kind === "explicit");
      const classifier = needsClassifier ? compile(opts.classifierFile, opts.profile) : undefined;
      if (needsClassifier && !classifier) {
        process.exitCode = EXIT_USAGE;
        return;
      }
      if (classifier && !isClassifier(classifier.spec))
        throw new UsageError(`--classifier-file ${opts.classifierFile} is not a task classifier experiment`);
      const runs = planStudy({ models: ok, seeds, out: opts.out, ...(classifier ? { classifier } : {}) });

      if (!opts.reportOnly) {
        const programs = new Map([...ok, ...(classifier ? [classifier] : [])].map((m) => [m.file, m.program]));
        const stopRequested = stopOnSignals();
        const gpu = await acquireGpu();
        try {
          const runner = deviceRunner(gpu, programs, opts, stopRequested);
          const finished = await runStudy(runs, runner, { log: (l) => process.stderr.write(`${l}\n`) });
          if (!finished) {
            process.stderr.write("stopped; run the same command again to continue the study where it stopped\n");
            process.exitCode = EXIT_INTERRUPTED;
            return;
          }
        } finally {
          gpu.destroy();
        }
      }

      let text: string;
      try {
        const refs = runs.flatMap((r) => (r.seed === null ? [] : [{ name: r.spec.name, dir: r.dir, seed: r.seed }]));
        text = studyMarkdown(await loadStudy(refs), { profile: opts.profile, seeds, experiments: ok.length });
      } catch (e) {
        if (e instanceof RunFolderError) throw new UsageError(e.message, e.hint);
        throw e;
      }
      process.stdout.write(text);
      if (opts.md) {
        await writeFileAtomic(opts.md, text);
        process.stderr.write(`wrote ${opts.md}\n`);
      }
    });
}
