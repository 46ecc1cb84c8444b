#!/usr/bin/env node
import { Command, CommanderError } from "commander";
import { MioRuntimeError } from "../runtime/errors.js";
import { registerCheck } from "./commands/check.js";
import { registerCompile } from "./commands/compile.js";
import { registerDegrade } from "./commands/degrade.js";
import { registerDoctor } from "./commands/doctor.js";
import { registerEval } from "./commands/eval.js";
import { registerInfer } from "./commands/infer.js";
import { registerReport } from "./commands/report.js";
import { registerRun } from "./commands/run.js";
import { registerStudy } from "./commands/study.js";
import { registerTestsets } from "./commands/testsets.js";
import { EXIT_RUNTIME, EXIT_USAGE, UsageError } from "./exit.js";
import { version } from "./package-info.js";

const cli = new Command()
  .name("mioc")
  .description("mio: compile and run multiple-in-one image restoration experiments written as .mio files")
  .version(version, "-V, --version")
  .showHelpAfterError("(run 'mioc --help' for usage)")
  .exitOverride();

registerCheck(cli);
registerCompile(cli);
registerDoctor(cli);
registerDegrade(cli);
registerTestsets(cli);
registerReport(cli);
registerRun(cli);
registerStudy(cli);
registerEval(cli);
registerInfer(cli);

/** Prints a user-facing failure without a stack and returns its exit code. */
function report(e: unknown): number {
  if (e instanceof CommanderError) {
    // Commander already printed its message; --help and --version end here with code 0.
    return e.exitCode === 0 ? 0 : EXIT_USAGE;
  }
  if (e instanceof UsageError || e instanceof MioRuntimeError) {
    process.stderr.write(`mioc: error: ${e.message}\n${e.hint ? `${e.hint}\n` : ""}`);
    return e instanceof UsageError ? EXIT_USAGE : e.exitCode;
  }
  // Anything else is a bug in mio: show the stack so it can be reported.
  process.stderr.write(`mioc: internal error (please report it): ${(e as Error)?.stack ?? String(e)}\n`);
  return EXIT_RUNTIME;
}

// `mioc compile ... | head` closes stdout early; that is not an error.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
});

try {
  await cli.parseAsync(process.argv);
} catch (e) {
  process.exitCode = report(e);
}
