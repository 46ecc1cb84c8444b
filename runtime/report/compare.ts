// Several runs side by side, as the paper's Table 3: which recipe wins, by how much, per task.

import { loadRun, type RunData } from "./run.js";
import { comparisonTable, markdownTable, type Table } from "./tables.js";

export interface Comparison {
  runs: RunData[];
  table: Table;
  /** The table as Markdown, with its notes. */
  markdown: string;
}

/**
 * Reads each run folder's spec.json and metrics.json (log.jsonl is not needed) and builds one comparison table,
 * rows in the order given: put the baseline (e.g. the mixed run) first, since Ipv. is measured from it.
 *
 * @example (await compareRuns(["runs/srresnet_m-…", "runs/srresnet_s-…"])).markdown
 */
export async function compareRuns(runDirs: readonly string[]): Promise<Comparison> {
  const runs: RunData[] = [];
  for (const dir of runDirs) runs.push(await loadRun(dir, { log: false }));
  const table = comparisonTable(runs);
  return { runs, table, markdown: markdownTable(table) };
}
