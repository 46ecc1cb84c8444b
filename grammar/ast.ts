// The typed AST of a .mio file. Every node carries a span so any later stage can point at the source.

export interface Pos {
  line: number; // 1-based
  col: number; // 1-based
  offset: number; // 0-based
}

/** A half-open source range `[start, end)`. */
export interface Span {
  file: string;
  start: Pos;
  end: Pos;
}

export interface Name {
  text: string;
  span: Span;
}

export interface LayerSegment {
  name: string;
  index?: Expr;
  span: Span;
}

/** `body[i].conv1`: becomes a parameter-name prefix such as `body.3.conv1`. */
export interface LayerPath {
  segments: LayerSegment[];
  span: Span;
}

export interface Arg {
  name?: Name;
  value: Expr;
  span: Span;
}

/** A site's argument: a layer name (`scale: prompt_scale_last`), or a named or positional expression. */
export interface SiteArg {
  name?: Name;
  layer?: LayerPath;
  value?: Expr;
  span: Span;
}

export type Expr =
  | { kind: "number"; value: number; text: string; span: Span }
  | { kind: "string"; value: string; span: Span }
  | { kind: "bool"; value: boolean; span: Span }
  | { kind: "list"; items: Expr[]; span: Span }
  /** A name or dotted path; `*` segments make it a wildcard (`body.*`). */
  | { kind: "ref"; path: string[]; span: Span }
  /** `f(params)(inputs)`; `inputs` is absent when the call is a pipe stage or takes no inputs. */
  | { kind: "call"; callee: string[]; args: Arg[]; inputs?: Arg[]; label?: LayerPath; span: Span }
  /**
   * `site name (input)`; `args` holds its other arguments when it has any (`scale: layers[g].prompt_scale`,
   * `init: "trunc_normal0.02"`): absent otherwise, so a plain site's AST (and its module's hash) is unchanged.
   */
  | { kind: "site"; name: LayerPath; input?: Expr; args?: SiteArg[]; span: Span }
  | { kind: "binary"; op: "+" | "-" | "*" | "/" | "%"; left: Expr; right: Expr; span: Span }
  | { kind: "neg"; operand: Expr; span: Span }
  | { kind: "range"; from: Expr; to: Expr; span: Span }
  | { kind: "chain"; items: Expr[]; span: Span }
  | { kind: "pipe"; head: Expr; stages: Expr[]; span: Span }
  /** A label in front of something that is not a call (reported by the checker). */
  | { kind: "labeled"; label: LayerPath; expr: Expr; span: Span };

export type Stmt =
  | { kind: "assign"; target: Name; value: Expr; span: Span }
  | { kind: "for"; variable: Name; range: Expr; body: Stmt[]; span: Span }
  | { kind: "return"; value: Expr; span: Span };

export interface ParamDecl {
  name: Name;
  type: Name;
  default?: Expr;
  span: Span;
}

export interface InputDecl {
  name: Name;
  type?: Name;
  span: Span;
}

export interface SettingValue {
  name?: Name;
  value: Expr;
  span: Span;
}

/** `key values... { nested }` inside a task or experiment. */
export interface Setting {
  key: Name;
  values: SettingValue[];
  block?: Setting[];
  span: Span;
}

export type Decl =
  | { kind: "use"; path: string; isFile: boolean; span: Span }
  | {
      kind: "block" | "backbone";
      name: Name;
      params: ParamDecl[];
      inputs: InputDecl[];
      body: Stmt[];
      span: Span;
    }
  | { kind: "task" | "testset" | "experiment"; name: Name; settings: Setting[]; span: Span };

export type CallableDecl = Extract<Decl, { kind: "block" | "backbone" }>;
export type SettingsDecl = Extract<Decl, { kind: "task" | "testset" | "experiment" }>;

export interface MioFile {
  file: string;
  decls: Decl[];
}

/** `250k` → 250000, `1M` → 1e6, `2e-4` → 0.0002. */
export function numberValue(text: string): number {
  const suffix = text.at(-1);
  if (suffix === "k") return Number(text.slice(0, -1)) * 1e3;
  if (suffix === "M") return Number(text.slice(0, -1)) * 1e6;
  return Number(text);
}
