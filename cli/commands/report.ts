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
    .option("--out <file.md>", "also write the printed table to this Markdown file")
    .action(async (runs: string[], opts: { out?: string }) => {
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
