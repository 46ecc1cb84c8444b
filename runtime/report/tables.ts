// Score tables in the paper's layouts (Table 3: SR, Blur, Noise, JPEG, Rain, Haze, Low-Light, Avg; Table 4: Out-Dis
// Avg, the five Unknown sets, Unknown Avg), as data first and then rendered as Markdown or HTML, so the terminal,
// report.md and report.html show the same cells.

import type { TaskScore } from "../run-folder.js";
import type { RunData } from "./run.js";

/** How a cell stands out: above or below the input's value in its column (a report), or the best (a comparison). */
export type Mark = "gain" | "loss" | "best";

export interface Table {
  header: string[];
  rows: string[][];
  /** Per row and cell, how it stands out (absent: no cell does). */
  marks?: (Mark | undefined)[][];
  /** Footnotes printed under the table. */
  notes: string[];
}

/** The `eval sets` group of the Unknown testsets: its own table (Table 4), whose columns are testsets, not tasks. */
export const UNKNOWN = "unknown";

/** A column: a task's name in metrics.json and its title (the spec's `title`, e.g. "Low-Light"). */
export interface Column {
  task: string;
  title: string;
}

/** Set names the paper uses, for row labels; any other set is shown by its own name. */
const SET_TITLES: Record<string, string> = { in_dist: "In-Dis", out_dist: "Out-Dis", unknown: "Unknown" };

/** `in_dist` → "In-Dis", `out_dist` → "Out-Dis"; other sets keep their names. */
export const setTitle = (set: string): string => SET_TITLES[set] ?? set;

/** Sets in report order: in_dist, out_dist, unknown, then the others as metrics.json lists them. */
export function orderedSets(run: RunData): string[] {
  const sets = Object.keys(run.metrics.sets);
  const known = Object.keys(SET_TITLES).filter((s) => sets.includes(s));
  return [...known, ...sets.filter((s) => !known.includes(s))];
}

/** The spec's tasks in order, then any task metrics.json scores that the spec does not list (Unknown sets aside). */
export function columnsOf(runs: readonly RunData[]): Column[] {
  const cols: Column[] = [];
  const add = (task: string, title: string) => {
    if (!cols.some((c) => c.task === task)) cols.push({ task, title });
  };
  for (const r of runs) for (const t of r.spec.tasks) add(t.name, t.title);
  for (const r of runs)
    for (const [set, tasks] of Object.entries(r.metrics.sets))
      if (set !== UNKNOWN) for (const t of Object.keys(tasks)) add(t, t);
  return cols;
}

/** The Unknown group's columns: the spec's testsets in order, then any other set metrics.json scores there. */
export function unknownColumnsOf(runs: readonly RunData[]): Column[] {
  const cols: Column[] = [];
  const add = (task: string, title: string) => {
    if (!cols.some((c) => c.task === task)) cols.push({ task, title });
  };
  for (const r of runs) for (const t of r.spec.testsets) add(t.name, t.title);
  for (const r of runs) for (const t of Object.keys(r.metrics.sets[UNKNOWN] ?? {})) add(t, t);
  return cols;
}

/** A number for a cell: `null` (a PSNR of Infinity in JSON) is Infinity; absent is undefined. */
export function scoreValue(s: TaskScore | undefined, key: "psnr" | "ssim" | "lq_psnr"): number | undefined {
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
): { cells: string[]; values: (number | undefined)[]; partial: boolean } {
  const { mean, partial } = average(values);
  const avg = fmt(mean, digits) + (partial && mean !== undefined ? "*" : "");
  return {
    cells: [label, ...values.map((v) => fmt(v, digits)), avg],
    values: [...values, mean],
    partial: partial && mean !== undefined,
  };
}

/** A value at the 2 digits a PSNR cell shows, so that a mark never contradicts the cells (∞ stays ∞). */
const shown = (v: number) => (Number.isFinite(v) ? Math.round(v * 100) : v);

/** A cell against the input's: "gain" when it shows a higher value, "loss" a lower, nothing when they show equal. */
export function versusInput(v: number | undefined, input: number | undefined): Mark | undefined {
  if (v === undefined || input === undefined) return undefined;
  const [a, b] = [shown(v), shown(input)];
  return a > b ? "gain" : a < b ? "loss" : undefined;
}

/** Marks, per column, the rows whose value shows the highest (ties all marked); `skip` lists columns left alone. */
function markBest(values: (number | undefined)[][], skip: readonly number[] = []): (Mark | undefined)[][] {
  const width = Math.max(0, ...values.map((r) => r.length));
  const marks = values.map((r) => r.map((): Mark | undefined => undefined));
  for (let c = 0; c < width; c++) {
    if (skip.includes(c)) continue;
    const col = values.map((r) => r[c]).filter((v): v is number => v !== undefined && !Number.isNaN(v));
    if (col.length < 2) continue;
    const best = Math.max(...col.map(shown));
    values.forEach((r, i) => {
      const v = r[c];
      if (v !== undefined && shown(v) === best) (marks[i] as (Mark | undefined)[])[c] = "best";
    });
  }
  return marks;
}

const GAIN_NOTE = "▲: above the input (LQ) row's value, ▼: below it.";

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
  const marks: (Mark | undefined)[][] = [];
  let partial = false;
  let any = false;
  for (const set of orderedSets(run).filter((s) => s !== UNKNOWN)) {
    const scores = run.metrics.sets[set] ?? {};
    const lq = scoreRow(
      "",
      cols.map((c) => scoreValue(scores[c.task], "lq_psnr")),
      digits,
    ).values;
    const kinds: ["psnr" | "ssim" | "lq_psnr", string][] =
      metric === "psnr"
        ? [
            ["psnr", setTitle(set)],
            ["lq_psnr", `${setTitle(set)} input (LQ)`],
          ]
        : [["ssim", setTitle(set)]];
    for (const [key, label] of kinds) {
      const values = cols.map((c) => scoreValue(scores[c.task], key));
      if (values.every((v) => v === undefined)) continue;
      any ||= key === metric;
      const row = scoreRow(label, values, digits);
      partial ||= row.partial;
      rows.push(row.cells);
      marks.push([undefined, ...row.values.map((v, i) => (key === "psnr" ? versusInput(v, lq[i]) : undefined))]);
    }
  }
  if (!any) return undefined;
  const notes = metric === "psnr" ? [GAIN_NOTE] : [];
  if (partial) notes.push("* Average over the tasks measured; '–' marks a task this run did not evaluate.");
  return { header: ["", ...cols.map((c) => c.title), "Avg"], rows, marks, notes };
}

/**
 * A run's Out-Dis average and Unknown PSNRs in the paper's Table 4 layout, the output's row over the input's (each
 * output cell marked against the input's). Undefined when the run has no Unknown scores.
 */
export function unknownTable(run: RunData): Table | undefined {
  const cols = unknownColumnsOf([run]);
  const unknown = run.metrics.sets[UNKNOWN] ?? {};
  if (!cols.some((c) => unknown[c.task])) return undefined;
  const row = (label: string, key: "psnr" | "lq_psnr") => {
    const out = average(columnsOf([run]).map((c) => scoreValue(run.metrics.sets.out_dist?.[c.task], key)));
    const r = scoreRow(
      label,
      cols.map((c) => scoreValue(unknown[c.task], key)),
      2,
    );
    const outCell = fmt(out.mean, 2) + (out.partial && out.mean !== undefined ? "*" : "");
    const [name, ...rest] = r.cells;
    return {
      cells: [name as string, outCell, ...rest],
      values: [out.mean, ...r.values],
      partial: r.partial || out.partial,
    };
  };
  const output = row("output", "psnr");
  const input = row("input (LQ)", "lq_psnr");
  const notes = [
    'The Unknown sets are synthetic stand-ins for the paper\'s real ones (docs/data.md, "The Unknown group"); ' +
      "Out-Dis Avg is the Out-Dis row's average above.",
    GAIN_NOTE,
  ];
  if (output.partial || input.partial) notes.push("* Average over the sets measured; '–' marks one not evaluated.");
  return {
    header: ["", "Out-Dis Avg", ...cols.map((c) => c.title), "Unknown Avg"],
    rows: [output.cells, input.cells],
    marks: [[undefined, ...output.values.map((v, i) => versusInput(v, input.values[i]))], []],
    notes,
  };
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

/** "+0.40" / "-0.12": a gain over the first run's value; "–" when either is missing. */
function ipv(v: number | undefined, base: number | undefined): string {
  if (v === undefined || base === undefined || !Number.isFinite(v - base)) return "–";
  return `${v - base >= 0 ? "+" : "-"}${Math.abs(v - base).toFixed(2)}`;
}

/** A group's mean over its columns for one run, with the `*` of a partial average. */
function groupMean(r: RunData, set: string, cols: readonly Column[], key: "psnr" | "lq_psnr") {
  const a = average(cols.map((c) => scoreValue(r.metrics.sets[set]?.[c.task], key)));
  return { ...a, cell: fmt(a.mean, 2) + (a.partial && a.mean !== undefined ? "*" : "") };
}

/**
 * Builds a comparison: an "input (LQ)" row when every run was measured on the same inputs (equal LQ cells), then a
 * row per run; `cells(r, key)` gives a run's cells and their values, `ipvAt` the columns that get an Ipv. (gain over
 * the first run) after them. The best value of each column among the runs is marked.
 */
function comparison(
  runs: readonly RunData[],
  cells: (r: RunData, key: "psnr" | "lq_psnr") => { cells: string[]; values: (number | undefined)[] },
  ipvAfter: readonly number[],
): { rows: string[][]; marks: (Mark | undefined)[][] } {
  const withIpv = (c: { cells: string[]; values: (number | undefined)[] }, ipvs: string[]) => {
    const out: string[] = [];
    const values: (number | undefined)[] = [];
    c.cells.forEach((cell, i) => {
      out.push(cell);
      values.push(c.values[i]);
      const k = ipvAfter.indexOf(i);
      if (k >= 0) {
        out.push(ipvs[k] ?? "");
        values.push(undefined);
      }
    });
    return { cells: out, values };
  };
  const rows: string[][] = [];
  const marks: (Mark | undefined)[][] = [];
  const first = runs[0];
  const lq = (r: RunData) => cells(r, "lq_psnr").cells.join("|");
  if (first && cells(first, "lq_psnr").values.some((v) => v !== undefined) && runs.every((r) => lq(r) === lq(first))) {
    const c = withIpv(
      cells(first, "lq_psnr"),
      ipvAfter.map(() => ""),
    );
    rows.push(["input (LQ)", ...c.cells]);
    marks.push([]);
  }
  const base = first ? cells(first, "psnr").values : [];
  const values: (number | undefined)[][] = [];
  runLabels(runs).forEach((label, i) => {
    const c = cells(runs[i] as RunData, "psnr");
    const ipvs = ipvAfter.map((col) => (i === 0 ? "baseline" : ipv(c.values[col], base[col])));
    const w = withIpv(c, ipvs);
    rows.push([label, ...w.cells]);
    values.push([undefined, ...w.values]);
  });
  marks.push(...markBest(values));
  return { rows, marks };
}

/**
 * The comparison of several runs as the paper's Table 3: a row per run (In-Dis PSNR per task and its average) and
 * Ipv., the average's gain over the first run. An "input (LQ)" row comes first when all runs were measured on the
 * same inputs (equal LQ PSNRs); the best value of each column is marked.
 *
 * @example markdownTable(comparisonTable([m, s, sEp, sAp]))
 */
export function comparisonTable(runs: readonly RunData[]): Table {
  const cols = columnsOf(runs);
  const header = ["Run", ...cols.map((c) => c.title), "Avg", "Ipv."];
  let partial = false;
  const { rows, marks } = comparison(
    runs,
    (r, key) => {
      const row = scoreRow(
        "",
        cols.map((c) => scoreValue(r.metrics.sets.in_dist?.[c.task], key)),
        2,
      );
      partial ||= row.partial;
      return { cells: row.cells.slice(1), values: row.values };
    },
    [cols.length],
  );
  const notes = [
    "In-Dis PSNR (dB) per task; Avg is the mean over the tasks; Ipv. is Avg minus the first run's; the best value " +
      "of each column is in bold.",
  ];
  if (partial) notes.push("* Average over the tasks measured; '–' marks a task a run did not evaluate.");
  return { header, rows, marks, notes };
}

/**
 * The comparison of several runs as the paper's Table 4: the Out-Dis average and its Ipv., each Unknown set, the
 * Unknown average and its Ipv. Undefined when no run has Out-Dis or Unknown scores.
 *
 * @example markdownTable(unknownComparisonTable([m, sEp, sAp])!)
 */
export function unknownComparisonTable(runs: readonly RunData[]): Table | undefined {
  const tasks = columnsOf(runs);
  const cols = unknownColumnsOf(runs);
  if (!runs.some((r) => r.metrics.sets.out_dist || r.metrics.sets[UNKNOWN])) return undefined;
  const header = ["Run", "Out-Dis Avg", "Ipv.", ...cols.map((c) => c.title), "Unknown Avg", "Ipv."];
  let partial = false;
  const { rows, marks } = comparison(
    runs,
    (r, key) => {
      const out = groupMean(r, "out_dist", tasks, key);
      const unknown = scoreRow(
        "",
        cols.map((c) => scoreValue(r.metrics.sets[UNKNOWN]?.[c.task], key)),
        2,
      );
      partial ||= (out.partial && out.mean !== undefined) || unknown.partial;
      return { cells: [out.cell, ...unknown.cells.slice(1)], values: [out.mean, ...unknown.values] };
    },
    [0, cols.length + 1],
  );
  const notes = [
    "Out-Dis Avg is the mean Out-Dis PSNR (dB) over the tasks; the Unknown sets are synthetic stand-ins for the " +
      "paper's (docs/data.md, \"The Unknown group\"); each Ipv. is minus the first run's; the best value of each " +
      "column is in bold.",
  ];
  if (partial) notes.push("* Average over the sets measured; '–' marks a set a run did not evaluate.");
  return { header, rows, marks, notes };
}

/** A cell's text with its mark: "24.31 ▲" above the input, "21.90 ▼" below it, the best in bold (Markdown). */
const markedText: Record<Mark, (s: string) => string> = {
  gain: (s) => `${s} ▲`,
  loss: (s) => `${s} ▼`,
  best: (s) => `**${s}**`,
};

/** GitHub-flavoured Markdown: the first column left-aligned, numbers right-aligned, marked cells as above. */
export function markdownTable(t: Table): string {
  const esc = (s: string) => s.replace(/\|/g, "\\|");
  const cell = (r: number, c: number, s: string) => {
    const m = t.marks?.[r]?.[c];
    return m ? markedText[m](esc(s)) : esc(s);
  };
  const lines = [
    `| ${t.header.map(esc).join(" | ")} |`,
    `| ${t.header.map((_, i) => (i === 0 ? "---" : "---:")).join(" | ")} |`,
    ...t.rows.map((r, i) => `| ${r.map((s, j) => cell(i, j, s)).join(" | ")} |`),
  ];
  if (t.notes.length) lines.push("", ...t.notes);
  return `${lines.join("\n")}\n`;
}

/** Escapes text for HTML content and attribute values. escapeHtml("a<b") === "a&lt;b" */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/**
 * An HTML table (header row in thead), followed by its notes as paragraphs. A marked cell gets its class (`gain`,
 * `loss`, `best`, styled by the report's CSS) and the same arrow or bold as in Markdown.
 *
 * @example htmlTable(scoreTable(run, "psnr")!)
 */
export function htmlTable(t: Table): string {
  const html: Record<Mark, (s: string) => string> = {
    gain: (s) => `${s} ▲`,
    loss: (s) => `${s} ▼`,
    best: (s) => `<strong>${s}</strong>`,
  };
  const cells = (r: string[], tag: string, i?: number) =>
    r
      .map((c, j) => {
        const m = i === undefined ? undefined : t.marks?.[i]?.[j];
        return m ? `<${tag} class="${m}">${html[m](escapeHtml(c))}</${tag}>` : `<${tag}>${escapeHtml(c)}</${tag}>`;
      })
      .join("");
  const body = t.rows.map((r, i) => `<tr>${cells(r, "td", i)}</tr>`).join("\n");
  const notes = t.notes.map((n) => `<p class="note">${escapeHtml(n)}</p>`).join("\n");
  return `<table>\n<thead><tr>${cells(t.header, "th")}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>\n${notes}`;
}

/**
 * The classifier's confusion matrices, one per test set that has one (titled "Confusion, In-Dis"): a row per true
 * task, a column per predicted task, image counts (the diagonal is right).
 */
export function confusionTables(run: RunData): { title: string; table: Table }[] {
  const tasks = run.spec.tasks.map((t) => ({ task: t.name, title: t.title }));
  return Object.entries(run.metrics.classifier_confusion ?? {})
    .filter(([, m]) => Object.keys(m).length > 0)
    .map(([set, m]) => ({
      title: `Confusion, ${setTitle(set)}`,
      table: {
        header: ["true ↓ predicted →", ...tasks.map((t) => t.title)],
        rows: tasks
          .filter((t) => m[t.task])
          .map((t) => [t.title, ...tasks.map((p) => String(m[t.task]?.[p.task] ?? 0))]),
        notes: [`${setTitle(set)}: test images of each true task (row) by the task the classifier predicted (column).`],
      },
    }));
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
