// Reading a run folder (`runs/<name>-<hash>/`, written by the trainer): spec.json, log.jsonl and metrics.json,
// checked at this edge so the report code after it can trust their shapes. docs/reports.md describes the format.

import { existsSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { validateSpec } from "../../compiler/schema/emit.js";
import type { ExperimentSpec } from "../../compiler/schema/experiment.js";
import type { LogEvent, RunMetrics } from "../run-folder.js";

/** A run folder that is missing, incomplete or malformed. Names the path and what is wrong with it. */
export class RunFolderError extends Error {
  constructor(
    readonly path: string,
    detail: string,
    readonly hint?: string,
  ) {
    super(`run folder '${path}': ${detail}`);
    this.name = "RunFolderError";
  }
}

/** A `log.jsonl` line as the report reads it: the events it uses, checked; any other line passes through untouched. */
export type LogEntry =
  | Extract<LogEvent, { type: "stage" | "train" | "eval" | "checkpoint" | "skipped" | "done" }>
  | { type: "other"; raw: Record<string, unknown> };

export interface RunData {
  /** The folder as given (for messages and relative links). */
  dir: string;
  /** The run id: metrics.json's `run`, else the folder name. */
  id: string;
  spec: ExperimentSpec;
  metrics: RunMetrics;
  /** Empty when the log was not asked for. */
  log: LogEntry[];
}

async function readText(dir: string, file: string): Promise<string> {
  const path = join(dir, file);
  if (!existsSync(path)) {
    throw new RunFolderError(dir, `${file} is missing`, "the trainer ('mioc run') writes it; is the run finished?");
  }
  return readFile(path, "utf8");
}

function parseJson(dir: string, file: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new RunFolderError(dir, `${file} is not valid JSON: ${(e as Error).message}`);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/** Checks metrics.json's shape; every problem names its key. */
export function checkMetrics(dir: string, m: unknown): RunMetrics {
  const bad = (where: string, what: string) => new RunFolderError(dir, `metrics.json: '${where}' ${what}`);
  if (!isObject(m)) throw new RunFolderError(dir, "metrics.json is not a JSON object");
  for (const k of ["run", "name"]) if (typeof m[k] !== "string") throw bad(k, "must be a string");
  if (!isObject(m.sets)) throw bad("sets", "must be an object of test sets");
  for (const [set, tasks] of Object.entries(m.sets)) {
    if (!isObject(tasks)) throw bad(`sets.${set}`, "must be an object of tasks");
    for (const [task, s] of Object.entries(tasks)) {
      const at = `sets.${set}.${task}`;
      if (!isObject(s)) throw bad(at, "must be an object with psnr");
      if (!(s.psnr === null || isNum(s.psnr))) throw bad(`${at}.psnr`, "must be a number (or null for Infinity)");
      for (const k of ["ssim", "lq_psnr", "images"]) {
        if (s[k] !== undefined && s[k] !== null && !isNum(s[k])) throw bad(`${at}.${k}`, "must be a number");
      }
    }
  }
  for (const k of ["steps", "seconds"]) if (m[k] !== undefined && !isNum(m[k])) throw bad(k, "must be a number");
  if (m.classifier_accuracy !== undefined) {
    if (!isObject(m.classifier_accuracy)) throw bad("classifier_accuracy", "must be an object of test sets");
    for (const [set, tasks] of Object.entries(m.classifier_accuracy)) {
      if (!isObject(tasks) || !Object.values(tasks).every(isNum))
        throw bad(`classifier_accuracy.${set}`, "must be an object of task accuracies (numbers)");
    }
  }
  if (m.classifier_confusion !== undefined) {
    if (!isObject(m.classifier_confusion)) throw bad("classifier_confusion", "must be an object of test sets");
    for (const [set, rows] of Object.entries(m.classifier_confusion)) {
      const ok = isObject(rows) && Object.values(rows).every((r) => isObject(r) && Object.values(r).every(isNum));
      if (!ok) throw bad(`classifier_confusion.${set}`, "must map each true task to counts per predicted task");
    }
  }
  return m as unknown as RunMetrics;
}

/** Parses log.jsonl. A last line without its newline is a write in progress and is skipped. */
export function parseLog(dir: string, text: string): LogEntry[] {
  const lines = text.split("\n");
  const partial = !text.endsWith("\n") ? lines.length - 1 : -1;
  const entries: LogEntry[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      if (i === partial) return;
      throw new RunFolderError(dir, `log.jsonl line ${i + 1} is not valid JSON: ${(e as Error).message}`);
    }
    if (!isObject(v) || typeof v.type !== "string") {
      throw new RunFolderError(dir, `log.jsonl line ${i + 1} is not an object with a "type"`);
    }
    entries.push(toEntry(dir, i + 1, v));
  });
  return entries;
}

function toEntry(dir: string, line: number, v: Record<string, unknown>): LogEntry {
  const need = (keys: string[]) => {
    for (const k of keys) {
      if (!isNum(v[k]))
        throw new RunFolderError(dir, `log.jsonl line ${line}: a "${v.type}" entry needs a number '${k}'`);
    }
  };
  switch (v.type) {
    case "train":
      need(["stage", "iter", "step"]);
      for (const k of ["loss", "lr"]) {
        if (!(v[k] === null || isNum(v[k]))) {
          throw new RunFolderError(dir, `log.jsonl line ${line}: a "train" entry needs a number (or null) '${k}'`);
        }
      }
      return v as unknown as LogEntry;
    case "stage":
      need(["stage", "stages", "iters"]);
      if (!Array.isArray(v.tasks))
        throw new RunFolderError(dir, `log.jsonl line ${line}: a "stage" entry needs 'tasks'`);
      return v as unknown as LogEntry;
    case "eval":
    case "checkpoint":
      need(["step"]);
      return v as unknown as LogEntry;
    case "skipped": {
      need(["stage", "step"]);
      const strings = (k: string) => Array.isArray(v[k]) && (v[k] as unknown[]).every((x) => typeof x === "string");
      if (!strings("files") || !strings("reasons") || (v.files as string[]).length !== (v.reasons as string[]).length) {
        throw new RunFolderError(
          dir,
          `log.jsonl line ${line}: a "skipped" entry needs 'files' and 'reasons', lists of strings of one length`,
        );
      }
      return v as unknown as LogEntry;
    }
    case "done":
      return v as unknown as LogEntry;
    default:
      return { type: "other", raw: v };
  }
}

/**
 * Reads and checks a run folder. `log: false` skips log.jsonl (a comparison needs only the spec and the metrics).
 *
 * @example const run = await loadRun("runs/seq_prompt-6cd66349b035");
 */
export async function loadRun(dir: string, options: { log?: boolean } = {}): Promise<RunData> {
  if (!existsSync(dir)) throw new RunFolderError(dir, "does not exist");
  if (!statSync(dir).isDirectory()) throw new RunFolderError(dir, "is not a folder");
  const spec = parseJson(dir, "spec.json", await readText(dir, "spec.json"));
  const problems = validateSpec(spec);
  if (problems.length) {
    const first = problems.slice(0, 3).map((p) => `${p.path}: ${p.message}`);
    throw new RunFolderError(
      dir,
      `spec.json is not a valid experiment spec (${first.join("; ")})`,
      "it may come from another version of mio; 'mioc compile --emit spec' shows the current format",
    );
  }
  const metrics = checkMetrics(dir, parseJson(dir, "metrics.json", await readText(dir, "metrics.json")));
  const log = options.log === false ? [] : parseLog(dir, await readText(dir, "log.jsonl"));
  const id = metrics.run || basename(resolve(dir));
  return { dir, id, spec: spec as ExperimentSpec, metrics, log };
}
