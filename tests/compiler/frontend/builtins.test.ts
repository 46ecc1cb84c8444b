// The builtin layer registry: every layer either lowers, with the IR agreeing with its own shape rule and weights, or
// is rejected at its call with MIO6001. A layer added to the table without a lowering cannot slip into `mioc run`.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { builtins, type TShape } from "../../../compiler/check/builtins.js";
import { Elaborator, type Lowering, type Value } from "../../../compiler/check/elaborate.js";
import { GraphBuilder } from "../../../compiler/ir/builder.js";
import type { Node } from "../../../compiler/ir/node.js";
import { loadProgram } from "../../../compiler/program.js";
import { codes } from "../../../grammar/diagnostics.js";

const SIZE = 16;
/** Inputs to try, in order, until the layer's shape rule accepts one (3 channels is for add_rgb). */
const candidates: TShape[] = [
  { kind: "map", c: 8, down: 1 },
  { kind: "vector", c: 8, down: 0 },
  { kind: "tokens", c: 8, down: 1 },
  { kind: "map", c: 3, down: 1 },
];
/** The IR layout of each kind: a map is NCHW, a vector (B, C), tokens channels-last (B, H, W, C). */
const dims = (s: TShape) =>
  s.kind === "vector" ? [1, s.c] : s.kind === "map" ? [1, s.c, SIZE, SIZE] : [1, SIZE, SIZE, s.c];
const channels = (n: Node, kind: TShape["kind"]) => n.shape[kind === "tokens" ? 3 : 1];

/** Elaborates `x |> NAME(required args)` on `shape` with a lowering that builds each builtin through the registry. */
function lowerOne(name: string, shape: TShape) {
  const layer = builtins[name];
  if (!layer) throw new Error(name);
  const args = layer.params
    .filter((p) => p.default === undefined)
    .map((p) => `${p.name}: ${p.type === "bool" ? "true" : "2"}`);
  const label = layer.weights ? "l: " : "";
  const text = `backbone B()(x) {\n  return x |> ${label}${name}(${args.join(", ")})\n}`;
  const program = loadProgram(join(import.meta.dirname, "registry.mio"), { text });
  const decl = program.root.scope.get("B");
  if (decl?.kind !== "backbone") throw new Error("no backbone");
  const b = new GraphBuilder({ seed: 0 });
  const lowering: Lowering = {
    builtin: (n, a, inputs, where) =>
      builtins[n]?.lower?.build(
        b,
        a,
        inputs.map((v) => (v as { node: Node }).node),
        where,
        inputs.map((v) => (v as { shape: TShape }).shape),
      ),
    binary: () => undefined,
    neg: () => undefined,
    site: () => undefined,
  };
  const el = new Elaborator(program.root.scope, { lowering });
  const x: Value = { t: "tensor", shape, node: b.input("x", dims(shape)) };
  const out = el.run(decl, new Map(), [x], "");
  return { el, out, b };
}

/** The first candidate input the layer's shape rule accepts, with what elaborating it gave. */
function elaborated(name: string) {
  for (const shape of candidates) {
    const r = lowerOne(name, shape);
    if (r.el.diagnostics.every((d) => d.code === codes.uncompilable)) return { shape, ...r };
  }
  throw new Error(`no candidate input fits '${name}'`);
}

const names = Object.keys(builtins);

describe("every builtin lowers or is rejected at its call", () => {
  it.each(names.filter((n) => builtins[n]?.lower))(
    "%s lowers to IR with the channels and weights it checks",
    (name) => {
      const { el, out, b } = elaborated(name);
      expect(el.diagnostics).toEqual([]);
      if (out?.t !== "tensor") throw new Error("no tensor out");
      expect(channels(out.node as Node, out.shape.kind)).toBe(out.shape.c);
      const made = b.paramList().map((p) => `${p.name} ${p.node.shape.join("x")}`);
      expect(made).toEqual(el.params.map((p) => `${p.name} ${p.shape.join("x")}`));
    },
  );

  it.each(names.filter((n) => !builtins[n]?.lower))("%s is MIO6001 at its call", (name) => {
    const { el } = elaborated(name);
    expect(el.diagnostics.map((d) => `${d.code} ${d.span.start.line}:${d.span.start.col} ${d.message}`)).toEqual([
      `MIO6001 2:15 layer '${name}' is declared but cannot be compiled yet`,
    ]);
  });

  it("compiles the layers the language docs and hints name", () => {
    expect(names.filter((n) => builtins[n]?.lower)).toEqual([
      "conv",
      "linear",
      "relu",
      "lrelu",
      "gelu",
      "softmax",
      "add_rgb",
      "zero_pad",
      "reflect_pad",
      "mean",
      "layer_norm",
      "to_tokens",
      "to_map",
      "window_attention",
      "mlp",
      "upsample",
      "concat",
    ]);
  });
});
