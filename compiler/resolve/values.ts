// Reading setting values: turns the expressions of `key value, value  name: value` into plain data, and reports
// wrong kinds of values at the value itself. Each section's resolver describes what it accepts with these readers.
import type { Expr, Setting, SettingValue, Span } from "../../grammar/ast.js";
import { codes, type Diagnostic, type DiagnosticCode, didYouMean, error } from "../../grammar/diagnostics.js";

export type Data =
  /** `text`: the number as written, for messages about it (`1e999`, which reads as Infinity). */
  | { kind: "num"; v: number; span: Span; text?: string }
  | { kind: "str"; v: string; span: Span }
  | { kind: "bool"; v: boolean; span: Span }
  | { kind: "ident"; name: string; span: Span }
  | { kind: "call"; name: string; pos: Data[]; named: Map<string, Data>; span: Span }
  | { kind: "list"; items: Data[]; span: Span }
  | { kind: "range"; from: Data; to: Data; span: Span }
  | { kind: "chain"; items: Data[]; span: Span };

/**
 * The most values a setting, a list or a chain may hold (docs/language.md, "Settings"): far more than any setting
 * needs (a curriculum of the reference's seven tasks), few enough that resolving stays fast even where the result
 * grows with the square (a sequential curriculum's stages).
 */
export const MAX_LIST = 1000;

/** Thrown after a diagnostic so a section resolver can skip the rest of one setting. */
export class Invalid extends Error {}

export class Reader {
  constructor(readonly diagnostics: Diagnostic[]) {}

  fail(code: DiagnosticCode, span: Span, message: string, hint?: string): never {
    this.diagnostics.push(error(code, span, message, hint));
    throw new Invalid();
  }

  /** Runs `f`, swallowing the `Invalid` it throws after reporting, so checking goes on. */
  attempt<T>(f: () => T): T | undefined {
    try {
      return f();
    } catch (e) {
      if (e instanceof Invalid) return undefined;
      throw e;
    }
  }

  data(e: Expr): Data {
    switch (e.kind) {
      case "number":
        return { kind: "num", v: e.value, span: e.span, text: e.text };
      case "string":
        return { kind: "str", v: e.value, span: e.span };
      case "bool":
        return { kind: "bool", v: e.value, span: e.span };
      case "list":
        this.short(e.items, e.span, "a list");
        return { kind: "list", items: e.items.map((x) => this.data(x)), span: e.span };
      case "ref":
        return { kind: "ident", name: e.path.join("."), span: e.span };
      case "range":
        return { kind: "range", from: this.data(e.from), to: this.data(e.to), span: e.span };
      case "chain":
        this.short(e.items, e.span, "a chain");
        return { kind: "chain", items: e.items.map((x) => this.data(x)), span: e.span };
      case "call": {
        if (e.inputs)
          this.fail(
            codes.badValue,
            e.span,
            "a setting value takes one argument list",
            `write: ${e.callee.join(".")}(...)`,
          );
        const pos: Data[] = [];
        const named = new Map<string, Data>();
        for (const a of e.args) {
          if (!a.name) pos.push(this.data(a.value));
          else if (named.has(a.name.text)) this.fail(codes.duplicate, a.name.span, `'${a.name.text}' is given twice`);
          else named.set(a.name.text, this.data(a.value));
        }
        return { kind: "call", name: e.callee.join("."), pos, named, span: e.span };
      }
      case "neg": {
        const v = this.data(e.operand);
        if (v.kind === "num") return { ...v, v: -v.v, span: e.span, ...(v.text ? { text: `-${v.text}` } : {}) };
        return this.fail(codes.badValue, e.span, "only numbers can be negated here");
      }
      default:
        return this.fail(codes.badValue, e.span, `a ${e.kind} expression is not a setting value`);
    }
  }

  /** Reports (at `span`) a list longer than MAX_LIST. */
  private short(items: readonly unknown[], span: Span, what: string): void {
    if (items.length > MAX_LIST)
      this.fail(codes.tooLarge, span, `${what} of ${items.length} values is too long: at most ${MAX_LIST}`);
  }

  num(d: Data, what: string, opts: { int?: boolean; min?: number; max?: number } = {}): number {
    if (d.kind !== "num") this.fail(codes.badValue, d.span, `${what} must be a number, found ${show(d)}`);
    // 1e999 reads as Infinity: no setting takes it, and the spec (JSON) cannot hold it.
    if (!Number.isFinite(d.v))
      this.fail(
        codes.badValue,
        d.span,
        `${what} must be a finite number, found ${d.text ?? d.v}`,
        "beyond a 64-bit float's range (about 1.8e308) a number reads as infinity",
      );
    if (opts.int && !Number.isInteger(d.v))
      this.fail(codes.badValue, d.span, `${what} must be an integer, found ${d.v}`);
    if (opts.min !== undefined && d.v < opts.min)
      this.fail(codes.badValue, d.span, `${what} must be >= ${opts.min}, found ${d.v}`);
    if (opts.max !== undefined && d.v > opts.max)
      this.fail(codes.badValue, d.span, `${what} must be <= ${opts.max}, found ${d.v}`);
    // From 2^53 on integers are no longer exact (9007199254740993 reads as ...992), so counts and seeds stop there.
    if (opts.int && !Number.isSafeInteger(d.v))
      this.fail(
        codes.badValue,
        d.span,
        `${what} must be an integer below 2^53, found ${d.v}`,
        "larger integers are not exact in a 64-bit float",
      );
    return d.v;
  }

  str(d: Data, what: string): string {
    if (d.kind !== "str")
      this.fail(
        codes.badValue,
        d.span,
        `${what} must be a string, found ${show(d)}`,
        'write it in double quotes: "..."',
      );
    return d.v;
  }

  bool(d: Data, what: string): boolean {
    if (d.kind !== "bool") this.fail(codes.badValue, d.span, `${what} must be true or false, found ${show(d)}`);
    return d.v;
  }

  /** An identifier from a fixed set, with a did-you-mean hint. */
  choice<T extends string>(d: Data, what: string, options: readonly T[]): T {
    const name =
      d.kind === "ident" ? d.name : d.kind === "call" && d.pos.length === 0 && d.named.size === 0 ? d.name : undefined;
    if (name === undefined)
      this.fail(codes.badValue, d.span, `${what} must be one of ${options.join(", ")}, found ${show(d)}`);
    if (!options.includes(name as T)) {
      this.fail(
        codes.badValue,
        d.span,
        `unknown ${what} '${name}'`,
        didYouMean(name, options) ?? `one of: ${options.join(", ")}`,
      );
    }
    return name as T;
  }

  /** Named arguments of a call, each known and read by its own reader; unknown ones are errors. */
  args<T extends Record<string, unknown>>(
    d: Extract<Data, { kind: "call" }>,
    readers: { [K in keyof T]: (v: Data, what: string) => T[K] },
    defaults: T,
  ): T {
    const out = { ...defaults };
    const names = Object.keys(readers);
    if (d.pos.length)
      this.fail(
        codes.badValue,
        d.pos[0]?.span ?? d.span,
        `${d.name} takes named arguments`,
        `e.g. ${d.name}(${names[0]}: ...)`,
      );
    for (const [k, v] of d.named) {
      if (!(k in readers)) {
        this.fail(
          codes.badValue,
          v.span,
          `${d.name} has no argument '${k}'`,
          didYouMean(k, names) ?? `its arguments: ${names.join(", ")}`,
        );
      }
      (out as Record<string, unknown>)[k] = readers[k as keyof T](v, `${d.name}.${k}`);
    }
    return out;
  }

  /** The positional values of a setting (named values are reported, since the setting takes none). */
  positional(s: Setting): Data[] {
    this.short(s.values, s.key.span, `'${s.key.text}'`);
    return s.values.map((v: SettingValue) => {
      if (v.name) this.fail(codes.badValue, v.name.span, `'${s.key.text}' takes no named values`);
      return this.data(v.value);
    });
  }

  /** Exactly one positional value. */
  single(s: Setting): Data {
    const vs = this.positional(s);
    if (vs.length !== 1) {
      this.fail(codes.badValue, vs[1]?.span ?? s.key.span, `'${s.key.text}' takes one value, found ${vs.length}`);
    }
    return vs[0] as Data;
  }

  /** Settings of a block with the allowed keys; unknown keys get did-you-mean; repeated keys are errors unless listed. */
  keyed(
    settings: Setting[],
    section: string,
    allowed: readonly string[],
    repeatable: readonly string[] = [],
  ): Map<string, Setting[]> {
    const out = new Map<string, Setting[]>();
    for (const s of settings) {
      const k = s.key.text;
      if (!allowed.includes(k)) {
        this.diagnostics.push(
          error(
            codes.unknownSetting,
            s.key.span,
            `unknown setting '${k}' in ${section}`,
            didYouMean(k, allowed) ?? `known: ${allowed.join(", ")}`,
          ),
        );
        continue;
      }
      const list = out.get(k) ?? [];
      if (list.length && !repeatable.includes(k)) {
        this.diagnostics.push(error(codes.duplicate, s.key.span, `'${k}' is set twice in ${section}`, "keep one"));
        continue;
      }
      list.push(s);
      out.set(k, list);
    }
    return out;
  }
}

export function show(d: Data): string {
  switch (d.kind) {
    case "num":
      return String(d.v);
    case "str":
      return JSON.stringify(d.v);
    case "bool":
      return String(d.v);
    case "ident":
      return `'${d.name}'`;
    case "call":
      return `'${d.name}(...)'`;
    case "list":
      return "a list";
    case "range":
      return "a range";
    case "chain":
      return "a chain (a -> b)";
  }
}
