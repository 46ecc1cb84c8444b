// The front end's entry points: check a file (every declaration in it and in what it uses) and compile an
// experiment to its resolved spec.
import { relative } from "node:path";
import type { CallableDecl, MioFile, SettingsDecl, Span } from "../grammar/ast.js";
import { codes, type Diagnostic, error } from "../grammar/diagnostics.js";
import { Elaborator, imageShape } from "./check/elaborate.js";
import { checkNames } from "./check/static.js";
import {
  defaultStdlibRoot,
  type LoadedProgram,
  type LoadOptions,
  loadProgram,
  type Module,
  withRealPaths,
} from "./program.js";
import { flattenExtends, profileNames, resolveExperiment } from "./resolve/experiment.js";
import type { DataRoots } from "./resolve/paths.js";
import { resolveTask } from "./resolve/tasks.js";
import { resolveTestset } from "./resolve/testsets.js";
import { Reader } from "./resolve/values.js";
import { printSpec, sha256, validateSpec } from "./schema/emit.js";
import type { ExperimentSpec } from "./schema/experiment.js";

export interface CheckOptions extends LoadOptions {
  /** Apply this profile to the root file's experiments. */
  profile?: string;
}

export interface CheckResult {
  program: LoadedProgram;
  diagnostics: Diagnostic[];
  /** Resolved specs of the root file's experiments (without errors), by experiment name. */
  specs: Map<string, ExperimentSpec>;
}

/** Content hash of a module: its AST without spans, so comments and layout do not change run ids. */
function moduleHash(ast: MioFile): string {
  return sha256(JSON.stringify(ast.decls, (k, v) => (k === "span" || k === "file" ? undefined : v)));
}

function sourceKey(mod: Module, root: string): string {
  const rel = relative(root, mod.absPath);
  return rel.startsWith("..") ? mod.file : rel;
}

/**
 * Checks `path` and the modules it uses; resolves the experiments of `path`.
 * @example const { diagnostics, specs } = checkFile("pipelines/seq_prompt.mio", { profile: "quick" });
 */
export function checkFile(path: string, options: CheckOptions = {}): CheckResult {
  const program = loadProgram(path, options);
  const diagnostics = [...program.diagnostics];
  const root = options.stdlibRoot ?? defaultStdlibRoot;
  const sources = Object.fromEntries(
    [...program.modules.values()].map((m) => [sourceKey(m, root), moduleHash(m.ast)]).sort(),
  );
  const specs = new Map<string, ExperimentSpec>();
  // Data paths are relative to the working directory, and may lie in the project, under it, or in an allowed root.
  const cwd = process.cwd();
  const dataRoots: DataRoots = {
    cwd,
    roots: withRealPaths([program.roots.project, cwd, ...program.roots.allowed]),
  };

  for (const mod of program.modules.values()) {
    for (const d of mod.ast.decls) {
      if (d.kind === "block" || d.kind === "backbone") checkCallable(d, mod, diagnostics);
      else if (d.kind === "task") resolveTask(d, diagnostics);
      else if (d.kind === "testset") resolveTestset(d, diagnostics);
      else if (d.kind === "experiment") {
        const isRoot = mod === program.root;
        const spec = checkExperiment(d, mod, diagnostics, sources, dataRoots, isRoot ? options.profile : undefined);
        if (spec && isRoot) specs.set(d.name.text, spec);
      }
    }
  }
  return { program, diagnostics: dropFollowOns(dedupe(diagnostics), program), specs };
}

/**
 * Number literals too large for a 64-bit float (`lrelu(1e999)`, `s: float = 1e999`) read as infinity: reported at the
 * literal, as settings report them (compiler/resolve/values.ts), instead of reaching a kernel.
 */
function checkFinite(node: unknown, diagnostics: Diagnostic[]): void {
  if (Array.isArray(node)) {
    for (const x of node) checkFinite(x, diagnostics);
    return;
  }
  if (node === null || typeof node !== "object") return;
  const n = node as { kind?: unknown; value?: unknown; text?: string; span?: Span };
  if (n.kind === "number" && typeof n.value === "number" && !Number.isFinite(n.value) && n.span) {
    diagnostics.push(
      error(
        codes.badValue,
        n.span,
        `${n.text ?? "this number"} is beyond a 64-bit float's range (about 1.8e308) and reads as infinity`,
        "write a finite number",
      ),
    );
    return;
  }
  for (const [k, v] of Object.entries(node)) if (k !== "span") checkFinite(v, diagnostics);
}

function checkCallable(d: CallableDecl, mod: Module, diagnostics: Diagnostic[]): void {
  const before = diagnostics.length;
  checkNames(d, mod.scope, diagnostics);
  checkFinite([d.params, d.body], diagnostics);
  // A backbone whose parameters all have defaults is elaborated as written, so its shapes are checked even when no
  // experiment uses it; blocks are elaborated through the backbones that call them.
  if (d.kind !== "backbone" || diagnostics.length !== before || d.params.some((p) => !p.default)) return;
  const el = new Elaborator(mod.scope);
  const bound = el.tryBind(d, [], d.name.span);
  if (!bound) {
    diagnostics.push(...el.diagnostics);
    return;
  }
  const inputs = d.inputs.map(() => ({ t: "tensor" as const, shape: imageShape() }));
  el.run(d, bound, inputs, "");
  diagnostics.push(...el.diagnostics);
}

function checkExperiment(
  d: SettingsDecl,
  mod: Module,
  diagnostics: Diagnostic[],
  sources: Record<string, string>,
  dataRoots: DataRoots,
  profile: string | undefined,
): ExperimentSpec | undefined {
  const spec = resolveExperiment(d, mod, diagnostics, { profile, sources, dataRoots });
  // Without --profile, every profile must resolve too, so `mioc check` catches a broken one.
  if (profile === undefined) {
    for (const p of profileNames(flattenExtends(d, mod, new Reader([])))) {
      resolveExperiment(d, mod, diagnostics, { profile: p, sources, dataRoots });
    }
  }
  if (!spec) return undefined;
  const problems = validateSpec(spec);
  for (const p of problems) {
    diagnostics.push(
      error(
        codes.schema,
        d.name.span,
        `the resolved spec is invalid at ${p.path}: ${p.message}`,
        "this is a bug in mio; please report it",
      ),
    );
  }
  return problems.length ? undefined : spec;
}

const syntaxCodes: string[] = [codes.syntax, codes.unexpectedCharacter];

/**
 * Drops errors that follow from another one rather than from the user's text (docs/language.md, "Diagnostics"):
 * - after a syntax error, recovery guessed: a declaration with one (from its start to the next declaration's) keeps
 *   only its syntax errors, and a file with one outside any declaration (a line the parser skipped, a lost `use`)
 *   keeps only its syntax errors; nothing may name recovery's `<missing>` placeholder;
 * - a misspelt setting whose did-you-mean names a required one (`modle` → `model`) is not also "needs a model".
 */
function dropFollowOns(ds: Diagnostic[], program: LoadedProgram): Diagnostic[] {
  const regions = new Map<string, { start: number; end: number }[]>();
  for (const mod of program.modules.values()) {
    const starts = mod.ast.decls.map((d) => d.span.start.offset).sort((a, b) => a - b);
    regions.set(
      mod.file,
      starts.map((start, i) => ({ start, end: starts[i + 1] ?? Number.POSITIVE_INFINITY })),
    );
  }
  const regionOf = (file: string, offset: number) =>
    regions.get(file)?.find((r) => offset >= r.start && offset < r.end);
  const brokenFiles = new Set<string>();
  const broken = new Set<{ start: number; end: number }>();
  for (const d of ds) {
    if (!syntaxCodes.includes(d.code)) continue;
    const r = regionOf(d.span.file, d.span.start.offset);
    if (r) broken.add(r);
    else brokenFiles.add(d.span.file);
  }
  const misspelt = new Set<string>();
  for (const d of ds) {
    const meant = d.code === codes.unknownSetting ? /^did you mean '(\w+)'\?$/.exec(d.hint ?? "")?.[1] : undefined;
    const r = regionOf(d.span.file, d.span.start.offset);
    if (meant && r) misspelt.add(`${d.span.file}:${r.start}:${meant}`);
  }
  const followsOn = (span: Diagnostic["span"]) => {
    const r = regionOf(span.file, span.start.offset);
    return brokenFiles.has(span.file) || (r !== undefined && broken.has(r));
  };
  return ds.filter((d) => {
    if (syntaxCodes.includes(d.code)) return true;
    if (d.message.includes("<missing>") || followsOn(d.span) || d.notes?.some((n) => followsOn(n.span))) return false;
    const needs = d.code === codes.missingSetting ? / needs an? (\w+)$/.exec(d.message)?.[1] : undefined;
    const r = regionOf(d.span.file, d.span.start.offset);
    return !(needs && r && misspelt.has(`${d.span.file}:${r.start}:${needs}`));
  });
}

function dedupe(ds: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return ds.filter((d) => {
    const key = `${d.code}|${d.span.file}|${d.span.start.offset}|${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export { printSpec };
