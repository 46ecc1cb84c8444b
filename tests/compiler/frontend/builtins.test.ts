// The builtin layer registry: every layer either lowers, with the IR agreeing with its own shape rule, side rule and
// weights, or is rejected at its call with MIO6001. A layer added to the table without a lowering cannot slip into
// `mioc run`.
import { join } from "node:path";
import fc from "fast-check";
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
  { kind: "map", c: 8, down: 1, size: [SIZE, SIZE] },
  { kind: "vector", c: 8, down: 0 },
  { kind: "tokens", c: 8, down: 1, size: [SIZE, SIZE] },
  { kind: "map", c: 3, down: 1, size: [SIZE, SIZE] },
];
/** The IR layout of each kind: a map is NCHW, a vector (B, C), tokens channels-last (B, H, W, C). */
const dims = (s: TShape) => {
  const [h, w] = s.size ?? [SIZE, SIZE];
  return s.kind === "vector" ? [1, s.c] : s.kind === "map" ? [1, s.c, h, w] : [1, h, w, s.c];
};
const channels = (n: Node, kind: TShape["kind"]) => n.shape[kind === "tokens" ? 3 : 1];

/**
 * Elaborates `x |> NAME(required args, extra)` on `shape` with a lowering that builds each builtin through the
 * registry.
 */
function lowerOne(name: string, shape: TShape, extra: string[] = []) {
  const layer = builtins[name];
  if (!layer) throw new Error(name);
  const given = extra.map((a) => a.split(":")[0]);
  const args = layer.params
    .filter((p) => p.default === undefined && !given.includes(p.name))
    .map((p) => `${p.name}: ${p.type === "bool" ? "true" : "2"}`);
  const label = layer.weights ? "l: " : "";
  // A two-input layer (crop_to) gets the piped input twice: `x |> crop_to()(x)`.
  const more = layer.inputs === 2 ? "(x)" : "";
  const text = `backbone B()(x) {\n  return x |> ${label}${name}(${[...args, ...extra].join(", ")})${more}\n}`;
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

/** Arguments for layers whose required parameters cannot be 2 (a probability). */
const sampleArgs: Record<string, string[]> = { drop_path: ["p: 0.5"] };

/** The first candidate input the layer's shape rule accepts, with what elaborating it gave. */
function elaborated(name: string) {
  for (const shape of candidates) {
    const r = lowerOne(name, shape, sampleArgs[name]);
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
      if (out.shape.kind === "map") expect((out.node as Node).shape.slice(2)).toEqual(out.shape.size);
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

  // The side rules are what the checker follows through a model: each must give the size the lowering builds.
  it.each([
    ["conv", (k: number, s: number, p: number) => [`k: ${k}`, `stride: ${s}`, `pad: ${Math.min(p, k - 1)}`]],
    ["conv", (k: number, s: number, p: number) => [`k: ${k}`, `stride: ${s}`, `pad: ${p % k}`, 'pad_mode: "reflect"']],
    ["zero_pad", (_k: number, _s: number, p: number) => [`p: ${p}`]],
    ["reflect_pad", (_k: number, _s: number, p: number) => [`p: ${p}`]],
    ["upsample", (_k: number, s: number) => [`scale: ${s}`]],
    ["pad_to", (k: number) => [`multiple: ${k}`]],
    ["pad_to", (k: number) => [`multiple: ${k}`, 'mode: "zeros"']],
  ] as const)("%s's side rule is the size its lowering builds", (name, args) => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 24 }),
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 6 }),
        (n, k, s, p) => {
          const shape: TShape = { kind: "map", c: 2, down: 1, size: [n, n + 1] };
          const { el, out } = lowerOne(name, shape, [...args(k, s, p)]);
          if (el.diagnostics.length) {
            // Refused sizes are reported as sizes (MIO3004), never built.
            expect(el.diagnostics.map((d) => d.code)).toEqual(["MIO3004"]);
            return;
          }
          if (out?.t !== "tensor") throw new Error("no tensor out");
          expect((out.node as Node).shape.slice(2)).toEqual(out.shape.size);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("compiles the layers the language docs and hints name", () => {
    expect(names.filter((n) => builtins[n]?.lower)).toEqual([
      "conv",
      "conv_transpose",
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
      "window_embed",
      "mlp",
      "mdta",
      "gdfn",
      "prompt_gen",
      "pixel_shuffle",
      "pixel_unshuffle",
      "upsample",
      "concat",
      "pad_to",
      "crop_to",
      "drop_path",
    ]);
  });
});
