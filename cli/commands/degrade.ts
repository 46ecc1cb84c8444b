import { existsSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import type { Command } from "commander";
import type { SetRecipe } from "../../runtime/data/testsets.js";
import { UsageError } from "../exit.js";

// NOTE: the compiler (to read stdlib/tasks.mio) and the image pipeline are imported when a command runs, not when
// mioc starts: together they add ~2 s to every other command's start-up.

/** Parses `--seed`: a non-negative safe integer. */
export function parseSeed(s: string): number {
  const n = Number(s);
  if (!/^\d+$/.test(s) || !Number.isSafeInteger(n))
    throw new UsageError(`--seed must be a non-negative integer, got '${s}'`);
  return n;
}

/** Parses `--workers`: a non-negative integer (0 = no worker threads). */
export function parseWorkers(s: string): number {
  const n = Number(s);
  if (!/^\d+$/.test(s) || n > 256) throw new UsageError(`--workers must be an integer from 0 to 256, got '${s}'`);
  return n;
}

/** Default worker threads for offline degradation: one per core, at most 8 (each holds a few full-size images). */
export const DEFAULT_WORKERS = String(Math.min(8, availableParallelism()));

/**
 * The recipe `--task NAME --dist D` names: a stdlib task at `dist` (default in), or an Unknown testset (which has
 * no `--dist`); else a usage error listing both.
 */
export async function findRecipe(name: string, dist: string | undefined): Promise<SetRecipe> {
  const { loadStdlibTasks, loadStdlibTestsets } = await import("../../compiler/tasks.js");
  const { taskRecipe, testsetRecipe } = await import("../../runtime/data/testsets.js");
  const tasks = loadStdlibTasks();
  const testsets = loadStdlibTestsets();
  const task = tasks.find((x) => x.name === name);
  if (task) {
    if (dist !== undefined && dist !== "in" && dist !== "out")
      throw new UsageError(`--dist must be 'in' or 'out', got '${dist}'`);
    return taskRecipe(task, dist === "out" ? "out" : "in");
  }
  const testset = testsets.find((x) => x.name === name);
  if (testset) {
    if (dist !== undefined)
      throw new UsageError(`'${name}' is an Unknown testset: it has one recipe and no --dist`, "leave --dist out");
    return testsetRecipe(testset);
  }
  throw new UsageError(
    `unknown task '${name}'`,
    `Known tasks (stdlib/tasks.mio): ${tasks.map((x) => x.name).join(", ")}; Unknown testsets (stdlib/unknown.mio): ` +
      testsets.map((x) => x.name).join(", "),
  );
}

export function registerDegrade(cli: Command): void {
  cli
    .command("degrade")
    .description(
      "degrade every image of SRC with one task or Unknown testset (parameters drawn per image) into OUT, with manifest.json",
    )
    .argument("<src>", "a folder of PNG/JPEG/WebP images, or one image")
    .argument(
      "<out>",
      "output folder, outside SRC's (made whole, or replacing a previous output): <name>.png per image and manifest.json",
    )
    .requiredOption(
      "--task <name>",
      "a task of stdlib/tasks.mio (sr, blur, noise, jpeg, rain, haze, dark) or a testset of stdlib/unknown.mio " +
        "(difficult, mild, wild, ntire20, toled)",
    )
    .option("--dist <in|out>", "a task's in-distribution (training, the default) or out-of-distribution parameters")
    .option("--seed <n>", "random seed: the same seed gives the same bytes", "0")
    .option("--workers <n>", "worker threads (0: none); the output does not depend on it", DEFAULT_WORKERS)
    .action(async (src: string, out: string, opts: { task: string; dist?: string; seed: string; workers: string }) => {
      if (opts.dist !== undefined && opts.dist !== "in" && opts.dist !== "out")
        throw new UsageError(`--dist must be 'in' or 'out', got '${opts.dist}'`);
      const seed = parseSeed(opts.seed);
      const workers = parseWorkers(opts.workers);
      const recipe = await findRecipe(opts.task, opts.dist);
      if (!existsSync(src)) throw new UsageError(`source '${src}' does not exist`);
      const { isImageFile } = await import("../../runtime/data/image.js");
      if (isImageFile(out) && !(existsSync(out) && statSync(out).isDirectory()))
        throw new UsageError(
          `output '${out}' names an image, but OUT is a folder`,
          "degrade writes OUT/<stem>.png per image and OUT/manifest.json; give a folder name",
        );
      const { degradeFolder } = await import("../../runtime/data/testsets.js");
      const m = await degradeFolder(src, out, {
        recipe,
        seed,
        workers,
        onImage: (done, total, file) => process.stderr.write(`[${done}/${total}] ${file}\n`),
      });
      process.stdout.write(
        `${m.images.length} images degraded with ${recipe.task} (${recipe.dist}${recipe.dist === "unknown" ? "" : "-dist"}, seed ${seed}) into ${out}\n`,
      );
    });
}
