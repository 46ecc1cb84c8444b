import { closeSync, openSync, readSync, statSync } from "node:fs";
import type { Command } from "commander";
import { writeFileAtomic } from "../../runtime/data/image.js";
import { compareRuns } from "../../runtime/report/compare.js";
import { writeReport } from "../../runtime/report/report.js";
import { RunFolderError } from "../../runtime/report/run.js";
import { UsageError } from "../exit.js";

export function registerReport(cli: Command): void {
  cli
    .command("report")
    .description(
      "with one run folder: (re)write its report.md, report.html and loss.png and print its PSNR tables; " +
        "with several: print tables comparing them (rows in the order given, the first is the baseline)",
    )
    .argument("<runs...>", "run folders (runs/<name>-<hash>) holding spec.json, log.jsonl and metrics.json")
    .option(
      "--out <file.md>",
      "also write the printed table to this Markdown file (new, or one an earlier 'mioc report' wrote)",
    )
    .action(async (runs: string[], opts: { out?: string }) => {
      if (opts.out) checkOut(opts.out);
      let text: string;
      try {
        if (runs.length === 1) {
          const files = await writeReport(runs[0] as string);
          text = files.psnrTable;
          process.stderr.write(`wrote ${files.markdown}, ${files.html} and ${files.lossPlot}\n`);
        } else {
          text = (await compareRuns(runs)).markdown;
        }
      } catch (e) {
        if (e instanceof RunFolderError) throw new UsageError(e.message, e.hint);
        throw e;
      }
      process.stdout.write(text);
      if (opts.out) {
        await writeFileAtomic(opts.out, text);
        process.stderr.write(`wrote ${opts.out}\n`);
      }
    });
}

/** The first line of every table `mioc report` prints (runtime/report/tables.ts): one run's, or a comparison's. */
const TABLE_HEADS = ["|  | ", "| Run | "];

/**
 * `--out` replaces only what this command wrote: a Markdown name, and a file that is new or starts with one of its
 * tables, so a slip (`--out pipelines/seq_prompt.mio`, a run's report.md) never destroys an input.
 */
function checkOut(out: string): void {
  if (!out.endsWith(".md")) throw new UsageError(`--out '${out}' must be a .md file`, "e.g. --out compare.md");
  let head: string;
  try {
    const st = statSync(out);
    if (!st.isFile()) throw new UsageError(`--out '${out}' is not a regular file`, "name a new .md file");
    const fd = openSync(out, "r");
    const buf = Buffer.alloc(64);
    const n = readSync(fd, buf, 0, buf.length, 0);
    closeSync(fd);
    head = buf.subarray(0, n).toString("utf8");
  } catch (e) {
    if (e instanceof UsageError) throw e;
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
    throw new UsageError(`cannot read --out '${out}': ${(e as Error).message}`, "name a new .md file");
  }
  if (!TABLE_HEADS.some((h) => head.startsWith(h)))
    throw new UsageError(
      `--out '${out}' exists and is not a table 'mioc report' wrote: it is left as it is`,
      "name a new .md file, or remove this one first",
    );
}
