// Diagnostics are data: a code, a span, a message, an optional hint. User mistakes are collected and returned,
// never thrown. Code ranges: 1xxx syntax, 2xxx names and types, 3xxx shapes, 4xxx tasks, curricula and prompts,
// 5xxx spec (schema) errors, 6xxx valid programs the compiler cannot build yet, 7xxx limits: a program larger than mio
// elaborates or resolves in bounded time.
import type { Span } from "./ast.js";

export const codes = {
  unexpectedCharacter: "MIO1001",
  syntax: "MIO1002",
  tooDeep: "MIO1003",
  unknownName: "MIO2001",
  unknownModule: "MIO2002",
  importCycle: "MIO2003",
  duplicate: "MIO2004",
  badArguments: "MIO2005",
  typeMismatch: "MIO2006",
  unknownSetting: "MIO2007",
  missingSetting: "MIO2008",
  badValue: "MIO2009",
  callDepth: "MIO2010",
  refusedModule: "MIO2011",
  moduleTooLarge: "MIO2012",
  refusedPath: "MIO2013",
  channelMismatch: "MIO3001",
  strideMismatch: "MIO3002",
  badOutput: "MIO3003",
  sizeMismatch: "MIO3004",
  unknownTask: "MIO4001",
  unmatchedSite: "MIO4002",
  badCurriculum: "MIO4003",
  badPrompt: "MIO4004",
  schema: "MIO5001",
  uncompilable: "MIO6001",
  tooLarge: "MIO7001",
  modelTooLarge: "MIO7002",
} as const;
export type DiagnosticCode = (typeof codes)[keyof typeof codes];

export interface Diagnostic {
  code: DiagnosticCode;
  severity: "error" | "warning";
  message: string;
  span: Span;
  hint?: string;
  notes?: { span: Span; message: string }[];
}

export function error(code: DiagnosticCode, span: Span, message: string, hint?: string): Diagnostic {
  return { code, severity: "error", span, message, ...(hint ? { hint } : {}) };
}

/** Edit distance counting a swap of neighbours as one edit (optimal string alignment), for did-you-mean hints. */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => d[i]?.[j] ?? 0;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, at(i - 2, j - 2) + 1);
      (d[i] as number[])[j] = v;
    }
  }
  return at(a.length, b.length);
}

/**
 * The closest candidate within a third of the word's length (at least 1, at most 3 edits), if any. A one-letter word
 * has none: any other letter is one edit away, so `f` would be "a misspelt `i`".
 */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  if (word.length < 2) return undefined;
  let best: string | undefined;
  let bestD = Math.min(3, Math.max(1, Math.floor(word.length / 3)));
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c.toLowerCase());
    if (d <= bestD && (best === undefined || d < bestD)) {
      best = c;
      bestD = d;
    }
  }
  return best;
}

export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const c = closest(word, candidates);
  return c === undefined ? undefined : `did you mean '${c}'?`;
}

/** The most characters of a source line a rendered diagnostic shows. */
const MAX_LINE = 160;

/**
 * Renders a diagnostic the way a compiler user expects:
 * ```
 * pipelines/x.mio:14:25 error MIO4001: unknown task 'nosie'
 *    14 |     order sr -> blur -> nosie -> jpeg
 *       |                         ^^^^^ did you mean 'noise'?
 * ```
 */
export function renderDiagnostic(d: Diagnostic, source: string | readonly string[] | undefined): string {
  const { start, end } = d.span;
  const head = `${d.span.file}:${start.line}:${start.col} ${d.severity} ${d.code}: ${d.message}`;
  const line = (typeof source === "string" ? source.split("\n") : source)?.[start.line - 1];
  if (line === undefined) return d.hint ? `${head}\n  hint: ${d.hint}` : head;
  const gutter = String(start.line).length + 1;
  const width = end.line === start.line ? Math.max(1, end.col - start.col) : Math.max(1, line.length - start.col + 1);
  // A long line (a 50,000-task order) is cut to a window from a little before the span, so each diagnostic prints
  // a bounded amount.
  const from = Math.max(0, start.col - 1 - 40);
  const to = Math.min(line.length, from + MAX_LINE);
  const text = `${from > 0 ? "..." : ""}${line.slice(from, to).replace(/\t/g, " ")}${to < line.length ? "..." : ""}`;
  const at = start.col - 1 - from + (from > 0 ? 3 : 0);
  const caret = `${" ".repeat(at)}${"^".repeat(Math.max(1, Math.min(width, to - (start.col - 1))))}`;
  const out = [
    head,
    `${" ".repeat(gutter - String(start.line).length)}${start.line} | ${text}`,
    `${" ".repeat(gutter)} | ${caret}${d.hint ? ` ${d.hint}` : ""}`,
  ];
  for (const n of d.notes ?? [])
    out.push(`  note: ${n.span.file}:${n.span.start.line}:${n.span.start.col}: ${n.message}`);
  return out.join("\n");
}

/** How many diagnostics `renderDiagnostics` shows before it only counts the rest. */
export const MAX_RENDERED = 100;

/**
 * Renders the first `max` diagnostics, then one line counting the rest: time linear in the diagnostics and the
 * sources (each source is split into lines once, not once per diagnostic; 20,000 diagnostics took 15 s).
 */
export function renderDiagnostics(
  ds: readonly Diagnostic[],
  sources: ReadonlyMap<string, string>,
  max = MAX_RENDERED,
): { rendered: string[]; more: number } {
  const lines = new Map<string, string[] | undefined>();
  const rendered = ds.slice(0, max).map((d) => {
    const file = d.span.file;
    if (!lines.has(file)) lines.set(file, sources.get(file)?.split("\n"));
    return renderDiagnostic(d, lines.get(file));
  });
  return { rendered, more: Math.max(0, ds.length - max) };
}
