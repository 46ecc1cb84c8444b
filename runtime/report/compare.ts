// Several runs side by side, as the paper's Table 3 (In-Dis per task) and Table 4 (Out-Dis and Unknown): which
// recipe wins, by how much, per task and per set.

import { paperTable, paperUnknownTable } from "./report.js";
import { loadRun, type RunData } from "./run.js";
import { comparisonTable, markdownTable, type Table, unknownComparisonTable } from "./tables.js";

export interface Comparison {
  runs: RunData[];
  /**
   * Table 3's layout, then Table 4's when a run has Out-Dis or Unknown scores, then the paper's rows for the runs'
   * recipes (In-Dis with the Out-Dis average; Unknown) where it has them.
   */
  tables: Table[];
  /** The tables as Markdown, with their notes, a blank line apart. */
  markdown: string;
}

/**
 * Reads each run folder's spec.json and metrics.json (log.jsonl is not needed) and builds the comparison tables,
 * rows in the order given: put the baseline (e.g. the mixed run) first, since Ipv. is measured from it.
 *
 * @example (await compareRuns(["runs/srresnet_m-…", "runs/srresnet_s-…"])).markdown
 */
export async function compareRuns(runDirs: readonly string[]): Promise<Comparison> {
  const runs: RunData[] = [];
  for (const dir of runDirs) runs.push(await loadRun(dir, { log: false }));
  const unknown = unknownComparisonTable(runs);
  const paper = [paperTable(runs), paperUnknownTable(runs)].filter((t): t is Table => t !== undefined);
  const tables = [comparisonTable(runs), ...(unknown ? [unknown] : []), ...paper];
  return { runs, tables, markdown: tables.map(markdownTable).join("\n") };
}
