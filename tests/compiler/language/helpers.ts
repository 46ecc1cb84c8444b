// One-line assertions for the .mio front end (docs/architecture.md, "Tests"): `expectParses(src, print?)` and
// `expectDiagnostic(src, "MIO4001 3:11 unknown task 'nosie'", hint?)`. Both run the whole front end (parse, modules,
// names, elaboration, tasks and experiments) through `checkFile` on in-memory text, so a test states what a user
// would see and nothing about how the compiler gets there.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { expect } from "vitest";
import { type CheckResult, checkFile } from "../../../compiler/compile.js";
import type { Decl, Expr, LayerPath, Setting, Stmt } from "../../../grammar/ast.js";
import { type Diagnostic, renderDiagnostic } from "../../../grammar/diagnostics.js";

export const repoRoot = join(import.meta.dirname, "..", "..", "..");

/** Where in-memory sources pretend to live: the repository root, so `use stdlib/...` works as in pipelines/. */
export const memoryFile = join(repoRoot, "in-memory.mio");

/**
 * Several files for one test (relative `use "./x.mio"` needs real files): written to a fresh temp folder; the first
 * entry is the file that is checked.
 */
export type Files = Record<string, string>;

export interface CheckOptions {
  profile?: string;
}

/** Runs the front end on `src` (text, or a set of files whose first entry is checked). */
export function check(src: string | Files, options: CheckOptions = {}): CheckResult & { root: string } {
  if (typeof src === "string") {
    return { ...checkFile(memoryFile, { text: src, profile: options.profile }), root: dirname(memoryFile) };
  }
  const dir = mkdtempSync(join(tmpdir(), "mio-lang-"));
  try {
    for (const [name, text] of Object.entries(src)) writeFileSync(join(dir, name), text);
    const main = Object.keys(src)[0] as string;
    return { ...checkFile(join(dir, main), { profile: options.profile }), root: dir };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A diagnostic in one line: `CODE line:col message`. Diagnostics in another file than the checked one name it:
 * `CODE b.mio:2:1 message` (relative to the temp folder of a multi-file test).
 */
export function showDiagnostic(d: Diagnostic, r: { program: CheckResult["program"]; root: string }): string {
  const where = `${d.span.start.line}:${d.span.start.col}`;
  const file = d.span.file === r.program.root.file ? "" : `${relative(r.root, fullPath(d.span.file))}:`;
  return `${d.code} ${file}${where} ${d.message}`;
}

function fullPath(file: string): string {
  return file.startsWith("/") ? file : join(process.cwd(), file);
}

/** Every diagnostic must render (with its caret line) without throwing. */
function renderAll(r: CheckResult): string[] {
  return r.diagnostics.map((d) => renderDiagnostic(d, r.program.sources.get(d.span.file)));
}

/**
 * `src` checks with no diagnostics at all; with `expectedAstPrint`, the root file's AST prints as given
 * (see `printAst`).
 * @example expectParses("use stdlib/tasks", "use stdlib/tasks");
 */
export function expectParses(src: string | Files, expectedAstPrint?: string, options: CheckOptions = {}): void {
  const r = check(src, options);
  expect(r.diagnostics.map((d) => showDiagnostic(d, r))).toEqual([]);
  if (expectedAstPrint !== undefined) expect(printAst(r.program.root.ast.decls)).toBe(expectedAstPrint);
}

/**
 * `src` gets exactly one diagnostic, and it reads `expected` (`CODE line:col message`; the message may be cut short,
 * it is compared as a prefix). With `hint`, the diagnostic's hint is exactly that.
 * @example expectDiagnostic("block B()(x) { return y }", "MIO2001 1:23 unknown name 'y'");
 */
export function expectDiagnostic(
  src: string | Files,
  expected: string,
  hint?: string,
  options: CheckOptions = {},
): Diagnostic {
  const r = check(src, options);
  const shown = r.diagnostics.map((d) => showDiagnostic(d, r));
  renderAll(r);
  expect(shown, "exactly one diagnostic").toHaveLength(1);
  expect(startsWith(shown[0] as string, expected), `${shown[0]}\n  should start with\n${expected}`).toBe(true);
  const d = r.diagnostics[0] as Diagnostic;
  if (hint !== undefined) expect(d.hint).toBe(hint);
  return d;
}

/** Like `expectDiagnostic` for a mistake that is reported more than once: all of them, in order, as prefixes. */
export function expectDiagnostics(src: string | Files, expected: string[], options: CheckOptions = {}): Diagnostic[] {
  const r = check(src, options);
  const shown = r.diagnostics.map((d) => showDiagnostic(d, r));
  renderAll(r);
  expect(shown).toHaveLength(expected.length);
  expected.forEach((e, i) => {
    expect(startsWith(shown[i] as string, e), `${shown[i]}\n  should start with\n${e}`).toBe(true);
  });
  return r.diagnostics;
}

/** The caret rendering of `src`'s first diagnostic, as `mioc check` prints it. */
export function rendered(src: string | Files, options: CheckOptions = {}): string {
  const r = check(src, options);
  return renderAll(r)[0] ?? "";
}

function startsWith(actual: string, expected: string): boolean {
  return actual.startsWith(expected);
}

// ---- AST printing: a compact, fully parenthesised form of the AST, so a test shows structure and precedence. ----

/**
 * Prints declarations one per line. Numbers print their value (`250k` → 250000), binary operators are parenthesised,
 * calls print `label: callee(args)(inputs)`, settings `key values { nested; ... }`.
 * @example printAst(parseMio("block B(c: int)(x) { return x + 1 }", "f").ast.decls)
 *   === "block B(c: int)(x) { return (x + 1) }"
 */
export function printAst(decls: Decl[]): string {
  return decls.map(printDecl).join("\n");
}

function printDecl(d: Decl): string {
  switch (d.kind) {
    case "use":
      return `use ${d.isFile ? JSON.stringify(d.path) : d.path}`;
    case "block":
    case "backbone": {
      const params = d.params.map((p) => `${p.name.text}: ${p.type.text}${p.default ? ` = ${expr(p.default)}` : ""}`);
      const inputs = d.inputs.map((i) => (i.type ? `${i.name.text}: ${i.type.text}` : i.name.text));
      return `${d.kind} ${d.name.text}(${params.join(", ")})(${inputs.join(", ")}) ${stmts(d.body)}`;
    }
    case "task":
    case "testset":
    case "experiment":
      return `${d.kind} ${d.name.text} ${settings(d.settings)}`;
  }
}

function stmts(body: Stmt[]): string {
  return body.length ? `{ ${body.map(stmt).join("; ")} }` : "{ }";
}

function stmt(s: Stmt): string {
  switch (s.kind) {
    case "assign":
      return `${s.target.text} = ${expr(s.value)}`;
    case "return":
      return `return ${expr(s.value)}`;
    case "for":
      return `for ${s.variable.text} in ${expr(s.range)} ${stmts(s.body)}`;
  }
}

function settings(list: Setting[]): string {
  return list.length ? `{ ${list.map(setting).join("; ")} }` : "{ }";
}

function setting(s: Setting): string {
  const values = s.values.map((v) => (v.name ? `${v.name.text}: ${expr(v.value)}` : expr(v.value)));
  return [s.key.text, values.join(", "), s.block ? settings(s.block) : ""].filter(Boolean).join(" ");
}

function path(p: LayerPath): string {
  return p.segments.map((s) => (s.index ? `${s.name}[${expr(s.index)}]` : s.name)).join(".");
}

function args(list: { name?: { text: string }; value: Expr }[]): string {
  return `(${list.map((a) => (a.name ? `${a.name.text}: ${expr(a.value)}` : expr(a.value))).join(", ")})`;
}

export function expr(e: Expr): string {
  switch (e.kind) {
    case "number":
      return String(e.value);
    case "string":
      return JSON.stringify(e.value);
    case "bool":
      return String(e.value);
    case "list":
      return `[${e.items.map(expr).join(", ")}]`;
    case "ref":
      return e.path.join(".");
    case "call":
      return `${e.label ? `${path(e.label)}: ` : ""}${e.callee.join(".")}${args(e.args)}${e.inputs ? args(e.inputs) : ""}`;
    case "site":
      return `site ${path(e.name)}${e.input ? `(${expr(e.input)})` : ""}`;
    case "binary":
      return `(${expr(e.left)} ${e.op} ${expr(e.right)})`;
    case "neg":
      return `-(${expr(e.operand)})`;
    case "range":
      return `${expr(e.from)}..${expr(e.to)}`;
    case "chain":
      return e.items.map(expr).join(" -> ");
    case "pipe":
      return `(${[e.head, ...e.stages].map(expr).join(" |> ")})`;
    case "labeled":
      return `${path(e.label)}: ${expr(e.expr)}`;
  }
}
