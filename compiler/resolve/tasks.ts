// `task` declarations → TaskSpec: the degradation and its parameter distributions, in and out of distribution.
//
//   task blur {
//     title "Blur"
//     degrade  gaussian_blur(kernel: odd(7..21), sigma: round(1.0..3.0, 2))
//     out_dist gaussian_blur(kernel: odd(7..21), sigma: round(3.0..5.0, 2))
//   }
import type { SettingsDecl } from "../../grammar/ast.js";
import { codes, type Diagnostic, didYouMean } from "../../grammar/diagnostics.js";
import {
  DEGRADATION_PARAMS,
  DEGRADATIONS,
  type DegradationName,
  type DegradationSpec,
  type ParamDist,
  type TaskSpec,
} from "../schema/task.js";
import { type Data, Reader } from "./values.js";

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

function degradation(r: Reader, d: Data): DegradationSpec {
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
    params[k] = dist(r, v, `${fn}.${k}`);
  }
  const missing = expected.filter((k) => !(k in params));
  if (missing.length) r.fail(codes.badArguments, d.span, `${fn} needs ${missing.map((m) => `'${m}'`).join(", ")}`);
  return { fn, params };
}

function dist(r: Reader, d: Data, what: string): ParamDist {
  if (d.kind === "num") return { dist: "const", value: d.v };
  if (d.kind === "range") {
    const [min, max] = bounds(r, d, what);
    return { dist: "uniform", min, max };
  }
  if (d.kind !== "call")
    return r.fail(codes.badValue, d.span, `${what}: expected a number, a range a..b or ${DIST_FORMS.join("/")}(...)`);
  const form = r.choice({ kind: "ident", name: d.name, span: d.span }, "distribution", DIST_FORMS);
  if (form === "one_of") {
    if (!d.pos.length) r.fail(codes.badValue, d.span, "one_of needs at least one value");
    return { dist: "choice", values: d.pos.map((v) => r.num(v, what)) };
  }
  const range = d.pos[0];
  if (range?.kind !== "range") return r.fail(codes.badValue, d.span, `${form} takes a range: ${form}(a..b)`);
  const [min, max] = bounds(r, range, what);
  if (form === "round") {
    const decimals = d.pos[1] ? r.num(d.pos[1], `${what} decimals`, { int: true, min: 0, max: 6 }) : 0;
    return { dist: "uniform", min, max, decimals };
  }
  if (!Number.isInteger(min) || !Number.isInteger(max))
    r.fail(codes.badValue, range.span, `${form} needs integer bounds`);
  if (form === "odd" && (min % 2 === 0 || max % 2 === 0))
    r.fail(codes.badValue, range.span, "odd needs odd bounds, e.g. odd(7..21)");
  return { dist: form, min, max };
}

function bounds(r: Reader, d: Extract<Data, { kind: "range" }>, what: string): [number, number] {
  const min = r.num(d.from, what);
  const max = r.num(d.to, what);
  if (min > max) r.fail(codes.badValue, d.span, `${what}: the range ${min}..${max} is empty`, `write ${max}..${min}`);
  return [min, max];
}
