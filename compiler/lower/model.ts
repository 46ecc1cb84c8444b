// Lowering: runs the elaborator over a resolved experiment with a `Lowering` attached, so the backbone, the prompt
// extractor and the wired sites of the .mio source become one forward graph of the tensor IR, with parameters named
// and initialised as in PyTorch/BasicSR.

import type { CallableDecl } from "../../grammar/ast.js";
import { codes, type Diagnostic, error } from "../../grammar/diagnostics.js";
import { type Args, builtins, type LowerContext, type TShape, trainDraws } from "../check/builtins.js";
import { Elaborator, type Lowering, type SiteInfo, showSize, siteLayers, type Value } from "../check/elaborate.js";
import { GraphBuilder } from "../ir/builder.js";
import type { Node } from "../ir/node.js";
import { CompilerBug } from "../ir/node.js";
import type { Program } from "../passes/program.js";
import { PLAN_IO } from "../plan/io.js";
import type { LoadedProgram } from "../program.js";
import { type ExperimentSpec, isClassifier, promptExtractors } from "../schema/experiment.js";
import { modulate } from "./modulate.js";

export interface LowerOptions {
  batch: number;
  height: number;
  width: number;
  /** Parameter-init seed (defaults to the spec's seed). */
  seed?: number;
  /**
   * Adaptive prompts: the size of a separate input `prompt` (B, 3, h, w) the extractor reads instead of `lq`, so
   * tiles of a large image are modulated by the whole image, as the reference's full-size test does.
   */
  promptImage?: { height: number; width: number };
  /**
   * A training step: stochastic layers (drop_path) draw per step from the input `PLAN_IO.rngStep`. Absent, the
   * lowering is evaluation's and inference's, where they are the identity.
   */
  train?: boolean;
}

export interface LoweredModel {
  b: GraphBuilder;
  /** Input `lq`: (B, 3, H, W) in [0, 1]. */
  lq: Node;
  /** Input `prompt`: (B, 1, S, S) explicit maps of each sample's task, or (B, 3, h, w) with `promptImage`. */
  prompt?: Node;
  /** The restored image (B, 3, H, W). */
  out: Node;
}

const node = (v: Value): Node => {
  if (v.t !== "tensor" || v.node === undefined) throw new CompilerBug(`lowering met a value without a node: ${v.t}`);
  return v.node as Node;
};

const isVector = (v: Value) => v.t === "tensor" && v.shape.kind === "vector";

const shapeOf = (v: Value): TShape => {
  if (v.t !== "tensor") throw new CompilerBug(`lowering met a ${v.t} where a tensor was checked`);
  return v.shape;
};

/**
 * The model cannot take this input size: a layer cannot take a side, two sizes disagree, a tensor would be too large,
 * or the output is not the input's size. The checker covered the crop and the eval tile; other sizes (whole images,
 * an adaptive prompt's whole image) are the input's fault, not the compiler's.
 */
export class InputSizeError extends Error {
  constructor(
    readonly model: string,
    readonly size: string,
    readonly diagnostics: Diagnostic[],
  ) {
    const d = diagnostics[0];
    const where = d ? ` (${d.span.file}:${d.span.start.line}:${d.span.start.col})` : "";
    super(`'${model}' cannot take a ${size} input: ${d?.message ?? "its output has another size"}${where}`);
    this.name = "InputSizeError";
  }
}

/** Codes a checked model can still meet at another input size. */
const SIZE_CODES: string[] = [codes.sizeMismatch, codes.modelTooLarge];

/** Builds IR through each builtin's lowering; names come from the labels elaboration computed. */
class GraphLowering implements Lowering {
  /** Wired site name → the prompt vector of the extractor that feeds it. */
  readonly promptVectors = new Map<string, Node>();
  constructor(
    readonly b: GraphBuilder,
    /** Wired site name → index into scale_fc/shift_fc (the order of the spec's prompt sites). */
    readonly wired: Map<string, number>,
    readonly ctx: LowerContext = {},
  ) {}

  builtin(name: string, a: Args, inputs: Value[], where: string | undefined, out: TShape): Node {
    // Elaboration with a lowering rejects, at the call, a layer without one or with arguments it does not support.
    const lower = builtins[name]?.lower;
    if (!lower) throw new CompilerBug(`layer '${name}' has no lowering but reached it`);
    const n = lower.build(this.b, a, inputs.map(node), where, inputs.map(shapeOf), this.ctx);
    // What the checker promised for sizes is what the graph has: a side rule that drifts from its lowering is a bug.
    // A map is (B, C, H, W); tokens are stored channels-last, (B, H, W, C).
    const [h, w] = out.kind === "tokens" ? [n.shape[1], n.shape[2]] : [n.shape[2], n.shape[3]];
    if (out.size && (h !== out.size[0] || w !== out.size[1]))
      throw new CompilerBug(`'${name}' lowered to [${n.shape}] but its side rule gives ${showSize(out.size)}`, n);
    return n;
  }

  binary(op: "+" | "-" | "*" | "/" | "%", l: Value, r: Value): Node {
    const b = this.b;
    if (l.t === "num" || r.t === "num") {
      const [t, n, tensorLeft] = l.t === "num" ? [r, l.v, false] : [l, (r as { v: number }).v, true];
      const x = node(t);
      if (op === "+") return b.affine(x, 1, n);
      if (op === "*") return b.scale(x, n);
      if (op === "-") return tensorLeft ? b.affine(x, 1, -n) : b.affine(x, -1, n);
      if (op === "/" && tensorLeft) return b.scale(x, 1 / n);
      throw new CompilerBug(`'${op}' of a number and a tensor passed the checker`);
    }
    // A vector (B, C) broadcasts over a map's positions as (B, C, 1, 1), over tokens (B, H, W, C) as (B, 1, 1, C).
    const lift = (v: Value, other: Value) => {
      const n = node(v);
      if (!isVector(v) || isVector(other)) return n;
      const [bsz, c] = [n.shape[0] ?? 1, n.shape[1] ?? 1];
      return b.reshape(n, shapeOf(other).kind === "tokens" ? [bsz, 1, 1, c] : [bsz, c, 1, 1]);
    };
    const [x, y] = [lift(l, r), lift(r, l)];
    if (op === "+") return b.add(x, y);
    if (op === "-") return b.sub(x, y);
    if (op === "*") return b.mul(x, y);
    if (op === "/") return b.div(x, y);
    throw new CompilerBug("'%' of tensors passed the checker");
  }

  neg(x: Value): Node {
    return this.b.neg(node(x));
  }

  /**
   * A site is the identity unless the experiment wires a prompt to it: then `x * (1 + scale) + shift`, with the
   * layers the site names (else `scale_fc.<i>` / `shift_fc.<i>`, i its place among the wired sites).
   */
  site(site: SiteInfo, x: Value): Node {
    const i = this.wired.get(site.name);
    const v = this.promptVectors.get(site.name);
    if (i === undefined || !v) return node(x);
    const names = { ...siteLayers(site, i), ...(site.init ? { init: site.init } : {}) };
    return modulate(this.b, node(x), v, names, shapeOf(x).kind === "tokens");
  }
}

function callable(program: LoadedProgram, name: string): CallableDecl {
  const d = program.root.scope.get(name);
  if (d?.kind !== "block" && d?.kind !== "backbone")
    throw new CompilerBug(`'${name}' is not a block or backbone in scope`);
  return d;
}

/** The spec's resolved arguments (defaults included) as elaboration values. */
function bind(decl: CallableDecl, args: Record<string, unknown>): Map<string, Value> {
  const out = new Map<string, Value>();
  for (const [k, v] of Object.entries(args)) {
    out.set(
      k,
      typeof v === "number" ? { t: "num", v } : typeof v === "boolean" ? { t: "bool", v } : { t: "str", v: String(v) },
    );
  }
  // Resolution lists every parameter, defaults included; a gap means the spec and the source disagree.
  for (const p of decl.params) if (!out.has(p.name.text)) throw new CompilerBug(`spec args miss '${p.name.text}'`);
  return out;
}

/**
 * Lowers an experiment's model (backbone + prompt wiring) for a batch of `batch` × 3 × `height` × `width`.
 * @example const m = lowerModel(checkFile("pipelines/seq_prompt.mio", { profile: "quick" }).program, spec, { batch: 4, height: 48, width: 48 });
 */
export function lowerModel(program: LoadedProgram, spec: ExperimentSpec, o: LowerOptions): LoweredModel {
  const b = new GraphBuilder({ seed: o.seed ?? spec.seed });
  const wired = new Map(spec.prompt.sites.map((s, i) => [s.name, i]));
  const seed = o.seed ?? spec.seed;
  const lowering = new GraphLowering(b, wired, o.train ? { train: trainDraws(b, seed, PLAN_IO.rngStep) } : {});
  const lq = b.input(PLAN_IO.lq, [o.batch, 3, o.height, o.width]);
  type Tensor = Extract<Value, { t: "tensor" }>;
  const input = (n: Node, c: number): Tensor => ({
    t: "tensor",
    shape: { kind: "map", c, down: 1, size: [n.shape[2] ?? 0, n.shape[3] ?? 0] },
    node: n,
  });
  const run = (decl: CallableDecl, args: Record<string, unknown>, x: Tensor, prefix: string) => {
    const size = showSize(x.shape.size ?? [0, 0]);
    const el = new Elaborator(program.root.scope, { lowering, sizeContext: `a ${size} input`, batch: o.batch });
    const out = el.run(decl, bind(decl, args), [x], prefix);
    if (el.diagnostics.length && el.diagnostics.every((d) => SIZE_CODES.includes(d.code)))
      throw new InputSizeError(decl.name.text, size, el.diagnostics);
    if (el.diagnostics.length || out?.t !== "tensor") {
      throw new CompilerBug(
        `lowering '${decl.name.text}' reported: ${el.diagnostics.map((d) => d.message).join("; ")}`,
      );
    }
    return out;
  };

  let prompt: Node | undefined;
  const feeds = promptExtractors(spec.prompt);
  if (feeds.length) {
    let p = input(lq, 3);
    if (spec.prompt.kind === "explicit") {
      const size = spec.prompt.maps?.kind === "random" ? spec.prompt.maps.size : 128;
      prompt = b.input(PLAN_IO.prompt, [o.batch, 1, size, size]);
      p = input(prompt, 1);
    } else if (o.promptImage) {
      prompt = b.input(PLAN_IO.prompt, [o.batch, 3, o.promptImage.height, o.promptImage.width]);
      p = input(prompt, 3);
    }
    // Every extractor reads the same prompt (Restormer_EP/AP's four F_ext nets all take the task's map, or the image).
    for (const f of feeds) {
      const v = node(run(callable(program, f.name), f.args, p, `${f.label}.`));
      for (const site of f.sites) lowering.promptVectors.set(site, v);
    }
  }
  const out = run(callable(program, spec.model.name), spec.model.args, input(lq, 3), "");
  // A restoration model returns its input's size (checked at the crop and tile; here at any size).
  const outSize = out.shape.size;
  if (!isClassifier(spec) && outSize && (outSize[0] !== o.height || outSize[1] !== o.width))
    throw new InputSizeError(spec.model.name, showSize([o.height, o.width]), [
      {
        ...error(
          codes.sizeMismatch,
          out.shape.resized?.span ?? callable(program, spec.model.name).name.span,
          `it returns ${showSize(outSize)}`,
        ),
      },
    ]);
  return { b, lq, out: node(out), ...(prompt ? { prompt } : {}) };
}

/** The forward-only program of a lowered model: its output, fetchable as `out`; no updates. */
export function forwardProgram(m: LoweredModel): Program {
  return { g: m.b.g, outputs: new Map([[PLAN_IO.out, m.out]]), updates: [] };
}

/**
 * The model's parameters and their shapes (which do not depend on the input size), from a lowering at `size`
 * pixels: the training crop by default, a size every checked model accepts.
 */
export function modelParamShapes(
  program: LoadedProgram,
  spec: ExperimentSpec,
  size = spec.data.crop,
): Map<string, readonly number[]> {
  const m = lowerModel(program, spec, { batch: 1, height: size, width: size });
  return new Map(m.b.paramList().map((p) => [p.name, p.node.shape]));
}
