// The seven MiOIR tasks as the data pipeline sees them, read from stdlib/tasks.mio (the single source of truth for
// degradation parameter ranges).
import { join } from "node:path";
import { checkFile } from "./compile.js";
import { defaultStdlibRoot } from "./program.js";
import { resolveTask } from "./resolve/tasks.js";
import type { TaskSpec } from "./schema/task.js";

let cached: TaskSpec[] | undefined;

/** Every task declared in stdlib/tasks.mio, in declaration order. */
export function loadStdlibTasks(): TaskSpec[] {
  if (cached) return cached;
  const { program, diagnostics } = checkFile(join(defaultStdlibRoot, "stdlib", "tasks.mio"));
  if (diagnostics.length) {
    throw new Error(
      `stdlib/tasks.mio does not check:\n${diagnostics.map((d) => `${d.span.file}:${d.span.start.line}: ${d.message}`).join("\n")}`,
    );
  }
  const specs: TaskSpec[] = [];
  for (const d of program.root.ast.decls) {
    if (d.kind !== "task") continue;
    const t = resolveTask(d, []);
    if (t) specs.push(t);
  }
  cached = specs;
  return specs;
}
