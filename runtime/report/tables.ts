// Score tables in the paper's layout (Table 3: SR, Blur, Noise, JPEG, Rain, Haze, Low-Light, Avg), as data first
// and then rendered as Markdown or HTML, so the terminal, report.md and report.html show the same cells.

import type { TaskScore } from "../run-folder.js";
import type { RunData } from "./run.js";

export interface Table {
  header: string[];
  rows: string[][];
  /** Footnotes printed under the table. */
  notes: string[];
}

/** A column: a task's name in metrics.json and its title (the spec's `title`, e.g. "Low-Light"). */
export interface Column {
  task: string;
  title: string;
}

/** Set names the paper uses, for row labels; any other set is shown by its own name. */
const SET_TITLES: Record<string, string> = { in_dist: "In-Dis", out_dist: "Out-Dis" };

/** `in_dist` → "In-Dis", `out_dist` → "Out-Dis"; other sets keep their names. */
export const setTitle = (set: string): string => SET_TITLES[set] ?? set;

/** Sets in report order: in_dist, out_dist, then the others as metrics.json lists them. */
export function orderedSets(run: RunData): string[] {
  const sets = Object.keys(run.metrics.sets);
  const known = Object.keys(SET_TITLES).filter((s) => sets.includes(s));
  return [...known, ...sets.filter((s) => !known.includes(s))];
}

/** The spec's tasks in order, then any task metrics.json scores that the spec does not list. */
export function columnsOf(runs: readonly RunData[]): Column[] {
  const cols: Column[] = [];
  const add = (task: string, title: string) => {
    if (!cols.some((c) => c.task === task)) cols.push({ task, title });
  };
  for (const r of runs) for (const t of r.spec.tasks) add(t.name, t.title);
  for (const r of runs)
    for (const tasks of Object.values(r.metrics.sets)) for (const t of Object.keys(tasks)) add(t, t);
  return cols;
}

/** A number for a cell: `null` (a PSNR of Infinity in JSON) is Infinity; absent is undefined. */
function value(s: TaskScore | undefined, key: "psnr" | "ssim" | "lq_psnr"): number | undefined {
  if (!s || s[key] === undefined) return undefined;
  const v = s[key];
  return v === null ? Number.POSITIVE_INFINITY : v;
}

/** A cell: fixed digits, "∞" for Infinity, "–" for a missing value. fmt(24.126, 2) === "24.13" */
export function fmt(v: number | undefined, digits: number): string {
  if (v === undefined) return "–";
  if (v === Number.POSITIVE_INFINITY) return "∞";
  return v.toFixed(digits);
}

/** The mean of the values present, and whether any were missing. Averages use unrounded values. */
export function average(values: (number | undefined)[]): { mean: number | undefined; partial: boolean } {
  const present = values.filter((v): v is number => v !== undefined);
  if (present.length === 0) return { mean: undefined, partial: true };
  return { mean: present.reduce((s, v) => s + v, 0) / present.length, partial: present.length < values.length };
}

/** One row: the per-task cells and the Avg cell, marked `*` when some task is missing. */
function scoreRow(
  label: string,
  values: (number | undefined)[],
  digits: number,
): { cells: string[]; partial: boolean } {
  const { mean, partial } = average(values);
  const avg = fmt(mean, digits) + (partial && mean !== undefined ? "*" : "");
  return { cells: [label, ...values.map((v) => fmt(v, digits)), avg], partial: partial && mean !== undefined };
}

/**
 * A run's PSNR (or SSIM) table: one row per test set, each followed for PSNR by the input's own PSNR (the LQ row,
 * the baseline a model must beat). Undefined when metrics.json has no value of that metric.
 *
 * @example markdownTable(scoreTable(run, "psnr")!)
 */
export function scoreTable(run: RunData, metric: "psnr" | "ssim"): Table | undefined {
  const cols = columnsOf([run]);
  const digits = metric === "psnr" ? 2 : 4;
  const rows: string[][] = [];
  let partial = false;
  let any = false;
  for (const set of orderedSets(run)) {
    const scores = run.metrics.sets[set] ?? {};
    const kinds: ["psnr" | "ssim" | "lq_psnr", string][] =
      metric === "psnr"
        ? [
            ["psnr", setTitle(set)],
            ["lq_psnr", `${setTitle(set)} input (LQ)`],
          ]
        : [["ssim", setTitle(set)]];
    for (const [key, label] of kinds) {
      const values = cols.map((c) => value(scores[c.task], key));
      if (values.every((v) => v === undefined)) continue;
      any ||= key === metric;
      const row = scoreRow(label, values, digits);
      partial ||= row.partial;
      rows.push(row.cells);
    }
  }
  if (!any) return undefined;
  const notes = partial ? ["* Average over the tasks measured; '–' marks a task this run did not evaluate."] : [];
  return { header: ["", ...cols.map((c) => c.title), "Avg"], rows, notes };
}

/** Row labels for several runs: the experiment name, made unique with the profile or the run id when needed. */
function runLabels(runs: readonly RunData[]): string[] {
  const names = runs.map((r) => r.metrics.name);
  return runs.map((r, i) => {
    if (names.filter((n) => n === names[i]).length === 1) return r.metrics.name;
    const profile = r.metrics.profile ?? r.spec.profile;
    const withProfile = `${r.metrics.name} (${profile ?? "full"})`;
    const clash = runs.filter(
      (o) => `${o.metrics.name} (${o.metrics.profile ?? o.spec.profile ?? "full"})` === withProfile,
    );
    return clash.length === 1 ? withProfile : r.id;
  });
}

/**
 * The comparison of several runs, as the paper's Table 3 with Table 4's Out-Dis average: a row per run (In-Dis PSNR
 * per task and its average, the Out-Dis average) and Ipv., the In-Dis average's gain over the first run. An "input
 * (LQ)" row comes first when all runs were measured on the same inputs (equal LQ PSNRs).
 *
 * @example markdownTable(comparisonTable([m, s, sEp, sAp]))
 */
export function comparisonTable(runs: readonly RunData[]): Table {
  const cols = columnsOf(runs);
  const header = ["Run", ...cols.map((c) => c.title), "Avg", "Out-Dis Avg", "Ipv."];
  const notes: string[] = [];
  let partial = false;
  const inAvg = (r: RunData, key: "psnr" | "lq_psnr") =>
    average(cols.map((c) => value(r.metrics.sets.in_dist?.[c.task], key)));
  const outAvg = (r: RunData, key: "psnr" | "lq_psnr") =>
    average(cols.map((c) => value(r.metrics.sets.out_dist?.[c.task], key)));

  const rows: string[][] = [];
  const lq = (r: RunData) => cols.map((c) => fmt(value(r.metrics.sets.in_dist?.[c.task], "lq_psnr"), 2)).join("|");
  const first = runs[0];
  if (
    first &&
    lq(first)
      .split("|")
      .some((v) => v !== "–") &&
    runs.every((r) => lq(r) === lq(first))
  ) {
    const values = cols.map((c) => value(first.metrics.sets.in_dist?.[c.task], "lq_psnr"));
    const row = scoreRow("input (LQ)", values, 2);
    const out = outAvg(first, "lq_psnr");
    rows.push([...row.cells, fmt(out.mean, 2) + (out.partial && out.mean !== undefined ? "*" : ""), ""]);
    partial ||= row.partial;
  }
  const base = first ? inAvg(first, "psnr").mean : undefined;
  runLabels(runs).forEach((label, i) => {
    const r = runs[i] as RunData;
    const values = cols.map((c) => value(r.metrics.sets.in_dist?.[c.task], "psnr"));
    const row = scoreRow(label, values, 2);
    const out = outAvg(r, "psnr");
    const mean = average(values).mean;
    const ipv =
      i === 0
        ? "baseline"
        : mean === undefined || base === undefined || !Number.isFinite(mean - base)
          ? "–"
          : `${mean - base >= 0 ? "+" : "-"}${Math.abs(mean - base).toFixed(2)}`;
    rows.push([...row.cells, fmt(out.mean, 2) + (out.partial && out.mean !== undefined ? "*" : ""), ipv]);
    partial ||= row.partial || (out.partial && out.mean !== undefined);
  });
  notes.push(
    "In-Dis PSNR (dB) per task; Avg and Out-Dis Avg are means over the tasks; Ipv. is Avg minus the first run's.",
  );
  if (partial) notes.push("* Average over the tasks measured; '–' marks a task a run did not evaluate.");
  return { header, rows, notes };
}

/** GitHub-flavoured Markdown: the first column left-aligned, numbers right-aligned. */
export function markdownTable(t: Table): string {
  const esc = (s: string) => s.replace(/\|/g, "\\|");
  const lines = [
    `| ${t.header.map(esc).join(" | ")} |`,
    `| ${t.header.map((_, i) => (i === 0 ? "---" : "---:")).join(" | ")} |`,
    ...t.rows.map((r) => `| ${r.map(esc).join(" | ")} |`),
  ];
  if (t.notes.length) lines.push("", ...t.notes);
  return `${lines.join("\n")}\n`;
}

/** Escapes text for HTML content and attribute values. escapeHtml("a<b") === "a&lt;b" */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/**
 * An HTML table (header row in thead), followed by its notes as paragraphs.
 *
 * @example htmlTable(scoreTable(run, "psnr")!)
 */
export function htmlTable(t: Table): string {
  const cells = (r: string[], tag: string) => r.map((c) => `<${tag}>${escapeHtml(c)}</${tag}>`).join("");
  const body = t.rows.map((r) => `<tr>${cells(r, "td")}</tr>`).join("\n");
  const notes = t.notes.map((n) => `<p class="note">${escapeHtml(n)}</p>`).join("\n");
  return `<table>\n<thead><tr>${cells(t.header, "th")}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>\n${notes}`;
}

/**
 * Classifier accuracy in percent: one row per test set, one column per task, and the average. Undefined when the
 * run has none.
 */
export function accuracyTable(run: RunData): Table | undefined {
  const acc = run.metrics.classifier_accuracy;
  if (!acc || Object.keys(acc).length === 0) return undefined;
  const cols = run.spec.tasks.map((t) => ({ task: t.name, title: t.title }));
  for (const tasks of Object.values(acc))
    for (const t of Object.keys(tasks)) if (!cols.some((c) => c.task === t)) cols.push({ task: t, title: t });
  const known = Object.keys(SET_TITLES).filter((s) => s in acc);
  const sets = [...known, ...Object.keys(acc).filter((s) => !known.includes(s))];
  const rows = sets.map((set) => {
    const values = cols.map((c) => acc[set]?.[c.task]);
    const { mean, partial } = average(values);
    return [
      setTitle(set),
      ...values.map((v) => fmt(v === undefined ? undefined : v * 100, 1)),
      `${fmt(mean === undefined ? undefined : mean * 100, 1)}${partial ? "*" : ""}`,
    ];
  });
  return {
    header: ["", ...cols.map((c) => c.title), "Avg"],
    rows,
    notes: [
      "Percent of each test set's LQ images whose task the classifier predicts (argmax over its classes); chance is " +
        `${(100 / Math.max(1, cols.length)).toFixed(1)}%.`,
    ],
  };
}
