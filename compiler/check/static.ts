// Name checks that need no parameter values: every variable is defined before use and every called layer exists.
// Elaboration checks everything else, but only for blocks some backbone uses; this covers the rest.
import type { CallableDecl, Expr, SiteArg, Stmt } from "../../grammar/ast.js";
import { codes, type Diagnostic, didYouMean, error } from "../../grammar/diagnostics.js";
import type { NamedDecl } from "../program.js";
import { builtins } from "./builtins.js";

export function checkNames(decl: CallableDecl, scope: Map<string, NamedDecl>, diagnostics: Diagnostic[]): void {
  const layers = [
    ...Object.keys(builtins),
    ...[...scope.values()].filter((d) => d.kind === "block").map((d) => d.name.text),
  ];
  const defined = new Set<string>([...decl.params.map((p) => p.name.text), ...decl.inputs.map((i) => i.name.text)]);

  // The messages for a backbone used as a layer and a layer used as a value are the elaborator's own, so that when
  // both passes see the mistake it is reported once.
  const callee = (name: string, e: Expr) => {
    if (name === "<missing>") return; // dropped by error recovery; the syntax error is reported
    if (scope.get(name)?.kind === "backbone") {
      const message = `'${name}' is a backbone; a backbone is used as an experiment's model`;
      diagnostics.push(error(codes.typeMismatch, e.span, message));
    } else if (!layers.includes(name))
      diagnostics.push(error(codes.unknownName, e.span, `unknown layer '${name}'`, didYouMean(name, layers)));
  };
  const types = ["int", "float", "bool", "string"];
  for (const p of decl.params) {
    if (!types.includes(p.type.text) && p.type.text !== "<missing>") {
      const message = `unknown parameter type '${p.type.text}'`;
      diagnostics.push(error(codes.typeMismatch, p.type.span, message, didYouMean(p.type.text, types)));
    }
  }
  // A site's layer names' indices and its `init:` (its own function: `expr` recurses once per operation of a deep
  // expression, and every local it holds makes each of those frames larger).
  const siteArgs = (args: SiteArg[] | undefined): void => {
    for (const a of args ?? []) {
      for (const s of a.layer?.segments ?? []) expr(s.index);
      expr(a.value);
    }
  };
  const expr = (e: Expr | undefined, stage = false): void => {
    if (!e) return;
    switch (e.kind) {
      case "ref": {
        const name = e.path.join(".");
        if (stage) callee(name, e);
        else if (!defined.has(name) && name !== "<missing>") {
          if (e.path.length === 1 && (builtins[name] || scope.has(name))) {
            const message = `'${name}' is a layer, not a value`;
            diagnostics.push(error(codes.typeMismatch, e.span, message, `apply it: x |> ${name}`));
          } else
            diagnostics.push(error(codes.unknownName, e.span, `unknown name '${name}'`, didYouMean(name, defined)));
        }
        return;
      }
      case "call":
        callee(e.callee.join("."), e);
        for (const a of [...e.args, ...(e.inputs ?? [])]) expr(a.value);
        for (const s of e.label?.segments ?? []) expr(s.index);
        return;
      case "site":
        for (const s of e.name.segments) expr(s.index);
        expr(e.input);
        siteArgs(e.args);
        return;
      case "pipe":
        expr(e.head);
        for (const s of e.stages) expr(s, true);
        return;
      case "binary":
        expr(e.left);
        expr(e.right);
        return;
      case "neg":
        expr(e.operand);
        return;
      case "range":
        expr(e.from);
        expr(e.to);
        return;
      case "list":
      case "chain":
        for (const x of e.items) expr(x);
        return;
      case "labeled":
        expr(e.expr, stage);
        return;
      default:
        return;
    }
  };
  const body = (stmts: Stmt[]) => {
    for (const s of stmts) {
      if (s.kind === "for") {
        expr(s.range);
        defined.add(s.variable.text);
        body(s.body);
      } else {
        expr(s.value);
        if (s.kind === "assign") defined.add(s.target.text);
      }
    }
  };
  for (const p of decl.params) expr(p.default);
  body(decl.body);
}
