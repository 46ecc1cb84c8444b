import { existsSync } from "node:fs";
import type { Command } from "commander";
import { UsageError } from "../exit.js";
import { DEFAULT_WORKERS, parseSeed, parseWorkers } from "./degrade.js";

export function registerTestsets(cli: Command): void {
  const cmd = cli
    .command("testsets")
    .description("build and measure the synthetic In-Dis, Out-Dis and Unknown test sets");
  cmd
    .command("build")
    .description(
      "degrade SRC's images with every stdlib task, in- and out-of-distribution, and every Unknown testset: " +
        "OUT/GT, OUT/{indist,outdist}/<task>, OUT/unknown/<testset>",
    )
    .argument("<src>", "a folder of ground-truth PNG/JPEG/WebP images")
    .argument("<out>", "output root, outside SRC (made whole, or replacing a previous build)")
    .option("--seed <n>", "random seed: the same seed gives the same bytes", "0")
    .option("--workers <n>", "worker threads (0: none); the output does not depend on it", DEFAULT_WORKERS)
    .action(async (src: string, out: string, opts: { seed: string; workers: string }) => {
      const seed = parseSeed(opts.seed);
      const workers = parseWorkers(opts.workers);
      if (!existsSync(src)) throw new UsageError(`source folder '${src}' does not exist`);
      const { loadStdlibTasks, loadStdlibTestsets } = await import("../../compiler/tasks.js");
      const { buildTestsets } = await import("../../runtime/data/testsets.js");
      const m = await buildTestsets(src, out, {
        tasks: loadStdlibTasks(),
        testsets: loadStdlibTestsets(),
        seed,
        workers,
        onImage: (done, total, file) => process.stderr.write(`[${done}/${total}] ${file}\n`),
      });
      const n = m.sets[0]?.images.length ?? 0;
      process.stdout.write(`${m.sets.length} test sets of ${n} images (GT shared) in ${out}, seed ${seed}\n`);
    });
  cmd
    .command("psnr")
    .description("mean PSNR of every LQ set against GT (RGB, 8-bit, 4-pixel border crop), as a Markdown table")
    .argument("<root>", "a folder made by 'mioc testsets build'")
    .option("--json", "print JSON rows instead")
    .action(async (root: string, opts: { json?: boolean }) => {
      if (!existsSync(root)) throw new UsageError(`folder '${root}' does not exist`);
      const { testsetsPsnr } = await import("../../runtime/data/testsets.js");
      const rows = await testsetsPsnr(root);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      const cell = (t: string, d: string) => rows.find((r) => r.task === t && r.dist === d)?.psnr.toFixed(2) ?? "–";
      const names = (dists: string[]) => [...new Set(rows.filter((r) => dists.includes(r.dist)).map((r) => r.task))];
      const table = (first: string, cols: string[], lines: [string, string][]) => [
        `| ${first} | ${cols.join(" | ")} |`,
        `| --- | ${cols.map(() => "---").join(" | ")} |`,
        ...lines.map(([title, dist]) => `| ${title} | ${cols.map((t) => cell(t, dist)).join(" | ")} |`),
      ];
      const tasks = names(["in", "out"]);
      const unknown = names(["unknown"]);
      const out = tasks.length
        ? table("set", tasks, [
            ["In-Dis", "in"],
            ["Out-Dis", "out"],
          ])
        : [];
      if (unknown.length) out.push(...(out.length ? [""] : []), ...table("set", unknown, [["Unknown", "unknown"]]));
      process.stdout.write(`${out.join("\n")}\n`);
    });
}
