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
      if (opts.out) checkOut(opts.out, "--out", REPORT_HEADS, "mioc report");
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
const REPORT_HEADS = ["|  | ", "| Run | "];

/**
 * `--out` (`mioc study --md`) replaces only what its command wrote: a Markdown name, and a file that is new or
 * starts with one of `heads`, so a slip (`--out pipelines/seq_prompt.mio`, a run's report.md) never destroys an input.
 */
export function checkOut(out: string, flag: string, heads: readonly string[], command: string): void {
  if (!out.endsWith(".md")) throw new UsageError(`${flag} '${out}' must be a .md file`, `e.g. ${flag} compare.md`);
  let head: string;
  try {
    const st = statSync(out);
    if (!st.isFile()) throw new UsageError(`${flag} '${out}' is not a regular file`, "name a new .md file");
    const fd = openSync(out, "r");
    const buf = Buffer.alloc(64);
    const n = readSync(fd, buf, 0, buf.length, 0);
    closeSync(fd);
    head = buf.subarray(0, n).toString("utf8");
  } catch (e) {
    if (e instanceof UsageError) throw e;
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
    throw new UsageError(`cannot read ${flag} '${out}': ${(e as Error).message}`, "name a new .md file");
  }
  if (!heads.some((h) => head.startsWith(h)))
    throw new UsageError(
      `${flag} '${out}' exists and is not a table '${command}' wrote: it is left as it is`,
      "name a new .md file, or remove this one first",
    );
}
