// A study's result: each recipe's runs over seeds in the paper's Table 3 and Table 4 layouts (mean ± standard
// deviation over seeds, the standard error of each average), the paper's rows beside them, and a verdict on each of
// the paper's claims the study can test. docs/training.md, "The study", says how verdicts are decided.

import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { ORACLE_METRICS } from "../eval/oracle.js";
import {
  PAPER_OUTDIS_AVG,
  PAPER_TABLE3,
  PAPER_TASKS,
  PAPER_UNKNOWN,
  PAPER_UNKNOWN_SETS,
  paperVariant,
} from "./paper.js";
import { checkMetrics, loadRun, type RunData } from "./run.js";
import {
  average,
  type Column,
  columnsOf,
  markdownTable,
  scoreValue,
  setTitle,
  type Table,
  UNKNOWN,
  unknownColumnsOf,
} from "./tables.js";

/** The first line of a study's Markdown, by which `mioc study --md` knows a file it may replace. */
export const STUDY_HEAD = "# mioc study";

/** How an explicit-prompt model's test images got their prompts; "none" for the other models. */
export type Selection = "classifier" | "oracle" | "none";

/** One row of the study: one experiment, evaluated one way, over the seeds it has results for. */
export interface StudyRow {
  /** The paper's name for the recipe (`SRResNet-S+EP`), else the experiment's name. */
  label: string;
  variant: string | undefined;
  name: string;
  selection: Selection;
  /** The seeds the study asked for; `runs` has those that finished. */
  planned: number;
  runs: { seed: number; run: RunData }[];
}

/** A planned model run: its folder and its seed. */
export interface StudyRunRef {
  name: string;
  dir: string;
  seed: number;
}

/**
 * Reads the finished runs among `refs` (metrics.json, and an EP run's metrics-oracle.json) into rows: one per
 * experiment and prompt selection, in the order the experiments come. Runs not finished yet are left out.
 */
export async function loadStudy(refs: readonly StudyRunRef[]): Promise<StudyRow[]> {
  const rows = new Map<string, StudyRow>();
  const planned = new Map<string, number>();
  for (const r of refs) planned.set(r.name, (planned.get(r.name) ?? 0) + 1);
  const add = (ref: StudyRunRef, run: RunData) => {
    const selection: Selection =
      run.spec.prompt.kind === "explicit" ? (run.metrics.prompt_selection ?? "oracle") : "none";
    const key = `${run.spec.name}|${selection}`;
    let row = rows.get(key);
    if (!row) {
      const variant = paperVariant(run.spec);
      const label = `${variant ?? run.spec.name}${selection === "none" ? "" : ` (${selection})`}`;
      row = { label, variant, name: run.spec.name, selection, planned: planned.get(ref.name) ?? 0, runs: [] };
      rows.set(key, row);
    }
    row.runs.push({ seed: ref.seed, run });
  };
  for (const ref of refs) {
    if (!existsSync(join(ref.dir, "metrics.json"))) continue;
    const run = await loadRun(ref.dir, { log: false });
    add(ref, run);
    const oracle = join(ref.dir, ORACLE_METRICS);
    if (existsSync(oracle)) {
      const metrics = checkMetrics(ref.dir, JSON.parse(await readFile(oracle, "utf8")));
      add(ref, { ...run, metrics });
    }
  }
  // Rows in the order of the refs' experiments; an EP experiment's classifier row before its oracle row.
  const order = [...new Set(refs.map((r) => r.name))];
  const rank = (s: Selection) => ["none", "classifier", "oracle"].indexOf(s);
  return [...rows.values()].sort(
    (a, b) => order.indexOf(a.name) - order.indexOf(b.name) || rank(a.selection) - rank(b.selection),
  );
}

/** Mean, sample standard deviation and standard error of the mean (sd / √n); sd and se need two values. */
export interface Stat {
  n: number;
  mean: number | undefined;
  sd: number | undefined;
  se: number | undefined;
}

export function stat(values: readonly number[]): Stat {
  const n = values.length;
  if (n === 0) return { n, mean: undefined, sd: undefined, se: undefined };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { n, mean, sd: undefined, se: undefined };
  const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1));
  return { n, mean, sd, se: sd / Math.sqrt(n) };
}

/** The measures of one run, by key: `in:<task>`, `in:avg`, `out:avg`, `unk:<set>`, `unk:avg`. */
type Measures = Record<string, number | undefined>;

function measures(run: RunData, key: "psnr" | "lq_psnr", cols: readonly Column[], unk: readonly Column[]): Measures {
  const sets = run.metrics.sets;
  const m: Measures = {};
  const inDis = cols.map((c) => scoreValue(sets.in_dist?.[c.task], key));
  cols.forEach((c, i) => {
    m[`in:${c.task}`] = inDis[i];
  });
  m["in:avg"] = average(inDis).mean;
  m["out:avg"] = average(cols.map((c) => scoreValue(sets.out_dist?.[c.task], key))).mean;
  const unknown = unk.map((c) => scoreValue(sets[UNKNOWN]?.[c.task], key));
  unk.forEach((c, i) => {
    m[`unk:${c.task}`] = unknown[i];
  });
  m["unk:avg"] = unknown.some((v) => v !== undefined) ? average(unknown).mean : undefined;
  return m;
}

const finite = (v: number | undefined): v is number => v !== undefined && Number.isFinite(v);

/** "29.52 ± 0.12" over several seeds, "29.52" for one, "–" for none. */
function meanSd(s: Stat): string {
  if (s.mean === undefined) return "–";
  return s.sd === undefined ? s.mean.toFixed(2) : `${s.mean.toFixed(2)} ± ${s.sd.toFixed(2)}`;
}

const seText = (s: Stat) => (s.se === undefined ? "–" : s.se.toFixed(2));

/** A row's statistic of one measure over its seeds. */
function rowStat(row: StudyRow, key: string, cols: readonly Column[], unk: readonly Column[]): Stat {
  return stat(row.runs.map((r) => measures(r.run, "psnr", cols, unk)[key]).filter(finite));
}

/** The input's (LQ) statistic of one measure: one value per seed (every run of a seed sees the same inputs). */
function inputStat(rows: readonly StudyRow[], key: string, cols: readonly Column[], unk: readonly Column[]): Stat {
  const bySeed = new Map<number, number>();
  for (const row of rows)
    for (const r of row.runs) {
      const v = measures(r.run, "lq_psnr", cols, unk)[key];
      if (!bySeed.has(r.seed) && finite(v)) bySeed.set(r.seed, v);
    }
  return stat([...bySeed.values()]);
}

/** The paper's value of a measure for a recipe; undefined where its tables have none. */
function paperValue(variant: string | undefined, key: string): number | undefined {
  if (!variant) return undefined;
  const [group, what] = key.split(":") as [string, string];
  if (group === "in") {
    const row = PAPER_TABLE3[variant];
    // The average is the mean of the task cells (the paper's Avg column, before its rounding).
    if (!row) return undefined;
    const tasks = row.slice(0, PAPER_TASKS.length);
    return what === "avg" ? tasks.reduce((a, b) => a + b, 0) / tasks.length : row[PAPER_TASKS.indexOf(what as never)];
  }
  if (group === "out") return PAPER_OUTDIS_AVG[variant];
  const row = PAPER_UNKNOWN[variant];
  if (!row) return undefined;
  const sets = row.slice(0, PAPER_UNKNOWN_SETS.length);
  return what === "avg"
    ? sets.reduce((a, b) => a + b, 0) / sets.length
    : row[PAPER_UNKNOWN_SETS.indexOf(what as never)];
}

/** A table of rows of measures: per row "mean ± sd" cells and, after each key in `withSe`, its standard error. */
function studyTable(
  rows: readonly StudyRow[],
  columns: readonly { key: string; title: string }[],
  withSe: readonly string[],
  cols: readonly Column[],
  unk: readonly Column[],
  notes: string[],
): Table {
  const header = ["", "Seeds"];
  for (const c of columns) header.push(c.title, ...(withSe.includes(c.key) ? ["SE"] : []));
  const line = (label: string, seeds: string, cell: (key: string) => [string, string]) => {
    const out = [label, seeds];
    for (const c of columns) {
      const [v, se] = cell(c.key);
      out.push(v, ...(withSe.includes(c.key) ? [se] : []));
    }
    return out;
  };
  const body: string[][] = [];
  const input = columns.map((c) => inputStat(rows, c.key, cols, unk));
  if (input.some((s) => s.n > 0))
    body.push(
      line("input (LQ)", String(Math.max(...input.map((s) => s.n))), (k) => {
        const s = input[columns.findIndex((c) => c.key === k)] as Stat;
        return [meanSd(s), seText(s)];
      }),
    );
  rows.forEach((row, i) => {
    body.push(
      line(row.label, `${row.runs.length}/${row.planned}`, (k) => {
        const s = rowStat(row, k, cols, unk);
        return [meanSd(s), seText(s)];
      }),
    );
    // The paper's row once per recipe, after its last row, where the paper has a value in these columns.
    const last = rows[i + 1]?.variant !== row.variant || rows[i + 1]?.name !== row.name;
    const paper = columns.map((c) => paperValue(row.variant, c.key));
    if (last && row.variant && paper.some((v) => v !== undefined))
      body.push(
        line(`${row.variant} (paper)`, "", (k) => {
          const v = paper[columns.findIndex((c) => c.key === k)];
          return [v === undefined ? "–" : v.toFixed(2), ""];
        }),
      );
  });
  return { header, rows: body, notes };
}

/** The Table 3 layout: In-Dis PSNR per task and its average, with the average's standard error. */
export function studyInDisTable(rows: readonly StudyRow[]): Table {
  const runs = rows.flatMap((r) => r.runs.map((x) => x.run));
  const cols = columnsOf(runs);
  const unk = unknownColumnsOf(runs);
  const columns = [...cols.map((c) => ({ key: `in:${c.task}`, title: c.title })), { key: "in:avg", title: "Avg" }];
  return studyTable(rows, columns, ["in:avg"], cols, unk, [
    "In-Dis PSNR (dB): mean ± standard deviation over the seeds; SE is the standard error of the average's mean " +
      "(sd / √n). Seeds: runs finished / asked for. The paper's rows (MiOIR Table 3) are one training each, on DF2K " +
      "and DIV2K-valid, with models far larger than these: compare differences between recipes, not values.",
  ]);
}

/** The Table 4 layout: Out-Dis average, the Unknown sets and their average, each average with its standard error. */
export function studyUnknownTable(rows: readonly StudyRow[]): Table | undefined {
  const runs = rows.flatMap((r) => r.runs.map((x) => x.run));
  const cols = columnsOf(runs);
  const unk = unknownColumnsOf(runs);
  if (!runs.some((r) => r.metrics.sets.out_dist || r.metrics.sets[UNKNOWN])) return undefined;
  const columns = [
    { key: "out:avg", title: "Out-Dis Avg" },
    ...unk.map((c) => ({ key: `unk:${c.task}`, title: c.title })),
    ...(unk.length ? [{ key: "unk:avg", title: "Unknown Avg" }] : []),
  ];
  return studyTable(rows, columns, ["out:avg", "unk:avg"], cols, unk, [
    "Out-Dis average and Unknown PSNR (dB), mean ± sd over seeds, as the paper's Table 4. The Unknown sets are " +
      "synthetic stand-ins for the paper's real ones (docs/data.md); an EP model's oracle row has none (no true task).",
  ]);
}

/** A claim of the paper the study tests: recipe `better` beats recipe `worse` (the same backbone) on `measure`. */
export interface Claim {
  better: string;
  worse: string;
  measure: "in:avg" | "unk:avg";
}

/** The claims, as recipe suffixes of paperVariant's names (`SRResNet` + `-S+EP`). */
export const CLAIMS: readonly Claim[] = [
  { better: "S", worse: "M", measure: "in:avg" },
  { better: "M+EP", worse: "M", measure: "in:avg" },
  { better: "S+EP", worse: "S", measure: "in:avg" },
  { better: "S+AP", worse: "M", measure: "unk:avg" },
];

const MEASURE_TITLES: Record<Claim["measure"], string> = { "in:avg": "In-Dis Avg", "unk:avg": "Unknown Avg" };

/** How many standard errors a difference must clear: the verdict rule (docs/training.md, "The study"). */
export const VERDICT_SE = 2;

export type Verdict = "holds" | "fails" | "not resolved at this scale" | "not resolved: fewer than two seeds";

/**
 * A difference's verdict: holds when it is more than VERDICT_SE standard errors above zero, fails when more than
 * that below, else not resolved (and not resolved without a standard error, i.e. with fewer than two pairs).
 */
export function verdict(d: Stat): Verdict {
  if (d.mean === undefined || d.se === undefined) return "not resolved: fewer than two seeds";
  if (d.mean > VERDICT_SE * d.se) return "holds";
  if (d.mean < -VERDICT_SE * d.se) return "fails";
  return "not resolved at this scale";
}

export interface ClaimResult {
  claim: Claim;
  /** `SRResNet-S+EP (classifier) > SRResNet-S`. */
  text: string;
  /** The differences better − worse, paired by seed, over the seeds both rows have. */
  diff: Stat;
  paper: number | undefined;
  verdict: Verdict;
}

/**
 * Every claim for every backbone among the rows, once per pair of rows (an EP recipe's classifier and oracle rows
 * each). The difference is paired by seed: runs of one seed share the test images' degradations (and, for one
 * backbone, the initial weights), so the paired difference leaves out what the seeds change for both recipes alike.
 */
export function claimResults(rows: readonly StudyRow[]): ClaimResult[] {
  const runs = rows.flatMap((r) => r.runs.map((x) => x.run));
  const cols = columnsOf(runs);
  const unk = unknownColumnsOf(runs);
  const backbones = [...new Set(rows.flatMap((r) => (r.variant ? [r.variant.split("-")[0] as string] : [])))];
  const out: ClaimResult[] = [];
  for (const backbone of backbones)
    for (const claim of CLAIMS) {
      const [better, worse] = [claim.better, claim.worse].map((s) => `${backbone}-${s}`) as [string, string];
      for (const a of rows.filter((r) => r.variant === better))
        for (const b of rows.filter((r) => r.variant === worse)) {
          if (a.selection === "oracle" && claim.measure === "unk:avg") continue;
          const bySeed = new Map(b.runs.map((r) => [r.seed, measures(r.run, "psnr", cols, unk)[claim.measure]]));
          const diffs = a.runs.flatMap((r) => {
            const [x, y] = [measures(r.run, "psnr", cols, unk)[claim.measure], bySeed.get(r.seed)];
            return finite(x) && finite(y) ? [x - y] : [];
          });
          const [pa, pb] = [paperValue(better, claim.measure), paperValue(worse, claim.measure)];
          const diff = stat(diffs);
          out.push({
            claim,
            text: `${a.label} > ${b.label}`,
            diff,
            paper: pa !== undefined && pb !== undefined ? pa - pb : undefined,
            verdict: verdict(diff),
          });
        }
    }
  return out;
}

const signed = (v: number) => `${v >= 0 ? "+" : "−"}${Math.abs(v).toFixed(2)}`;

/** The claims as a table: one line per claim and row pair, with the numbers behind its verdict. */
export function claimsTable(results: readonly ClaimResult[]): Table {
  return {
    header: ["Claim", "Measure", "Seeds paired", "Difference", "SE", "Paper", "Verdict"],
    rows: results.map((r) => [
      r.text,
      MEASURE_TITLES[r.claim.measure],
      String(r.diff.n),
      r.diff.mean === undefined ? "–" : `${signed(r.diff.mean)} dB`,
      r.diff.se === undefined ? "–" : r.diff.se.toFixed(2),
      r.paper === undefined ? "–" : `${signed(r.paper)} dB`,
      r.verdict,
    ]),
    notes: [
      "Difference: the mean over seeds of (first − second), each seed's two runs paired (same test degradations); " +
        "SE: its standard error (sd / √n). A claim holds when the difference is more than " +
        `${VERDICT_SE} SE above zero, fails when more than ${VERDICT_SE} SE below, and is not resolved at this ` +
        `scale otherwise. With few seeds, ${VERDICT_SE} SE is a rough rule, not a 95% test (with 3 seeds, at 2 ` +
        "degrees of freedom, that needs 4.3 SE). Paper: the same difference in MiOIR Tables 3 and 4 (one training each).",
    ],
  };
}

/**
 * How often the task classifier picked the true task for the EP runs' test images, per test set (mean over the
 * runs' per-task accuracies, in percent); undefined when no run used a classifier.
 */
export function classifierAccuracyText(rows: readonly StudyRow[]): string | undefined {
  const bySet = new Map<string, number[]>();
  for (const row of rows.filter((r) => r.selection === "classifier"))
    for (const { run } of row.runs)
      for (const [set, tasks] of Object.entries(run.metrics.classifier_accuracy ?? {})) {
        const mean = average(Object.values(tasks)).mean;
        if (mean !== undefined) bySet.set(set, [...(bySet.get(set) ?? []), mean]);
      }
  if (bySet.size === 0) return undefined;
  const parts = [...bySet].map(([set, v]) => `${setTitle(set)} ${(100 * (stat(v).mean as number)).toFixed(1)}%`);
  return (
    `The task classifier picked the true task for ${parts.join(", ")} of the EP runs' test images (mean over ` +
    "runs and tasks); a wrong pick gives an image another task's prompt, which the oracle rows never do."
  );
}

/** The whole study as Markdown: a heading (the `experiments` it asked for), the two tables, the claims. */
export function studyMarkdown(
  rows: readonly StudyRow[],
  o: { profile: string | undefined; seeds: readonly number[]; experiments: number },
): string {
  const n = o.experiments;
  const parts = [
    `${STUDY_HEAD}: ${n} experiment${n === 1 ? "" : "s"} × seeds ${o.seeds.join(", ")}, profile ${o.profile ?? "none"}\n`,
  ];
  if (rows.length === 0) return `${parts[0]}\nNo finished runs yet.\n`;
  parts.push(`## In-Dis PSNR (dB), as the paper's Table 3\n\n${markdownTable(studyInDisTable(rows))}`);
  const accuracy = classifierAccuracyText(rows);
  if (accuracy) parts.push(`${accuracy}\n`);
  const unknown = studyUnknownTable(rows);
  if (unknown) parts.push(`## Out-Dis and Unknown PSNR (dB), as the paper's Table 4\n\n${markdownTable(unknown)}`);
  const claims = claimResults(rows);
  parts.push(
    claims.length
      ? `## The paper's claims\n\n${markdownTable(claimsTable(claims))}`
      : "## The paper's claims\n\nNone of the claims' pairs of recipes has finished runs.\n",
  );
  return parts.join("\n");
}
