import type { Command } from "commander";
import type { CheckResult } from "../../compiler/compile.js";
import { printSpec, specHash } from "../../compiler/spec/emit.js";
import type { ExperimentSpec } from "../../compiler/spec/experiment.js";
import { EXIT_USAGE, UsageError } from "../exit.js";
import { checkOrFail, printDiagnostics } from "./check.js";

interface EmitContext {
  result: CheckResult;
  /** The experiment chosen with --experiment (or the file's only one); needed by spec and later stages. */
  spec: () => ExperimentSpec;
}

/** What `--emit` can print; later compiler stages add their entries here. */
export const emitters: Record<string, (ctx: EmitContext) => string> = {
  ast: ({ result }) => `${JSON.stringify(result.program.root.ast, (k, v) => (k === "span" ? undefined : v), 2)}\n`,
  spec: ({ spec }) => printSpec(spec()),
};

export function registerCompile(program: Command): void {
  program
    .command("compile")
    .description("compile a .mio file and print one stage of the result")
    .argument("<file>", "the .mio file")
    .requiredOption("--emit <stage>", `what to print: ${Object.keys(emitters).join(", ")}`)
    .option("--profile <name>", "apply a profile of the experiment (e.g. quick)")
    .option("--experiment <name>", "which experiment, when the file has several")
    .action((file: string, opts: { emit: string; profile?: string; experiment?: string }) => {
      const emit = emitters[opts.emit];
      if (!emit) throw new UsageError(`unknown --emit '${opts.emit}'`, `one of: ${Object.keys(emitters).join(", ")}`);
      const result = checkOrFail(file, opts.profile);
      if (printDiagnostics(result)) {
        process.exitCode = EXIT_USAGE;
        return;
      }
      const spec = () => {
        const names = [...result.specs.keys()];
        const name = opts.experiment ?? (names.length === 1 ? names[0] : undefined);
        const s = name === undefined ? undefined : result.specs.get(name);
        if (!s) {
          const why = names.length
            ? `choose one with --experiment: ${names.join(", ")}`
            : "the file declares no experiment";
          throw new UsageError(
            opts.experiment ? `no experiment '${opts.experiment}' in ${file}` : `${file}: ${why}`,
            names.length ? `experiments: ${names.join(", ")}` : undefined,
          );
        }
        process.stderr.write(`run id ${s.name}-${specHash(s)}\n`);
        return s;
      };
      process.stdout.write(emit({ result, spec }));
    });
}
