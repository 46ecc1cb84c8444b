// CST → AST: turns Chevrotain's concrete syntax tree into the typed AST of ast.ts, with a span on every node.
import type { CstNode, IToken } from "chevrotain";
import type {
  Arg,
  Decl,
  Expr,
  InputDecl,
  LayerPath,
  LayerSegment,
  MioFile,
  Name,
  ParamDecl,
  Setting,
  SettingValue,
  SiteArg,
  Span,
  Stmt,
} from "./ast.js";
import { numberValue } from "./ast.js";
import type * as C from "./cst.generated.js";

export function toAst(cst: C.FileCstNode, file: string): MioFile {
  const b = new AstBuilder(file);
  return { file, decls: b.decls(cst) };
}

/** Sorts CST children of different kinds back into source order. */
function inOrder<T extends CstNode | IToken>(...groups: (T[] | undefined)[]): T[] {
  const offset = (x: CstNode | IToken) =>
    "location" in x ? (x.location?.startOffset ?? 0) : (x as IToken).startOffset;
  return groups.flatMap((g) => g ?? []).sort((a, b) => offset(a) - offset(b));
}

class AstBuilder {
  constructor(readonly file: string) {}

  span(from: CstNode | IToken, to: CstNode | IToken = from): Span {
    const s = "location" in from ? from.location : undefined;
    const e = "location" in to ? to.location : undefined;
    const st = s
      ? { line: s.startLine ?? 1, col: s.startColumn ?? 1, offset: s.startOffset }
      : tokStart(from as IToken);
    const en = e
      ? { line: e.endLine ?? 1, col: (e.endColumn ?? 0) + 1, offset: (e.endOffset ?? 0) + 1 }
      : tokEnd(to as IToken);
    return { file: this.file, start: fixPos(st), end: fixPos(en) };
  }

  /** A name token, or a stand-in where error recovery dropped it (its syntax error is already reported). */
  name(t: IToken | undefined): Name {
    return real(t) ? { text: t.image, span: this.span(t) } : { text: "<missing>", span: this.missing().span };
  }

  decls(cst: C.FileCstNode): Decl[] {
    const c = cst.children;
    return inOrder<CstNode>(c.useDecl, c.callableDecl, c.taskDecl, c.experimentDecl).flatMap((d) => {
      // A declaration whose name error recovery dropped is left out; its syntax error is reported.
      if (d.name !== "useDecl" && !real((d as C.CallableDeclCstNode).children.Identifier?.[0])) return [];
      switch (d.name) {
        case "useDecl":
          return [this.useDecl(d as C.UseDeclCstNode)];
        case "callableDecl":
          return [this.callableDecl(d as C.CallableDeclCstNode)];
        default:
          return [this.settingsDecl(d as C.TaskDeclCstNode | C.ExperimentDeclCstNode)];
      }
    });
  }

  useDecl(n: C.UseDeclCstNode): Decl {
    const c = n.children;
    const str = c.StringLiteral?.[0];
    const path = str ? unquote(str.image) : (c.Identifier ?? []).map((t) => t.image).join("/");
    return { kind: "use", path, isFile: Boolean(str), span: this.span(n) };
  }

  callableDecl(n: C.CallableDeclCstNode): Decl {
    const c = n.children;
    const params = (c.paramList?.[0]?.children.paramDecl ?? []).flatMap((p) => this.paramDecl(p) ?? []);
    const inputs = (c.inputList?.[0]?.children.inputDecl ?? []).flatMap((p) => this.inputDecl(p) ?? []);
    return {
      kind: c.Backbone ? "backbone" : "block",
      name: this.name(c.Identifier?.[0]),
      params,
      inputs,
      body: this.body(c.body?.[0]),
      span: this.span(n),
    };
  }

  paramDecl(n: C.ParamDeclCstNode): ParamDecl | undefined {
    const [name, type] = n.children.Identifier ?? [];
    if (!name) return undefined; // dropped by error recovery
    const def = n.children.expression?.[0];
    return {
      name: this.name(name),
      type: this.name(type), // `<missing>` when recovery dropped it
      ...(def ? { default: this.expression(def) } : {}),
      span: this.span(n),
    };
  }

  inputDecl(n: C.InputDeclCstNode): InputDecl | undefined {
    const [name, type] = n.children.Identifier ?? [];
    if (!name) return undefined; // dropped by error recovery
    return { name: this.name(name), ...(type ? { type: this.name(type) } : {}), span: this.span(n) };
  }

  body(n: C.BodyCstNode | undefined): Stmt[] {
    return (n?.children.statement ?? []).flatMap((s) => {
      const c = s.children;
      if (c.forStatement?.[0]) return [this.forStatement(c.forStatement[0])];
      if (c.returnStatement?.[0]) {
        const r = c.returnStatement[0];
        return [{ kind: "return", value: this.expression(r.children.expression?.[0]), span: this.span(r) } as Stmt];
      }
      const a = c.assignment?.[0];
      if (!a?.children.Identifier?.[0]) return []; // dropped by error recovery; the syntax error is reported
      return [
        {
          kind: "assign",
          target: this.name(a.children.Identifier[0]),
          value: this.expression(a.children.expression?.[0]),
          span: this.span(a),
        } as Stmt,
      ];
    });
  }

  forStatement(n: C.ForStatementCstNode): Stmt {
    const c = n.children;
    return {
      kind: "for",
      variable: this.name(c.Identifier?.[0]),
      range: this.expression(c.expression?.[0]),
      body: this.body(c.body?.[0]),
      span: this.span(n),
    };
  }

  settingsDecl(n: C.TaskDeclCstNode | C.ExperimentDeclCstNode): Decl {
    const c = n.children;
    return {
      kind: "Task" in c ? "task" : "Testset" in c ? "testset" : "experiment",
      name: this.name(c.Identifier?.[0]),
      settings: this.settings(c.settingsBlock?.[0]),
      span: this.span(n),
    };
  }

  settings(n: C.SettingsBlockCstNode | undefined): Setting[] {
    return (n?.children.setting ?? []).flatMap((s) => {
      const c = s.children;
      const key = c.Identifier?.[0];
      if (!key) return [];
      const values = (c.settingValues?.[0]?.children.settingValue ?? []).map((v) => this.settingValue(v));
      const block = c.settingsBlock?.[0];
      return [{ key: this.name(key), values, ...(block ? { block: this.settings(block) } : {}), span: this.span(s) }];
    });
  }

  settingValue(n: C.SettingValueCstNode): SettingValue {
    const name = n.children.Identifier?.[0];
    return {
      ...(name ? { name: this.name(name) } : {}),
      value: this.expression(n.children.expression?.[0]),
      span: this.span(n),
    };
  }

  expression(n: C.ExpressionCstNode | undefined): Expr {
    if (!n) return this.missing();
    const items = (n.children.pipeExpr ?? []).map((p) => this.pipeExpr(p));
    if (items.length === 0) return this.missing();
    return items.length === 1 ? (items[0] as Expr) : { kind: "chain", items, span: this.span(n) };
  }

  pipeExpr(n: C.PipeExprCstNode): Expr {
    const c = n.children;
    let head = this.rangeExpr(c.rangeExpr?.[0]);
    const label = c.layerLabel?.[0];
    if (label) head = this.label(this.layerPath(label.children.layerPath?.[0]), head, n);
    const stages = (c.pipeStage ?? []).map((s) => this.pipeStage(s));
    return stages.length ? { kind: "pipe", head, stages, span: this.span(n) } : head;
  }

  pipeStage(n: C.PipeStageCstNode): Expr {
    const c = n.children;
    if (c.siteRef?.[0]) return this.siteRef(c.siteRef[0]);
    const e = this.callOrRef(c.callOrRef?.[0]);
    const label = c.layerLabel?.[0];
    return label ? this.label(this.layerPath(label.children.layerPath?.[0]), e, n) : e;
  }

  /** `name: conv(64)` labels a call; `name: layer_norm` is a call without arguments. */
  label(label: LayerPath, e: Expr, n: CstNode): Expr {
    const span = this.span(n);
    if (e.kind === "call") return { ...e, label, span };
    if (e.kind === "ref" && !e.path.includes("*")) return { kind: "call", callee: e.path, args: [], label, span };
    return { kind: "labeled", label, expr: e, span };
  }

  layerPath(n: C.LayerPathCstNode | undefined): LayerPath {
    if (!n) return { segments: [], span: this.missing().span };
    const segments = (n.children.layerSegment ?? []).map((s): LayerSegment => {
      const tok = (s.children.Identifier?.[0] ?? s.children.NumberLiteral?.[0]) as IToken;
      const idx = s.children.expression?.[0];
      return { name: tok?.image ?? "?", ...(idx ? { index: this.expression(idx) } : {}), span: this.span(s) };
    });
    return { segments, span: this.span(n) };
  }

  rangeExpr(n: C.RangeExprCstNode | undefined): Expr {
    if (!n) return this.missing();
    const [from = this.missing(), to] = (n.children.additive ?? []).map((a) => this.additive(a));
    return to ? { kind: "range", from, to, span: this.span(n) } : from;
  }

  additive(n: C.AdditiveCstNode): Expr {
    const operands = (n.children.multiplicative ?? []).map((m) => this.multiplicative(m));
    const ops = inOrder<IToken>(n.children.Plus, n.children.Minus);
    return this.fold(operands, ops);
  }

  multiplicative(n: C.MultiplicativeCstNode): Expr {
    const operands = (n.children.unary ?? []).map((u) => this.unary(u));
    const ops = inOrder<IToken>(n.children.Star, n.children.Slash, n.children.Percent);
    return this.fold(operands, ops);
  }

  /** Left-associative: `a - b - c` is `(a - b) - c`. */
  fold(operands: Expr[], ops: IToken[]): Expr {
    let acc = operands[0] ?? this.missing();
    ops.forEach((op, i) => {
      const right = operands[i + 1] ?? this.missing();
      const span = { file: this.file, start: acc.span.start, end: right.span.end };
      acc = { kind: "binary", op: op.image as "+" | "-" | "*" | "/" | "%", left: acc, right, span };
    });
    return acc;
  }

  unary(n: C.UnaryCstNode): Expr {
    const c = n.children;
    if (c.unary?.[0]) {
      const operand = this.unary(c.unary[0]);
      if (operand.kind === "number")
        return { ...operand, value: -operand.value, text: `-${operand.text}`, span: this.span(n) };
      return { kind: "neg", operand, span: this.span(n) };
    }
    return this.primary(c.primary?.[0]);
  }

  primary(n: C.PrimaryCstNode | undefined): Expr {
    if (!n) return this.missing();
    const c = n.children;
    const span = this.span(n);
    if (c.NumberLiteral?.[0]) {
      const text = c.NumberLiteral[0].image;
      return { kind: "number", value: numberValue(text), text, span };
    }
    if (c.StringLiteral?.[0]) return { kind: "string", value: unquote(c.StringLiteral[0].image), span };
    if (c.True) return { kind: "bool", value: true, span };
    if (c.False) return { kind: "bool", value: false, span };
    if (c.listExpr?.[0])
      return { kind: "list", items: (c.listExpr[0].children.expression ?? []).map((e) => this.expression(e)), span };
    if (c.parenExpr?.[0]) return this.expression(c.parenExpr[0].children.expression?.[0]);
    if (c.siteRef?.[0]) return this.siteRef(c.siteRef[0]);
    return this.callOrRef(c.callOrRef?.[0]);
  }

  siteRef(n: C.SiteRefCstNode): Expr {
    const all = (n.children.siteArg ?? []).map((a): SiteArg => {
      const c = a.children;
      if (c.layerPath?.[0]) {
        const name = c.Identifier?.[0] as IToken;
        return { name: this.name(name), layer: this.layerPath(c.layerPath[0]), span: this.span(a) };
      }
      const arg = c.arg?.[0] ? this.arg(c.arg[0]) : undefined;
      return { ...(arg?.name ? { name: arg.name } : {}), value: arg?.value ?? this.missing(), span: this.span(a) };
    });
    // The first positional argument is the input; the checker reports any other.
    const at = all.findIndex((a) => !a.name);
    const input = at >= 0 ? all[at]?.value : undefined;
    const args = all.filter((_, i) => i !== at);
    return {
      kind: "site",
      name: this.layerPath(n.children.layerPath?.[0]),
      ...(input ? { input } : {}),
      ...(args.length ? { args } : {}),
      span: this.span(n),
    };
  }

  callOrRef(n: C.CallOrRefCstNode | undefined): Expr {
    if (!n || !real(n.children.Identifier?.[0])) return this.missing();
    const c = n.children;
    const path = inOrder<IToken>(c.Identifier, c.NumberLiteral, c.Star).map((t) => t.image);
    const [params, inputs] = c.argList ?? [];
    const span = this.span(n);
    if (!params) return { kind: "ref", path, span };
    const call: Expr = { kind: "call", callee: path, args: this.argList(params) ?? [], span };
    const inputArgs = this.argList(inputs);
    return inputArgs ? { ...call, inputs: inputArgs } : call;
  }

  argList(n: C.ArgListCstNode | undefined): Arg[] | undefined {
    if (!n) return undefined;
    return (n.children.arg ?? []).map((a) => this.arg(a));
  }

  arg(a: C.ArgCstNode): Arg {
    const name = a.children.Identifier?.[0];
    return {
      ...(name ? { name: this.name(name) } : {}),
      value: this.expression(a.children.expression?.[0]),
      span: this.span(a),
    };
  }

  /** Stands in for a piece error recovery dropped; its syntax error is already reported. */
  missing(): Expr {
    const p = { line: 1, col: 1, offset: 0 };
    return { kind: "ref", path: ["<missing>"], span: { file: this.file, start: p, end: p } };
  }
}

/** A token the source really has: not absent, and not one error recovery inserted (those have no text). */
function real(t: IToken | undefined): t is IToken {
  return t !== undefined && !t.isInsertedInRecovery && t.image !== "";
}

function tokStart(t: IToken) {
  return { line: t.startLine ?? 1, col: t.startColumn ?? 1, offset: t.startOffset };
}

function tokEnd(t: IToken) {
  return {
    line: t.endLine ?? t.startLine ?? 1,
    col: (t.endColumn ?? t.startColumn ?? 0) + 1,
    offset: (t.endOffset ?? t.startOffset) + 1,
  };
}

/** Recovered nodes can carry NaN positions; clamp them to something printable. */
function fixPos(p: { line: number; col: number; offset: number }) {
  const ok = (n: number) => (Number.isFinite(n) ? n : 1);
  return { line: ok(p.line), col: ok(p.col), offset: Number.isFinite(p.offset) ? p.offset : 0 };
}

const escapes: Record<string, string> = { n: "\n", t: "\t", r: "\r", b: "\b", f: "\f", '"': '"', "\\": "\\", "/": "/" };

/**
 * The text of a string literal: JSON's escapes (`\"`, `\\`, `\n`, `\u00e9`, ...) are decoded, any other backslash
 * is kept as written (`"C:\data"`). NOTE: not JSON.parse, which throws on a raw tab or a bad `\u` escape.
 */
function unquote(s: string): string {
  return s
    .slice(1, -1)
    .replace(/\\(u[0-9a-fA-F]{4}|[\s\S])/g, (m, c: string) =>
      c.length === 5 ? String.fromCharCode(Number.parseInt(c.slice(1), 16)) : (escapes[c] ?? m),
    );
}
