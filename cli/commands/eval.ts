import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { stateNames } from "../../compiler/autodiff/optim.js";
import { initialParams } from "../../compiler/ir/builder.js";
import { lowerModel } from "../../compiler/lower/model.js";
import { evaluate } from "../../runtime/eval/evaluate.js";
import { readSafetensors } from "../../runtime/interop/safetensors.js";
import { markdownTable, scoreTable } from "../../runtime/report/tables.js";
import { promptMaps } from "../../runtime/train/prompts.js";
import { acquireGpu } from "../../runtime/webgpu/device.js";
import { EXIT_USAGE, UsageError } from "../exit.js";
import { checkOrFail, printDiagnostics } from "./check.js";

/** A checkpoint folder (its state.safetensors) or a safetensors file of parameters with PyTorch names. */
function weightsFile(path: string): string {
  if (!existsSync(path)) throw new UsageError(`no such checkpoint: ${path}`);
  if (!statSync(path).isDirectory()) return path;
  const inside = join(path, "state.safetensors");
  if (existsSync(inside)) return inside;
  const latest = join(path, "checkpoints", "latest");
  if (existsSync(latest))
    throw new UsageError(
      `${path} is a run folder`,
      `pass one of its checkpoints, e.g. ${join(path, "checkpoints", "<step-N>")}`,
    );
  throw new UsageError(`${path} holds no state.safetensors`);
}

export function registerEval(program: Command): void {
  program
    .command("eval")
    .description("evaluate weights on an experiment's test sets and print the PSNR/SSIM table")
    .argument("<file>", "the .mio experiment (its model, prompts, test data and metrics)")
    .requiredOption("--weights <path>", "a checkpoint folder of 'mioc run', or a .safetensors of parameters")
    .option("--profile <name>", "apply a profile (the model must match the weights)")
    .option("--sets <names>", "comma-separated test set groups (in_dist,out_dist); default: the spec's")
    .option("--ema", "evaluate the EMA weights of a checkpoint (default: the spec's eval.weights)")
    .option("--raw", "evaluate the raw weights of a checkpoint")
    .option("--out <dir>", "cache folder for the built test sets", "runs")
    .action(
      async (
        file: string,
        opts: { weights: string; profile?: string; sets?: string; ema?: boolean; raw?: boolean; out: string },
      ) => {
        const result = checkOrFail(file, opts.profile);
        if (printDiagnostics(result)) {
          process.exitCode = EXIT_USAGE;
          return;
        }
        const [spec, more] = [...result.specs.values()];
        if (!spec || more) throw new UsageError(`${file} must declare exactly one experiment`);
        if (opts.ema && opts.raw) throw new UsageError("choose --ema or --raw, not both");
        const which = opts.ema ? "ema" : opts.raw ? "raw" : spec.eval.weights;
        if (opts.sets) {
          const names = opts.sets.split(",").map((s) => s.trim());
          for (const n of names)
            if (n !== "in_dist" && n !== "out_dist")
              throw new UsageError(`unknown test set group '${n}'`, "use in_dist and/or out_dist");
          spec.eval.sets = names.map((name) => ({ name, path: null }));
        }
        const { tensors } = await readSafetensors(weightsFile(opts.weights));
        // The parameter names the experiment's model needs (a tiny lowering; only names and shapes are used).
        const params = [
          ...initialParams(lowerModel(result.program, spec, { batch: 1, height: 16, width: 16 }).b).entries(),
        ];
        const weights = new Map<string, Float32Array>();
        for (const [name, init] of params) {
          const t = tensors[which === "ema" ? stateNames(name).ema : name] ?? tensors[name];
          if (!t)
            throw new UsageError(
              `${opts.weights} has no '${which === "ema" ? stateNames(name).ema : name}'`,
              "is it a checkpoint of this experiment and profile?",
            );
          if (t.data.length !== init.length)
            throw new UsageError(
              `'${name}' has ${t.data.length} values in ${opts.weights}; the model needs ${init.length}`,
              "check --profile",
            );
          weights.set(name, t.data);
        }
        const gpu = await acquireGpu();
        try {
          const prompts = await promptMaps(spec);
          const r = await evaluate({
            gpu,
            program: result.program,
            spec: { ...spec, eval: { ...spec.eval, weights: which } },
            weights,
            cacheDir: join(opts.out, ".testsets"),
            ...(prompts ? { prompts } : {}),
          });
          const run = {
            dir: opts.weights,
            id: spec.name,
            spec,
            metrics: { run: spec.name, name: spec.name, weights: which, sets: r.sets },
            log: [],
          };
          for (const metric of ["psnr", "ssim"] as const) {
            const t = scoreTable(run, metric);
            if (t) process.stdout.write(`${metric.toUpperCase()} (${which} weights)\n${markdownTable(t)}\n\n`);
          }
        } finally {
          gpu.destroy();
        }
      },
    );
}
