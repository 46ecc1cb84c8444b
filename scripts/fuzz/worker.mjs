// The fuzz campaign's worker (scripts/fuzz/campaign.mjs starts it, and starts a fresh one when a mutant runs past
// the time limit): `{ ready: true }` once loaded, then for each JSON mutant a line on stdin, `{ id, file, text, stdlib? }`; one JSON line on stdout as each
// stage starts, `{ id, stage }`, and one with the outcome, `{ id, done: true, outcome, stage, message, ms }`.
// Outcomes: `diagnostics` (user errors: fine), `checked` (clean, but the file resolved no experiment), `compiled`
// (clean, and every experiment lowered and compiled), `refused` (clean, but its plan cannot fit the limits WebGPU
// guarantees, 8 bindings of 128 MiB per kernel: a PlanLimitError, which a run reports as the user's error naming the
// kernel), `internal` (an exception escaped, a diagnostic was MIO5001 or pointed outside its file, or a clean
// experiment failed to lower or compile otherwise).
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { checkFile } from "../../dist/compiler/compile.js";
import { lowerTrainStep } from "../../dist/compiler/lower/train-step.js";
import { compileProgram } from "../../dist/compiler/passes/pipeline.js";
import { PlanLimitError } from "../../dist/compiler/plan/plan.js";
import { codes, renderDiagnostic } from "../../dist/grammar/diagnostics.js";
import { repoRoot } from "./mutate.mjs";

// Mutated stdlib modules are written into this worker's own copy of stdlib/, restored after each mutant. The copy
// lies in the campaign's scratch folder (MIO_FUZZ_SCRATCH), which the campaign removes: a worker killed at the time
// limit cleans up nothing.
let scratch;
function stdlibCopy() {
  if (!scratch) {
    scratch = mkdtempSync(join(process.env.MIO_FUZZ_SCRATCH ?? tmpdir(), "mio-fuzz-"));
    cpSync(join(repoRoot, "stdlib"), join(scratch, "stdlib"), { recursive: true });
    process.on("exit", () => rmSync(scratch, { recursive: true, force: true }));
  }
  return scratch;
}

/** What is wrong with a diagnostic that a user should never see, or undefined (also used by fuzz.test.ts). */
export function badDiagnostic(d, sources) {
  if (d.code === codes.schema) return `${d.code} ${d.message}`;
  const source = sources.get(d.span.file);
  if (source === undefined) return `${d.code} names a file without source: ${d.span.file}`;
  const { start, end } = d.span;
  const line = source.split("\n")[start.line - 1];
  if (start.line < 1 || start.col < 1 || line === undefined || start.col > line.length + 1)
    return `${d.code} ${d.message}: start ${start.line}:${start.col} is outside ${d.span.file}`;
  if (end.line < start.line || (end.line === start.line && end.col < start.col))
    return `${d.code} ${d.message}: end ${end.line}:${end.col} is before its start`;
  if (start.offset < 0 || start.offset > source.length)
    return `${d.code} ${d.message}: offset ${start.offset} is outside ${d.span.file}`;
  try {
    renderDiagnostic(d, source);
  } catch (e) {
    return `rendering ${d.code} threw: ${e}`;
  }
  return undefined;
}

const describe = (e) => (e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ""}` : String(e));

/** Runs one mutant through the checker and, where it checks clean, through lowering and compiling. */
export function runMutant(m, progress = () => {}) {
  let stdlibRoot;
  let original;
  if (m.stdlib) {
    stdlibRoot = stdlibCopy();
    original = join(repoRoot, m.stdlib.path);
    writeFileSync(join(stdlibRoot, m.stdlib.path), m.stdlib.text);
  }
  try {
    let stage = "check";
    progress(stage);
    try {
      const r = checkFile(join(repoRoot, m.file), { text: m.text, ...(stdlibRoot ? { stdlibRoot } : {}) });
      for (const d of r.diagnostics) {
        const bad = badDiagnostic(d, r.program.sources);
        if (bad) return { outcome: "internal", stage, message: bad };
      }
      if (r.diagnostics.some((d) => d.severity === "error"))
        return { outcome: "diagnostics", stage, message: `${r.diagnostics[0]?.code} ${r.diagnostics[0]?.message}` };
      if (r.specs.size === 0) return { outcome: "checked", stage };
      for (const [name, spec] of r.specs) {
        stage = "lower";
        progress(stage, name);
        const step = lowerTrainStep(r.program, spec);
        stage = "compile";
        progress(stage, name);
        compileProgram(step.program);
      }
      return { outcome: "compiled", stage };
    } catch (e) {
      if (e instanceof PlanLimitError) return { outcome: "refused", stage, message: e.message };
      return { outcome: "internal", stage, message: describe(e) };
    }
  } finally {
    if (m.stdlib && stdlibRoot) cpSync(original, join(stdlibRoot, m.stdlib.path));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const send = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
  // Loading the compiler takes a while: the campaign starts a mutant's clock only after this line.
  send({ ready: true });
  const lines = createInterface({ input: process.stdin });
  lines.on("line", (line) => {
    if (!line.trim()) return;
    const m = JSON.parse(line);
    const t0 = performance.now();
    const result = runMutant(m, (stage, experiment) => send({ id: m.id, stage, experiment }));
    send({ id: m.id, done: true, ...result, ms: Math.round(performance.now() - t0) });
  });
}
