// Spec output: validated against the JSON Schema (compiled once), printed with a stable key order so two specs
// diff cleanly in git, and hashed: the hash of the printed spec is the run id.
import { createHash } from "node:crypto";
import Ajv, { type ErrorObject } from "ajv";
import schema from "./experiment.schema.json" with { type: "json" };

const validator = new Ajv.default({ allErrors: true, strict: true, allowUnionTypes: true }).compile(schema);

export interface SchemaProblem {
  path: string;
  message: string;
}

/** Validates a spec; each problem names its JSON path (`/train/optimizer/lr`). */
export function validateSpec(spec: unknown): SchemaProblem[] {
  if (validator(spec)) return [];
  return (validator.errors ?? []).map((e: ErrorObject) => ({
    path: e.instancePath || "/",
    message:
      e.keyword === "additionalProperties"
        ? `unknown key '${(e.params as { additionalProperty: string }).additionalProperty}'`
        : (e.message ?? e.keyword),
  }));
}

/** Keys first in this order, then the rest alphabetically: readable and stable. */
const LEADING_KEYS = ["version", "name", "kind", "profile"];

function ordered(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(ordered);
  if (value === null || typeof value !== "object") return value;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  const rank = (k: string) => (LEADING_KEYS.includes(k) ? LEADING_KEYS.indexOf(k) : LEADING_KEYS.length);
  entries.sort(([a], [b]) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries.map(([k, v]) => [k, ordered(v)]));
}

/** The canonical text of a spec (2-space JSON, stable key order, trailing newline). */
export function printSpec(spec: unknown): string {
  return `${JSON.stringify(ordered(spec), null, 2)}\n`;
}

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** The run id: the first 12 hex digits of the canonical spec's SHA-256. */
export function specHash(spec: unknown): string {
  return sha256(printSpec(spec)).slice(0, 12);
}
