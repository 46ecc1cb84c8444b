import { join } from "node:path";
import type { Command } from "commander";
import { loadClassifier, promptSelection } from "../../runtime/eval/classifier.js";
import { evaluateExperiment } from "../../runtime/eval/experiment.js";
import { readModelWeights } from "../../runtime/exec/weights.js";
import {
  accuracyTable,
  confusionTables,
  markdownTable,
  scoreTable,
  unknownTable,
} from "../../runtime/report/tables.js";
import { acquireGpu } from "../../runtime/webgpu/device.js";
import { EXIT_USAGE, UsageError } from "../exit.js";
import { checkOrFail, pickExperiment, printDiagnostics } from "./check.js";

const GROUPS = ["in_dist", "out_dist", "unknown"];

export function registerEval(cli: Command): void {
  cli
    .command("eval")
    .description(
      "evaluate weights on an experiment's test sets and print the PSNR/SSIM table (a classifier's: its accuracy)",
    )
    .argument("<file>", "the .mio experiment (its model, prompts, test data and metrics)")
    .requiredOption("--weights <path>", "a checkpoint folder of 'mioc run', or a .safetensors of parameters")
    .option("--profile <name>", "apply a profile (the model must match the weights)")
    .option("--experiment <name>", "which experiment, when the file has several")
    .option("--sets <names>", "comma-separated test set groups (in_dist,out_dist,unknown); default: the spec's")
    .option("--ema", "evaluate the EMA weights of a checkpoint (default: the spec's eval.weights)")
    .option("--raw", "evaluate the raw weights of a checkpoint")
    .option("--out <dir>", "cache folder for the built test sets", "runs")
    .option("--classifier <ckpt>", "explicit prompts: a task classifier checkpoint picks each test image's prompt")
    .option("--oracle-task", "explicit prompts: give each test image its true task's prompt")
    .action(
      async (
        file: string,
        opts: {
          weights: string;
          profile?: string;
          experiment?: string;
          sets?: string;
          ema?: boolean;
          raw?: boolean;
          out: string;
          classifier?: string;
          oracleTask?: boolean;
        },
      ) => {
        const result = checkOrFail(file, opts.profile);
        if (printDiagnostics(result)) {
          process.exitCode = EXIT_USAGE;
          return;
        }
        const spec = pickExperiment(result, file, opts.experiment);
        if (opts.ema && opts.raw) throw new UsageError("choose --ema or --raw, not both");
        const which = opts.ema ? "ema" : opts.raw ? "raw" : spec.eval.weights;
        const groups = opts.sets?.split(",").map((s) => s.trim());
        for (const n of groups ?? [])
          if (!GROUPS.includes(n))
            throw new UsageError(`unknown test set group '${n}'`, "use in_dist, out_dist and/or unknown");
        const prompts = promptSelection(spec, opts);
        if (prompts.note) process.stderr.write(`${prompts.note}\n`);
        const weights = await readModelWeights(opts.weights, result.program, spec, which, true);
        const classifier = prompts.classifier
          ? await loadClassifier(prompts.classifier, result.program, spec)
          : undefined;
        const gpu = await acquireGpu();
        try {
          const r = await evaluateExperiment({
            gpu,
            program: result.program,
            spec,
            weights,
            which,
            cacheDir: join(opts.out, ".testsets"),
            ...(groups ? { groups } : {}),
            ...(classifier ? { classifier } : {}),
          });
          const run = {
            dir: opts.weights,
            id: spec.name,
            spec,
            metrics: { run: spec.name, name: spec.name, ...r.metrics },
            log: [],
          };
          for (const metric of ["psnr", "ssim"] as const) {
            const t = scoreTable(run, metric);
            if (t) process.stdout.write(`${metric.toUpperCase()} (${which} weights)\n${markdownTable(t)}\n\n`);
          }
          const unknown = unknownTable(run);
          if (unknown)
            process.stdout.write(`Out-Dis and Unknown PSNR (${which} weights)\n${markdownTable(unknown)}\n\n`);
          const acc = accuracyTable(run);
          if (acc) process.stdout.write(`Task classifier accuracy (%, ${which} weights)\n${markdownTable(acc)}\n\n`);
          for (const { title, table } of confusionTables(run))
            process.stdout.write(`${title}\n${markdownTable(table)}\n\n`);
        } finally {
          gpu.destroy();
        }
      },
    );
}
