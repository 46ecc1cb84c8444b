// The seven MiOIR tasks and the Unknown test sets as the data pipeline sees them, read from stdlib/tasks.mio (the
// single source of truth for degradation parameter ranges) and the stdlib/unknown.mio it uses.
import { join } from "node:path";
import { checkFile } from "./compile.js";
import { defaultStdlibRoot } from "./program.js";
import { resolveTask } from "./resolve/tasks.js";
import { resolveTestset } from "./resolve/testsets.js";
import type { TaskSpec, TestsetSpec } from "./schema/task.js";

let cached: { tasks: TaskSpec[]; testsets: TestsetSpec[] } | undefined;

function loadStdlib(): { tasks: TaskSpec[]; testsets: TestsetSpec[] } {
  if (cached) return cached;
  const { program, diagnostics } = checkFile(join(defaultStdlibRoot, "stdlib", "tasks.mio"));
  if (diagnostics.length) {
    throw new Error(
      `stdlib/tasks.mio does not check:\n${diagnostics.map((d) => `${d.span.file}:${d.span.start.line}: ${d.message}`).join("\n")}`,
    );
  }
  const tasks: TaskSpec[] = [];
  const testsets: TestsetSpec[] = [];
  for (const d of program.root.scope.values()) {
    const t = d.kind === "task" ? resolveTask(d, []) : undefined;
    if (t) tasks.push(t);
    const s = d.kind === "testset" ? resolveTestset(d, []) : undefined;
    if (s) testsets.push(s);
  }
  cached = { tasks, testsets };
  return cached;
}

/** Every task declared in stdlib/tasks.mio, in declaration order. */
export function loadStdlibTasks(): TaskSpec[] {
  return loadStdlib().tasks;
}

/** The Unknown test sets of stdlib/unknown.mio, in declaration order (the paper's Table 4 columns). */
export function loadStdlibTestsets(): TestsetSpec[] {
  return loadStdlib().testsets;
}
