// `task` declarations → TaskSpec: the degradation and its parameter distributions, in and out of distribution.
//
//   task blur {
//     title "Blur"
//     degrade  gaussian_blur(kernel: odd(7..21), sigma: round(1.0..3.0, 2))
//     out_dist gaussian_blur(kernel: odd(7..21), sigma: round(3.0..5.0, 2))
//   }
import type { SettingsDecl, Span } from "../../grammar/ast.js";
import { codes, type Diagnostic, didYouMean } from "../../grammar/diagnostics.js";
import {
  DEGRADATION_PARAMS,
  DEGRADATIONS,
  type DegradationName,
  type DegradationSpec,
  describeLimit,
  type ParamDist,
  type ParamLimit,
  paramLimit,
  roundTo,
  type TaskSpec,
  withinLimit,
} from "../schema/task.js";
import { type Data, Invalid, Reader } from "./values.js";

const TASK_KEYS = ["title", "degrade", "out_dist"] as const;

/** How a parameter is drawn: `3` constant, `1.0..3.0` uniform, `round(a..b, d)`, `int(a..b)`, `odd(a..b)`, `one_of(...)`. */
const DIST_FORMS = ["round", "int", "odd", "one_of"] as const;

export function resolveTask(decl: SettingsDecl, diagnostics: Diagnostic[]): TaskSpec | undefined {
  const r = new Reader(diagnostics);
  const before = diagnostics.length;
  const keyed = r.keyed(decl.settings, `task '${decl.name.text}'`, TASK_KEYS);
  const title = keyed.get("title")?.[0];
  const degrade = keyed.get("degrade")?.[0];
  const outDist = keyed.get("out_dist")?.[0];
  for (const [key, s] of [
    ["degrade", degrade],
    ["out_dist", outDist],
  ] as const) {
    if (!s)
      diagnostics.push({
        code: codes.missingSetting,
        severity: "error",
        span: decl.name.span,
        message: `task '${decl.name.text}' needs '${key}'`,
      });
  }
  const spec: Partial<TaskSpec> = { name: decl.name.text, title: decl.name.text };
  if (title) r.attempt(() => (spec.title = r.str(r.single(title), "title")));
  if (degrade) r.attempt(() => (spec.inDist = degradation(r, r.single(degrade))));
  if (outDist) r.attempt(() => (spec.outDist = degradation(r, r.single(outDist))));
  return diagnostics.length === before ? (spec as TaskSpec) : undefined;
}

export function degradation(r: Reader, d: Data): DegradationSpec {
  if (d.kind !== "call")
    r.fail(
      codes.badValue,
      d.span,
      "a degradation is a call",
      "e.g. gaussian_blur(kernel: odd(7..21), sigma: 1.0..3.0)",
    );
  if (!DEGRADATIONS.includes(d.name as DegradationName)) {
    r.fail(
      codes.unknownName,
      d.span,
      `unknown degradation '${d.name}'`,
      didYouMean(d.name, DEGRADATIONS) ?? `one of: ${DEGRADATIONS.join(", ")}`,
    );
  }
  const fn = d.name as DegradationName;
  const expected = DEGRADATION_PARAMS[fn];
  if (d.pos.length) r.fail(codes.badValue, d.span, `${fn} takes named parameters: ${expected.join(", ")}`);
  const params: Record<string, ParamDist> = {};
  for (const [k, v] of d.named) {
    if (!expected.includes(k))
      r.fail(
        codes.badArguments,
        v.span,
        `${fn} has no parameter '${k}'`,
        didYouMean(k, expected) ?? `its parameters: ${expected.join(", ")}`,
      );
  }
  // Each parameter's values are checked on their own, so `haze(atmosphere: 5, beta: -1)` reports both.
  let valid = true;
  for (const [k, v] of d.named) {
    const p = r.attempt(() => dist(r, v, `${fn}.${k}`, paramLimit(fn, k)));
    if (p) params[k] = p;
    else valid = false;
  }
  if (!valid) throw new Invalid();
  const missing = expected.filter((k) => !(k in params));
  if (missing.length) r.fail(codes.badArguments, d.span, `${fn} needs ${missing.map((m) => `'${m}'`).join(", ")}`);
  return { fn, params };
}

/**
 * A parameter's distribution, every value of which it can draw within the degradation's limit (the table the
 * degradations enforce when they run: compiler/schema/task.ts): both ends of a range, after rounding; each value of
 * one_of; and integers, or odd integers, where the parameter takes only those.
 */
function dist(r: Reader, d: Data, what: string, limit: ParamLimit): ParamDist {
  const within = (v: number, span: Span, raw = v) => {
    if (withinLimit(limit, v)) return;
    const found = raw === v ? `${v}` : `${raw}, which rounds to ${v}`;
    r.fail(codes.badValue, span, `${what} must be ${describeLimit(limit)}, found ${found}`, limitHint(limit));
  };
  const integral = (span: Span, form: string) => {
    if (limit.odd)
      r.fail(codes.badValue, span, `${what} takes odd integers; ${form} can draw even ones`, "use odd(a..b)");
    if (limit.int)
      r.fail(codes.badValue, span, `${what} takes integers; ${form} draws fractions`, "use round(a..b) or int(a..b)");
  };
  if (d.kind === "num") {
    const value = r.num(d, what);
    within(value, d.span);
    return { dist: "const", value };
  }
  if (d.kind === "range") {
    const [min, max] = bounds(r, d, what);
    if (min !== max) integral(d.span, `${min}..${max}`);
    within(min, d.from.span);
    within(max, d.to.span);
    return { dist: "uniform", min, max };
  }
  if (d.kind !== "call")
    return r.fail(codes.badValue, d.span, `${what}: expected a number, a range a..b or ${DIST_FORMS.join("/")}(...)`);
  const form = r.choice({ kind: "ident", name: d.name, span: d.span }, "distribution", DIST_FORMS);
  if (form === "one_of") {
    if (!d.pos.length) r.fail(codes.badValue, d.span, "one_of needs at least one value");
    const values = d.pos.map((v) => {
      const x = r.num(v, what);
      within(x, v.span);
      return x;
    });
    return { dist: "choice", values };
  }
  const range = d.pos[0];
  if (range?.kind !== "range") return r.fail(codes.badValue, d.span, `${form} takes a range: ${form}(a..b)`);
  const [min, max] = bounds(r, range, what);
  if (form === "round") {
    const decimals = d.pos[1] ? r.num(d.pos[1], `${what} decimals`, { int: true, min: 0, max: 6 }) : 0;
    const [lo, hi] = [roundTo(min, decimals), roundTo(max, decimals)];
    if (lo !== hi && (decimals > 0 || limit.odd))
      integral(d.span, `round(${min}..${max}${decimals ? `, ${decimals}` : ""})`);
    within(lo, range.from.span, min);
    within(hi, range.to.span, max);
    return { dist: "uniform", min, max, decimals };
  }
  if (!Number.isInteger(min) || !Number.isInteger(max))
    r.fail(codes.badValue, range.span, `${form} needs integer bounds`);
  if (form === "odd" && (min % 2 === 0 || max % 2 === 0))
    r.fail(codes.badValue, range.span, "odd needs odd bounds, e.g. odd(7..21)");
  if (form === "int" && min !== max && limit.odd) integral(d.span, `int(${min}..${max})`);
  within(min, range.from.span);
  within(max, range.to.span);
  return { dist: form, min, max };
}

/** How to write a value the limit allows. */
function limitHint(l: ParamLimit): string {
  if (l.min !== undefined && l.max !== undefined) return `the degradation takes ${l.min}..${l.max}`;
  if (l.min !== undefined) return `the degradation takes values ${l.aboveMin ? "above" : "from"} ${l.min}`;
  return "the degradation takes finite numbers";
}

function bounds(r: Reader, d: Extract<Data, { kind: "range" }>, what: string): [number, number] {
  const min = r.num(d.from, what);
  const max = r.num(d.to, what);
  if (min > max) r.fail(codes.badValue, d.span, `${what}: the range ${min}..${max} is empty`, `write ${max}..${min}`);
  return [min, max];
}
