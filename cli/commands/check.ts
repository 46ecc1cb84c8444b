import { existsSync } from "node:fs";
import { delimiter } from "node:path";
import type { Command } from "commander";
import { type CheckResult, checkFile } from "../../compiler/compile.js";
import { ModuleNotFound, ModuleTooLarge } from "../../compiler/program.js";
import { UnknownProfile } from "../../compiler/resolve/experiment.js";
import type { ExperimentSpec } from "../../compiler/schema/experiment.js";
import { type Diagnostic, renderDiagnostics } from "../../grammar/diagnostics.js";
import { fileProblem } from "../../runtime/errors.js";
import { EXIT_USAGE, UsageError } from "../exit.js";

/**
 * Folders besides the project and the stdlib that a quoted `use` may load `.mio` files from and data paths may name:
 * MIO_ALLOW_ROOTS, separated like PATH (`:`; `;` on Windows), relative ones against the working directory.
 */
export function allowRootsFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.MIO_ALLOW_ROOTS ?? "").split(delimiter).filter((p) => p !== "");
}

/** Runs the front end on one file, turning "no such file" and "no such profile" into usage errors. */
export function checkOrFail(file: string, profile?: string): CheckResult {
  try {
    return checkFile(file, { profile, allowRoots: allowRootsFromEnv() });
  } catch (e) {
    if (e instanceof ModuleNotFound) {
      const hint = e.path.includes("*") ? "no file matches this pattern" : undefined;
      throw new UsageError(e.message, hint);
    }
    if (e instanceof ModuleTooLarge) throw new UsageError(e.message, "name the .mio file you meant");
    if (e instanceof UnknownProfile) throw new UsageError(e.message);
    // A file (or a module it uses) that exists but cannot be read: permissions, a folder.
    const err = e as NodeJS.ErrnoException;
    if (typeof err?.code === "string" && typeof err.path === "string")
      throw new UsageError(`cannot read '${err.path}': ${fileProblem(err)}`);
    throw e;
  }
}

/** The experiment a command runs: `--experiment NAME`, or the file's only one. */
export function pickExperiment(result: CheckResult, file: string, experiment?: string): ExperimentSpec {
  const names = [...result.specs.keys()];
  const name = experiment ?? (names.length === 1 ? names[0] : undefined);
  const spec = name === undefined ? undefined : result.specs.get(name);
  if (spec) return spec;
  if (experiment !== undefined)
    throw new UsageError(
      `no experiment '${experiment}' in ${file}`,
      names.length ? `experiments: ${names.join(", ")}` : undefined,
    );
  throw new UsageError(
    names.length ? `${file} has several experiments; choose one with --experiment` : `${file} declares no experiment`,
    names.length ? `experiments: ${names.join(", ")}` : undefined,
  );
}

export function diagnosticJson(d: Diagnostic) {
  return {
    file: d.span.file,
    line: d.span.start.line,
    col: d.span.start.col,
    endLine: d.span.end.line,
    endCol: d.span.end.col,
    code: d.code,
    severity: d.severity,
    message: d.message,
    ...(d.hint ? { hint: d.hint } : {}),
  };
}

/** Prints diagnostics for a person (carets, on stderr); returns how many are errors. */
export function printDiagnostics(result: CheckResult): number {
  writeDiagnostics(result.diagnostics, result.program.sources);
  return result.diagnostics.filter((d) => d.severity === "error").length;
}

/** The first MAX_RENDERED diagnostics with carets, then how many more there are (docs/language.md, "Diagnostics"). */
function writeDiagnostics(ds: readonly Diagnostic[], sources: ReadonlyMap<string, string>): void {
  const { rendered, more } = renderDiagnostics(ds, sources);
  for (const r of rendered) process.stderr.write(`${r}\n\n`);
  if (more) process.stderr.write(`... and ${more} more (mioc check --format json lists them all)\n\n`);
}

export function registerCheck(cli: Command): void {
  cli
    .command("check")
    .description("check .mio files: syntax, names, types, shapes, tasks, prompt wiring, curricula")
    .argument("<files...>", ".mio files to check (with the modules they use)")
    .option("--profile <name>", "also check the experiments with this profile applied")
    .option("--format <format>", "text (carets, for people) or json (for editors)", "text")
    .action((files: string[], opts: { profile?: string; format: string }) => {
      if (!["text", "json"].includes(opts.format))
        throw new UsageError(`unknown --format '${opts.format}'`, "use text or json");
      const all: Diagnostic[] = [];
      const seen = new Set<string>(); // a module several files use reports its mistakes once
      const results: CheckResult[] = [];
      for (const f of files) {
        if (!existsSync(f))
          throw new UsageError(`no such file: ${f}`, f.includes("*") ? "no file matches this pattern" : undefined);
        const r = checkOrFail(f, opts.profile);
        results.push(r);
        for (const d of r.diagnostics) {
          const key = diagnosticKey(d);
          if (!seen.has(key)) all.push(d);
          seen.add(key);
        }
      }
      const errors = all.filter((d) => d.severity === "error").length;
      if (opts.format === "json") {
        process.stdout.write(`${JSON.stringify({ files, errors, diagnostics: all.map(diagnosticJson) }, null, 2)}\n`);
      } else {
        const sources = new Map(results.flatMap((r) => [...r.program.sources]));
        writeDiagnostics(all, sources);
        const summary = errors ? `${errors} error${errors === 1 ? "" : "s"}` : "no errors";
        process.stdout.write(`checked ${files.length} file${files.length === 1 ? "" : "s"}: ${summary}\n`);
      }
      if (errors) process.exitCode = EXIT_USAGE;
    });
}

function diagnosticKey(d: Diagnostic): string {
  return `${d.code}|${d.span.file}|${d.span.start.offset}|${d.message}`;
}
