import type { Command } from "commander";
import type { CheckResult } from "../../compiler/compile.js";
import { printNode } from "../../compiler/ir/node.js";
import { lowerTrainStep } from "../../compiler/lower/train-step.js";
import { compileProgram } from "../../compiler/passes/pipeline.js";
import { type Plan, PlanLimitError } from "../../compiler/plan/plan.js";
import { printSpec, specHash } from "../../compiler/schema/emit.js";
import type { ExperimentSpec } from "../../compiler/schema/experiment.js";
import { EXIT_USAGE, UsageError } from "../exit.js";
import { checkOrFail, pickExperiment, printDiagnostics } from "./check.js";

interface EmitContext {
  result: CheckResult;
  /** The experiment chosen with --experiment (or the file's only one); needed by spec and later stages. */
  spec: () => ExperimentSpec;
  /** Storage buffers one kernel may bind: the plan's fusion depends on it. */
  maxBindings: number;
}

/** What `--emit` can print; later compiler stages add their entries here. */
export const emitters: Record<string, (ctx: EmitContext) => string> = {
  ast: ({ result }) => `${JSON.stringify(result.program.root.ast, (k, v) => (k === "span" ? undefined : v), 2)}\n`,
  spec: ({ spec }) => printSpec(spec()),
  ir: ({ result, spec }) => {
    const step = lowerTrainStep(result.program, spec());
    const { g, outputs, updates } = step.program;
    const lines = g.nodes.map(printNode);
    for (const [name, n] of outputs) lines.push(`output ${name} = %${n.id}`);
    for (const u of updates) lines.push(`update ${String(u.target.attrs.name)} <- %${u.value.id}`);
    return `${lines.join("\n")}\n`;
  },
  wgsl: ({ result, spec, maxBindings }) => {
    let plan: Plan;
    try {
      plan = compileProgram(lowerTrainStep(result.program, spec()).program, { maxBindings });
    } catch (e) {
      // A plan too large for this many bindings is the settings' limit (as mioc run reports it), not a bug.
      if (!(e instanceof PlanLimitError)) throw e;
      throw new UsageError(
        e.message,
        `compile for the device's limit (--max-bindings 16 on lavapipe; 'mioc doctor' shows it), or use a smaller crop or batch`,
      );
    }
    const seen = new Set<string>();
    const parts: string[] = [];
    for (const k of plan.kernels) {
      if (seen.has(k.key)) continue;
      seen.add(k.key);
      parts.push(`// kernel ${k.name} (key ${k.key})\n${k.wgsl.trimEnd()}\n`);
    }
    const mib = (n: number) => (n / 2 ** 20).toFixed(1);
    parts.unshift(
      `// ${plan.kernels.length} dispatches, ${seen.size} distinct kernels for ${maxBindings} storage buffers per kernel; buffers ${mib(plan.peakBytes)} MiB (${mib(plan.unplannedBytes)} MiB without reuse)\n`,
    );
    return parts.join("\n");
  },
};

export function registerCompile(cli: Command): void {
  cli
    .command("compile")
    .description("compile a .mio file and print one stage of the result")
    .argument("<file>", "the .mio file")
    .requiredOption("--emit <stage>", `what to print: ${Object.keys(emitters).join(", ")}`)
    .option("--profile <name>", "apply a profile of the experiment (e.g. quick)")
    .option("--experiment <name>", "which experiment, when the file has several")
    .option(
      "--max-bindings <n>",
      "wgsl: storage buffers per kernel to compile for (mioc run uses its device's maxStorageBuffersPerShaderStage, which 'mioc doctor' shows)",
      "8",
    )
    .action((file: string, opts: { emit: string; profile?: string; experiment?: string; maxBindings: string }) => {
      const emit = emitters[opts.emit];
      if (!emit) throw new UsageError(`unknown --emit '${opts.emit}'`, `one of: ${Object.keys(emitters).join(", ")}`);
      const result = checkOrFail(file, opts.profile);
      if (printDiagnostics(result)) {
        process.exitCode = EXIT_USAGE;
        return;
      }
      const spec = () => {
        const s = pickExperiment(result, file, opts.experiment);
        process.stderr.write(`run id ${s.name}-${specHash(s)}\n`);
        return s;
      };
      const maxBindings = Number(opts.maxBindings);
      if (!Number.isInteger(maxBindings) || maxBindings < 4)
        throw new UsageError(`--max-bindings must be an integer of at least 4, got '${opts.maxBindings}'`);
      process.stdout.write(emit({ result, spec, maxBindings }));
    });
}
