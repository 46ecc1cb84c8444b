// Elaboration: runs a backbone or block with concrete parameter values over abstract tensors (kind, channels,
// stride), unrolling loops. It checks names, arity, types and shapes at the offending expression, and collects what
// the rest of mio needs: parameter tensors with their PyTorch names, and prompt sites with their channel counts.
import type { Arg, CallableDecl, Expr, LayerPath, Span, Stmt } from "../../grammar/ast.js";
import { codes, type Diagnostic, type DiagnosticCode, didYouMean, error } from "../../grammar/diagnostics.js";
import type { LayerInit } from "../ir/builder.js";
import { MAX_TENSOR_ELEMENTS } from "../ir/node.js";
import { declModules, type NamedDecl } from "../program.js";
import {
  type Args,
  type Builtin,
  builtins,
  type ParamType,
  type Scalar,
  ShapeError,
  type Size,
  type TShape,
  whyUncompilable,
} from "./builtins.js";

export type Value =
  | { t: "num"; v: number }
  | { t: "bool"; v: boolean }
  | { t: "str"; v: string }
  | { t: "list"; items: Value[] }
  /** `node` is the lowered IR value when a `Lowering` is attached (compiler/lower), else absent. */
  | { t: "tensor"; shape: TShape; node?: unknown };

/**
 * Turns elaboration into lowering: called with the values elaboration has already checked, it builds the real
 * graph. Elaboration alone (no lowering) is the checker; with one it is the front half of the compiler.
 */
export interface Lowering {
  builtin(name: string, args: Args, inputs: Value[], where: string | undefined, out: TShape): unknown;
  binary(op: "+" | "-" | "*" | "/" | "%", a: Value, b: Value, out: TShape): unknown;
  neg(x: Value): unknown;
  site(site: SiteInfo, x: Value): unknown;
}

export interface ElaborateOptions {
  /** Builds the graph as elaboration goes (compiler/lower); implies `compiled`. */
  lowering?: Lowering;
  /**
   * The result is to be compiled (an experiment's model, extractor or classifier): a layer the compiler cannot build
   * yet is an error at its call. Off, a library backbone that only declares such layers still checks.
   */
  compiled?: boolean;
  /**
   * What the input's size stands for, for messages about sizes: "the 128×128 training crop". With a sized input,
   * every layer's output size is followed (docs/language.md, "Sizes").
   */
  sizeContext?: string;
  /** The batch the model runs at: with a sized input, no tensor may pass MAX_TENSOR_ELEMENTS (MIO7002). */
  batch?: number;
}

export interface ParamTensor {
  name: string;
  shape: number[];
}

export interface SiteInfo {
  name: string;
  kind: TShape["kind"];
  channels: number;
  span: Span;
  /** The scale and shift linear layers' names, when the site declares them (`scale: ..., shift: ...`). */
  layers?: { scale: string; shift: string };
  /** Their init, when the site declares it (`init: "trunc_normal0.02"`); else nn.Linear's default. */
  init?: LayerInit;
}

/**
 * How a site's scale and shift layers may be initialised (`site x(init: ...)`): nn.Linear's default, SwinIR's
 * `_init_weights` (trunc normal 0.02, bias 0), BasicSR's 0.1-scaled Kaiming, or zeros (the identity at first).
 */
export const SITE_INITS: readonly LayerInit[] = ["pytorch", "trunc_normal0.02", "kaiming0.1", "zeros"];

/** A site's arguments besides its input: its two layers' names and their init. */
const SITE_ARGS = ["scale", "shift", "init"];

/**
 * The parameter-name prefixes of a wired site's scale and shift layers: those the site declares, else the
 * `scale_fc.<i>` / `shift_fc.<i>` of an nn.ModuleList (SRResNet_EP/AP's), `i` being the site's place among the
 * experiment's wired sites.
 */
export function siteLayers(site: Pick<SiteInfo, "layers">, wired: number): { scale: string; shift: string } {
  return site.layers ?? { scale: `scale_fc.${wired}`, shift: `shift_fc.${wired}` };
}

export interface Elaboration {
  output?: TShape;
  params: ParamTensor[];
  sites: SiteInfo[];
  diagnostics: Diagnostic[];
}

type Note = NonNullable<Diagnostic["notes"]>[number];

/** A size [height, width] as messages print it, width first as for images: [96, 128] is `128×96`. */
export const showSize = (s: Size): string => `${s[1]}×${s[0]}`;

/** Bails out of the current statement after a diagnostic, so one mistake is reported once. */
class Reported extends Error {}

/** A backbone or block being elaborated, and the call that instantiated it (none for a declaration checked as is). */
interface Frame {
  name: string;
  /** The file the callee is written in. */
  file: string;
  call?: Span;
}

const MAX_UNROLL = 4096;
/** Block calls inside block calls: deeper is a block that calls itself (directly or through others) without end. */
export const MAX_CALL_DEPTH = 64;
/** Operations nested in one another (a sum of many terms is a deep tree): far deeper would overflow the stack. */
export const MAX_EXPR_DEPTH = 400;
/**
 * The work one elaboration may do, over all loops and the blocks they call: loop iterations, statements and layer
 * calls (docs/language.md, "Blocks and backbones"). Nested loops multiply, so bounding each loop alone is not enough.
 * stdlib's models take under 500 (PromptIR 470, SwinIR's 6 groups of 6 layers 403); 200,000 check in about 0.5 s.
 */
export const MAX_STEPS = 200_000;
/**
 * The most layer calls and tensor operations a compiled model (an experiment's model, extractor or classifier) may
 * have: compiling takes milliseconds per operation, so a model far past this is refused rather than compiled for
 * minutes (SRResNet(blocks: 1000), 4,000 of them and a 440 GiB train step, took 15 s). stdlib's SRResNet has 70.
 */
export const MAX_TENSOR_OPS = 2_000;

export class Elaborator {
  readonly params: ParamTensor[] = [];
  readonly sites: SiteInfo[] = [];
  readonly diagnostics: Diagnostic[] = [];
  private readonly seen = new Set<string>();
  private readonly paramNames = new Map<string, Span>();
  private readonly siteNames = new Set<string>();
  private readonly lowering?: Lowering;
  private readonly compiled: boolean;
  /** The block calls being elaborated, outermost first (for the call-depth limit and its message). */
  private readonly calls: string[] = [];
  private exprDepth = 0;
  /** The calls being elaborated, outermost first; a mistake in another file is reported at one of them. */
  private readonly frames: Frame[] = [];
  /** Call sites that already carry an error from inside the callee: one error per call. */
  private readonly rehomed = new Set<string>();
  /** Names whose assignment failed, by environment: their uses are follow-on errors, not reported again. */
  private readonly failed = new WeakMap<Map<string, Value>, Set<string>>();
  /** Mistakes reported so far, deduplicated or not (`diagnostics` alone misses a repeat in a loop). */
  private failures = 0;
  /** Steps taken against MAX_STEPS, and the loops being unrolled (outermost first) to report an overrun at. */
  private steps = 0;
  private readonly loops: Span[] = [];
  /** The size of the input image being elaborated at, if known: a tensor "on track" is this size over its `down`. */
  private imageSize?: Size;
  private readonly sizeContext: string;
  private readonly batch: number;
  /** Layer calls and tensor operations so far, against MAX_TENSOR_OPS. */
  private tensorOps = 0;

  constructor(
    private scope: Map<string, NamedDecl>,
    options: ElaborateOptions = {},
  ) {
    this.lowering = options.lowering;
    this.compiled = options.compiled === true || options.lowering !== undefined;
    this.sizeContext = options.sizeContext ?? "the input";
    this.batch = options.batch ?? 1;
  }

  /**
   * Elaborates `decl` with bound parameters and input shapes; returns its output. With `call` (where the user's file
   * calls it), a mistake the arguments cause inside another file is reported at `call` (docs/language.md,
   * "Diagnostics").
   */
  run(decl: CallableDecl, params: Map<string, Value>, inputs: Value[], prefix: string, call?: Span): Value | undefined {
    const first = inputs[0];
    if (first?.t === "tensor" && first.shape.size) this.imageSize ??= first.shape.size;
    return this.within({ name: decl.name.text, file: decl.name.span.file, call }, () =>
      this.runIn(decl, params, inputs, prefix),
    );
  }

  private runIn(decl: CallableDecl, params: Map<string, Value>, inputs: Value[], prefix: string): Value | undefined {
    // A body sees the names of the module it was written in, not those of its caller.
    const callerScope = this.scope;
    this.scope = declModules.get(decl)?.scope ?? callerScope;
    try {
      return this.runBody(decl, params, inputs, prefix);
    } finally {
      this.scope = callerScope;
    }
  }

  private within<R>(frame: Frame, f: () => R): R {
    this.frames.push(frame);
    try {
      return f();
    } finally {
      this.frames.pop();
    }
  }

  private runBody(decl: CallableDecl, params: Map<string, Value>, inputs: Value[], prefix: string): Value | undefined {
    const env = new Map<string, Value>(params);
    decl.inputs.forEach((inp, i) => {
      const v = inputs[i];
      if (v) env.set(inp.name.text, v);
    });
    try {
      return this.block(decl.body, env, prefix, decl);
    } catch (e) {
      if (e instanceof Reported) return undefined;
      throw e;
    }
  }

  report(code: DiagnosticCode, span: Span, message: string, hint?: string, notes: Note[] = []): never {
    this.failures++;
    this.record(code, span, message, hint, notes);
    throw new Reported();
  }

  /**
   * Adds a diagnostic once per place and message (a call in a loop or a block is elaborated many times). `notes`
   * follow those leading from the user's call to the mistake.
   */
  private record(code: DiagnosticCode, span: Span, message: string, hint?: string, notes: Note[] = []): void {
    // A layer that cannot compile is the library's limit, not the caller's mistake: it stays where it is.
    const home = code === codes.uncompilable ? undefined : this.rehome(span);
    if (home) {
      const key = `${home.at.file}:${home.at.start.offset}`;
      if (this.rehomed.has(key)) return;
      this.rehomed.add(key);
      const d = error(code, home.at, message, hint ?? `the arguments make '${home.callee}' fail inside; see the note`);
      d.notes = [...home.notes, ...notes];
      this.diagnostics.push(d);
      return;
    }
    const key = `${code}@${span.file}:${span.start.offset}:${message}`;
    if (!this.seen.has(key)) {
      this.seen.add(key);
      this.diagnostics.push({ ...error(code, span, message, hint), ...(notes.length ? { notes } : {}) });
    }
  }

  /**
   * A mistake in another file than the outermost call's is reported at the innermost call written in that file, with
   * notes leading from it to where the mistake is: the user's arguments caused it, and the user's file is what they
   * can change.
   */
  private rehome(span: Span): { at: Span; callee: string; notes: Note[] } | undefined {
    const outer = this.frames[0];
    const file = outer?.call?.file ?? outer?.file;
    if (!outer || span.file === file) return undefined;
    let k = -1;
    for (let i = 0; i < this.frames.length; i++) if (this.frames[i]?.call?.file === file) k = i;
    if (k < 0) return undefined;
    const frames = this.frames.slice(k);
    const at = frames[0]?.call as Span;
    const notes = frames.slice(1).map((f, i) => ({
      span: f.call as Span,
      message: `in '${frames[i]?.name}', which calls '${f.name}' here`,
    }));
    notes.push({ span, message: `in '${frames.at(-1)?.name}', instantiated from the call above` });
    return { at, callee: frames[0]?.name ?? "", notes };
  }

  private block(body: Stmt[], env: Map<string, Value>, prefix: string, decl: CallableDecl): Value | undefined {
    for (const s of body) {
      try {
        const ret = this.statement(s, env, prefix, decl);
        if (ret) return ret;
        if (s.kind === "assign") this.failed.get(env)?.delete(s.target.text);
      } catch (e) {
        if (!(e instanceof Reported)) throw e;
        // Keep checking the remaining statements; a target whose assignment failed is not reported again where it
        // is used (that would be the same mistake, and a "did you mean" for a name that is fine).
        if (s.kind === "assign") {
          env.delete(s.target.text);
          const failed = this.failed.get(env) ?? new Set<string>();
          failed.add(s.target.text);
          this.failed.set(env, failed);
        }
      }
    }
    return undefined;
  }

  /** Counts one step against MAX_STEPS; past it, the outermost loop being unrolled (else `span`) is reported once. */
  private step(span: Span): void {
    if (++this.steps <= MAX_STEPS) return;
    if (this.steps === MAX_STEPS + 1) {
      this.record(
        codes.tooLarge,
        this.loops[0] ?? span,
        `this unrolls to more than ${MAX_STEPS.toLocaleString("en-US")} steps (loop iterations, statements and layer calls)`,
        "nested loops multiply; use fewer or shorter loops",
      );
    }
    throw new Reported();
  }

  private statement(s: Stmt, env: Map<string, Value>, prefix: string, decl: CallableDecl): Value | undefined {
    this.step(s.span);
    switch (s.kind) {
      case "assign":
        env.set(s.target.text, this.expr(s.value, env, prefix));
        return undefined;
      case "return":
        return this.expr(s.value, env, prefix);
      case "for": {
        if (s.range.kind !== "range") {
          this.report(codes.typeMismatch, s.range.span, "a for loop needs a range", "write: for i in 0..n { ... }");
        }
        const from = this.int(s.range.from, env, prefix);
        const to = this.int(s.range.to, env, prefix);
        if (to < from) {
          this.report(
            codes.badValue,
            s.range.span,
            `the loop range ${from}..${to} runs backwards`,
            "its end must be at least its start (0..0 runs no times)",
          );
        }
        if (to - from > MAX_UNROLL)
          this.report(codes.badValue, s.range.span, `loop of ${to - from} iterations is too long`);
        this.loops.push(s.range.span);
        try {
          for (let i = from; i < to; i++) {
            this.step(s.range.span);
            env.set(s.variable.text, { t: "num", v: i });
            const ret = this.block(s.body, env, prefix, decl);
            if (ret) return ret;
          }
        } finally {
          this.loops.pop();
        }
        env.delete(s.variable.text);
        return undefined;
      }
    }
  }

  private int(e: Expr, env: Map<string, Value>, prefix: string): number {
    const v = this.expr(e, env, prefix);
    if (v.t !== "num" || !Number.isInteger(v.v))
      this.report(codes.typeMismatch, e.span, `expected an integer, found ${describe(v)}`);
    return v.v;
  }

  expr(e: Expr, env: Map<string, Value>, prefix: string, piped?: Value): Value {
    if (this.exprDepth >= MAX_EXPR_DEPTH)
      this.report(
        codes.tooDeep,
        e.span,
        `expression nested more than ${MAX_EXPR_DEPTH} operations deep`,
        "split it into several statements",
      );
    this.exprDepth++;
    try {
      return this.exprAt(e, env, prefix, piped);
    } finally {
      this.exprDepth--;
    }
  }

  private exprAt(e: Expr, env: Map<string, Value>, prefix: string, piped?: Value): Value {
    switch (e.kind) {
      case "number":
        return { t: "num", v: e.value };
      case "string":
        return { t: "str", v: e.value };
      case "bool":
        return { t: "bool", v: e.value };
      case "list":
        return { t: "list", items: e.items.map((x) => this.expr(x, env, prefix)) };
      case "neg": {
        const v = this.expr(e.operand, env, prefix);
        if (v.t === "num") return { t: "num", v: -v.v };
        if (v.t === "tensor") return this.lowering ? { ...v, node: this.lowering.neg(v) } : v;
        return this.report(codes.typeMismatch, e.span, `cannot negate ${describe(v)}`);
      }
      case "binary":
        return this.binary(e, env, prefix);
      case "ref": {
        if (piped) return this.call(e.path, [], [piped], undefined, e.span, env, prefix);
        const name = e.path.join(".");
        const v = env.get(name);
        if (v) return v;
        if (this.failed.get(env)?.has(name)) throw new Reported(); // its assignment's error explains it
        if (e.path.length === 1 && (builtins[name] || this.scope.has(name))) {
          this.report(codes.typeMismatch, e.span, `'${name}' is a layer, not a value`, `apply it: x |> ${name}`);
        }
        return this.report(codes.unknownName, e.span, `unknown name '${name}'`, didYouMean(name, env.keys()));
      }
      case "call": {
        const inputs = (e.inputs ?? []).map((a) => this.inputArg(a, env, prefix));
        if (piped) inputs.push(piped);
        return this.call(e.callee, e.args, inputs, e.label, e.span, env, prefix);
      }
      case "site": {
        const input = piped ?? (e.input ? this.expr(e.input, env, prefix) : undefined);
        if (input?.t !== "tensor") {
          return this.report(
            codes.typeMismatch,
            e.span,
            "a site takes a tensor",
            "write: site name (x) or x |> site name",
          );
        }
        const name = this.layerName(e.name, env, prefix);
        if (this.siteNames.has(name)) this.report(codes.duplicate, e.name.span, `site '${name}' is declared twice`);
        const info: SiteInfo = {
          name,
          kind: input.shape.kind,
          channels: input.shape.c,
          span: e.name.span,
          ...this.siteArgs(e, env, prefix),
        };
        this.siteNames.add(name);
        this.sites.push(info);
        return this.lowering ? { ...input, node: this.lowering.site(info, input) } : input;
      }
      case "pipe": {
        let v = this.expr(e.head, env, prefix);
        for (const stage of e.stages) v = this.expr(stage, env, prefix, v);
        return v;
      }
      case "range":
        return this.report(codes.typeMismatch, e.span, "a range is only allowed in a for loop");
      case "chain":
        return this.report(codes.typeMismatch, e.span, "'->' is only used in curricula (order a -> b)");
      case "labeled":
        return this.report(codes.badArguments, e.label.span, "a label names a layer call", "write: name: conv(64)(x)");
    }
  }

  /**
   * A site's `scale:` and `shift:` layer names (prefixed like labels, and unique among the layer names) and its
   * `init:`. Both names or neither: half a declared pair would leave the other layer under a name nobody chose.
   */
  private siteArgs(
    e: Extract<Expr, { kind: "site" }>,
    env: Map<string, Value>,
    prefix: string,
  ): Pick<SiteInfo, "layers" | "init"> {
    const given = new Map<string, NonNullable<typeof e.args>[number]>();
    for (const a of e.args ?? []) {
      if (!a.name) this.report(codes.badArguments, a.span, "a site takes one input", "write: site name (x)");
      const key = a.name.text;
      if (!SITE_ARGS.includes(key)) {
        const hint = didYouMean(key, SITE_ARGS) ?? `its parameters: ${SITE_ARGS.join(", ")}`;
        this.report(codes.badArguments, a.name.span, `a site has no parameter '${key}'`, hint);
      }
      if (given.has(key)) this.report(codes.duplicate, a.name.span, `parameter '${key}' is given twice`);
      if (key !== "init" && !a.layer) {
        this.report(
          codes.typeMismatch,
          a.value?.span ?? a.span,
          `a site's ${key} is the name of its ${key} layer, found ${a.value ? describe(this.expr(a.value, env, prefix)) : "nothing"}`,
          `write a label: ${key}: prompt_${key}_last (or layers[g].prompt_${key})`,
        );
      }
      given.set(key, a);
    }
    const out: Pick<SiteInfo, "layers" | "init"> = {};
    const init = given.get("init");
    if (init?.value) {
      const v = this.expr(init.value, env, prefix);
      if (v.t !== "str")
        this.report(codes.typeMismatch, init.value.span, `a site's init must be a string, found ${describe(v)}`);
      if (!(SITE_INITS as readonly string[]).includes(v.v)) {
        this.report(
          codes.badValue,
          init.value.span,
          `a site's init must be one of ${SITE_INITS.map((i) => `"${i}"`).join(", ")}, found "${v.v}"`,
          didYouMean(v.v, SITE_INITS),
        );
      }
      out.init = v.v as LayerInit;
    }
    const [scale, shift] = [given.get("scale"), given.get("shift")];
    if (!scale?.layer !== !shift?.layer) {
      const [has, lacks] = scale ? ["scale", "shift"] : ["shift", "scale"];
      this.report(
        codes.badArguments,
        e.span,
        `a site that names its ${has} layer must name its ${lacks} layer too`,
        `add ${lacks}: <name>`,
      );
    }
    if (scale?.layer && shift?.layer) {
      const names = [scale.layer, shift.layer].map((l) => {
        const where = this.layerName(l, env, prefix);
        if (this.paramNames.has(where))
          this.report(codes.duplicate, l.span, `layer name '${where}' is used twice`, "each layer needs its own name");
        this.paramNames.set(where, l.span);
        return where;
      });
      out.layers = { scale: names[0] as string, shift: names[1] as string };
    }
    return out;
  }

  private inputArg(a: Arg, env: Map<string, Value>, prefix: string): Value {
    if (a.name) this.report(codes.badArguments, a.name.span, "inputs are positional", "drop the name");
    return this.expr(a.value, env, prefix);
  }

  private binary(e: Extract<Expr, { kind: "binary" }>, env: Map<string, Value>, prefix: string): Value {
    const l = this.expr(e.left, env, prefix);
    const r = this.expr(e.right, env, prefix);
    const v = this.binaryShape(e, l, r);
    if (v.t !== "tensor") return v;
    this.produced(v.shape, e.span);
    return this.lowering ? { ...v, node: this.lowering.binary(e.op, l, r, v.shape) } : v;
  }

  private binaryShape(e: Extract<Expr, { kind: "binary" }>, l: Value, r: Value): Value {
    if (l.t === "num" && r.t === "num") {
      const ops = { "+": l.v + r.v, "-": l.v - r.v, "*": l.v * r.v, "/": l.v / r.v, "%": l.v % r.v };
      return { t: "num", v: ops[e.op] };
    }
    const n = l.t === "num" ? l : r.t === "num" ? r : undefined;
    // A number that reaches a kernel must be finite, and a tensor divided by 0 is all infinities.
    if (n && (l.t === "tensor" || r.t === "tensor")) {
      if (!Number.isFinite(n.v))
        this.report(codes.badValue, e.span, `'${e.op}' of a tensor and ${n.v}`, "the number must be finite");
      if (e.op === "/" && r === n && n.v === 0) this.report(codes.badValue, e.span, "a tensor divided by 0");
    }
    if (l.t === "tensor" && r.t === "num" && e.op !== "%") return l;
    if (l.t === "num" && r.t === "tensor" && e.op !== "/" && e.op !== "%") return r;
    if (l.t !== "tensor" || r.t !== "tensor") {
      return this.report(codes.typeMismatch, e.span, `cannot apply '${e.op}' to ${describe(l)} and ${describe(r)}`);
    }
    const [a, b] = [l.shape, r.shape];
    // A vector broadcasts over a map's or tokens' positions (channel-wise scale and shift).
    if (a.kind === "vector" || b.kind === "vector") {
      if (a.c !== b.c) this.channelMismatch(e, a, b);
      return { t: "tensor", shape: a.kind === "vector" ? b : a };
    }
    if (a.c !== b.c) this.channelMismatch(e, a, b);
    if (a.down !== b.down) {
      this.report(
        codes.strideMismatch,
        e.span,
        `'${e.op}' of tensors at different resolutions: 1/${a.down} and 1/${b.down} of the input`,
        "a strided conv or pixel_unshuffle changed one side; resample the other to match",
      );
    }
    if (a.size && b.size && (a.size[0] !== b.size[0] || a.size[1] !== b.size[1])) {
      this.report(
        codes.sizeMismatch,
        e.span,
        `'${e.op}' of tensors of different sizes: ${showSize(a.size)} and ${showSize(b.size)} for ${this.sizeContext}`,
        SIZE_HINT,
        resizedNotes([a, b]),
      );
    }
    return { t: "tensor", shape: a };
  }

  /**
   * The output shape of builtin `name` with its spatial size: each side through the layer's side rule, all inputs of
   * one size (concat), and the call noted when it takes the size off track (not the input's size at this resolution).
   */
  private sized(name: string, b: Builtin, a: Args, ins: TShape[], out: TShape, span: Span): TShape {
    const { size: _, resized: __, ...bare } = out;
    const x = ins[0];
    if (out.kind === "vector" || !x?.size) return bare;
    // A layer with a `sizes` rule takes inputs of different sizes (crop_to); the others need one size.
    const other = b.sizes
      ? undefined
      : ins.find((s) => s.size && (s.size[0] !== x.size?.[0] || s.size[1] !== x.size?.[1]));
    if (other?.size) {
      this.report(
        codes.sizeMismatch,
        span,
        `'${name}' of tensors of different sizes: ${showSize(x.size)} and ${showSize(other.size)} for ${this.sizeContext}`,
        SIZE_HINT,
        resizedNotes([x, other]),
      );
    }
    let size: Size = x.size;
    try {
      if (b.sizes && ins.every((s) => s.size))
        size = b.sizes(
          ins.map((s) => s.size as Size),
          a,
        );
      else if (b.side) size = [b.side(x.size[0], a), b.side(x.size[1], a)];
    } catch (e) {
      if (!(e instanceof ShapeError)) throw e;
      return this.report(codes.sizeMismatch, span, `${e.message} (for ${this.sizeContext})`, e.hint, resizedNotes([x]));
    }
    const shape: TShape = { ...bare, size };
    if (this.onTrack(shape)) return shape;
    const resized = this.onTrack(x)
      ? { span, message: `'${name}' here turns ${showSize(x.size)} into ${showSize(size)}` }
      : x.resized;
    return resized ? { ...shape, resized } : shape;
  }

  /** Whether a sized tensor is the input image's size at its resolution (what adding it to the input assumes). */
  private onTrack(s: TShape): boolean {
    const img = this.imageSize;
    if (!img || !s.size) return true;
    return Math.abs(s.size[0] * s.down - img[0]) < 1e-9 && Math.abs(s.size[1] * s.down - img[1]) < 1e-9;
  }

  /**
   * A tensor the model makes at `span`: at the batch it runs at, it must stay within what a kernel indexes, and a
   * compiled model makes at most MAX_TENSOR_OPS of them (reported once, at the outermost loop making them).
   */
  private produced(s: TShape, span: Span): void {
    if (this.compiled && ++this.tensorOps > MAX_TENSOR_OPS) {
      this.failures++; // the calls it bails out of did not just return nothing
      if (this.tensorOps === MAX_TENSOR_OPS + 1) {
        this.record(
          codes.modelTooLarge,
          this.loops[0] ?? span,
          `this model has more than ${MAX_TENSOR_OPS.toLocaleString("en-US")} layer calls and tensor operations, more than mio compiles`,
          "use fewer blocks or layers (stdlib's SRResNet has 70)",
        );
      }
      throw new Reported();
    }
    const elements = this.batch * s.c * (s.size ? s.size[0] * s.size[1] : 1);
    if (elements <= MAX_TENSOR_ELEMENTS) return;
    const shape = s.size ? `${s.c} × ${showSize(s.size)}` : `${s.c}`;
    this.report(
      codes.modelTooLarge,
      span,
      `this makes a tensor of ${this.batch} × ${shape} = ${elements.toPrecision(3)} values for ${this.sizeContext}, ` +
        `over the ${MAX_TENSOR_ELEMENTS.toLocaleString("en-US")} one kernel can index (8 GiB of float32)`,
      "use fewer channels, or a smaller crop, tile or batch",
    );
  }

  private channelMismatch(e: Extract<Expr, { kind: "binary" }>, a: TShape, b: TShape): never {
    return this.report(
      codes.channelMismatch,
      e.span,
      `'${e.op}' of tensors with different channels: ${a.c} and ${b.c}`,
      "make both sides the same width, e.g. with a 1x1 conv",
    );
  }

  private layerName(path: LayerPath, env: Map<string, Value>, prefix: string): string {
    const parts = path.segments.flatMap((s) => (s.index ? [s.name, String(this.int(s.index, env, prefix))] : [s.name]));
    return prefix + parts.join(".");
  }

  private call(
    callee: string[],
    args: Arg[],
    inputs: Value[],
    label: LayerPath | undefined,
    span: Span,
    env: Map<string, Value>,
    prefix: string,
  ): Value {
    this.step(span);
    const name = callee.join(".");
    const builtin = builtins[name];
    const decl = this.scope.get(name);
    if (!builtin && (!decl || decl.kind === "task" || decl.kind === "testset" || decl.kind === "experiment")) {
      const candidates = [
        ...Object.keys(builtins),
        ...[...this.scope].filter(([, d]) => d.kind === "block").map(([n]) => n),
      ];
      return this.report(codes.unknownName, span, `unknown layer '${name}'`, didYouMean(name, candidates));
    }
    const where = label ? this.layerName(label, env, prefix) : undefined;
    for (const v of inputs) {
      if (v.t !== "tensor")
        this.report(codes.typeMismatch, span, `'${name}' takes tensors as inputs, found ${describe(v)}`);
    }
    const shapes = inputs.map((v) => (v as Extract<Value, { t: "tensor" }>).shape);
    if (builtin) return this.callBuiltin(name, builtin, args, inputs, shapes, where, label, span, env, prefix);
    const block = decl as CallableDecl;
    if (block.kind === "backbone")
      this.report(codes.typeMismatch, span, `'${name}' is a backbone; a backbone is used as an experiment's model`);
    if (!where)
      this.report(
        codes.badArguments,
        span,
        `block '${name}' has parameters, so the call needs a name`,
        `write: name: ${name}(...)`,
      );
    if (inputs.length !== block.inputs.length) {
      this.report(codes.badArguments, span, `'${name}' takes ${block.inputs.length} input(s) but got ${inputs.length}`);
    }
    if (this.calls.length >= MAX_CALL_DEPTH) {
      const cycle = this.calls.slice(this.calls.lastIndexOf(name));
      this.report(
        codes.callDepth,
        span,
        `block calls nested more than ${MAX_CALL_DEPTH} deep: '${name}' calls itself without end`,
        cycle.length > 1 ? `the calls go ${[...cycle, name].join(" -> ")}` : undefined,
      );
    }
    const before = this.failures;
    this.calls.push(name);
    let out: Value | undefined;
    try {
      out = this.within({ name, file: block.name.span.file, call: span }, () => {
        const bound = this.bindDeclParams(block, args, span, env, prefix);
        return this.runIn(block, bound, inputs, `${where}.`);
      });
    } finally {
      this.calls.pop();
    }
    if (!out && this.failures !== before) throw new Reported(); // the body's own error explains it
    if (!out) this.report(codes.badOutput, span, `'${name}' returned nothing`, "its body needs a return statement");
    return out;
  }

  private callBuiltin(
    name: string,
    b: Builtin,
    args: Arg[],
    inputs: Value[],
    shapes: TShape[],
    where: string | undefined,
    label: LayerPath | undefined,
    span: Span,
    env: Map<string, Value>,
    prefix: string,
  ): Value {
    const a = this.bindBuiltinParams(name, b, args, span, env, prefix);
    if (b.inputs !== "many" && shapes.length !== b.inputs) {
      const hint = shapes.length === 0 ? `apply it to a tensor: x |> ${name}(...)` : undefined;
      this.report(codes.badArguments, span, `'${name}' takes ${b.inputs} input(s) but got ${shapes.length}`, hint);
    }
    if (b.inputs === "many" && shapes.length < 1)
      this.report(codes.badArguments, span, `'${name}' needs at least one input`);
    let out: TShape;
    try {
      out = b.shape(a, shapes);
    } catch (e) {
      if (!(e instanceof ShapeError)) throw e;
      const code = {
        channel: codes.channelMismatch,
        stride: codes.strideMismatch,
        kind: codes.typeMismatch,
        size: codes.sizeMismatch,
        value: codes.badValue,
      }[e.code];
      return this.report(code, span, e.message, e.hint);
    }
    out = this.sized(name, b, a, shapes, out, span);
    this.produced(out, span);
    if (b.weights) {
      if (!where || !label) {
        return this.report(
          codes.badArguments,
          span,
          `'${name}' has weights, so the call needs a name`,
          `write: conv1: ${name}(...)`,
        );
      }
      if (this.paramNames.has(where)) {
        this.report(
          codes.duplicate,
          label.span,
          `layer name '${where}' is used twice`,
          "each layer needs its own name",
        );
      }
      this.paramNames.set(where, label.span);
      for (const [suffix, shape] of b.weights(a, shapes)) this.params.push({ name: `${where}.${suffix}`, shape });
    } else if (label) {
      this.report(codes.badArguments, label.span, `'${name}' has no weights, so it takes no name`);
    }
    const uncompilable = this.compiled ? whyUncompilable(name, a) : undefined;
    if (uncompilable) {
      // The shape is known, so checking goes on past the call (one diagnostic per call site); lowering cannot.
      this.record(codes.uncompilable, span, uncompilable.message, uncompilable.hint);
      if (this.lowering) throw new Reported();
    }
    const node = this.lowering?.builtin(name, a, inputs, where, out);
    return node === undefined ? { t: "tensor", shape: out } : { t: "tensor", shape: out, node };
  }

  private bindBuiltinParams(
    name: string,
    b: Builtin,
    args: Arg[],
    span: Span,
    env: Map<string, Value>,
    prefix: string,
  ): Args {
    const values = this.bindArgs(
      name,
      b.params.map((p) => p.name),
      args,
      span,
      env,
      prefix,
    );
    const out: Args = {};
    for (const p of b.params) {
      const v = values.get(p.name);
      if (!v) {
        if (p.default === undefined) this.report(codes.badArguments, span, `'${name}' needs parameter '${p.name}'`);
        out[p.name] = p.default;
        continue;
      }
      out[p.name] = this.scalar(v.value, p.type, v.span, `${name}.${p.name}`, v.expr);
      if (p.min !== undefined && Number(out[p.name]) < p.min) {
        this.report(codes.badValue, v.span, `${name}.${p.name} must be at least ${p.min}, found ${out[p.name]}`);
      }
      if (p.max !== undefined && Number(out[p.name]) > p.max) {
        this.report(
          codes.badValue,
          v.span,
          `${name}.${p.name} must be at most ${p.max.toLocaleString("en-US")}, found ${out[p.name]}`,
        );
      }
    }
    if (name === "conv" && out.pad === -1) out.pad = Math.floor(Number(out.k) / 2);
    return out;
  }

  /** `bindDeclParams` for callers outside elaboration: a mistake is a diagnostic and the result is undefined. */
  tryBind(decl: CallableDecl, args: Arg[], span: Span): Map<string, Value> | undefined {
    try {
      // A default that fails for these arguments is reported at the call, as `run` does for the body.
      return this.within({ name: decl.name.text, file: decl.name.span.file, call: span }, () =>
        this.bindDeclParams(decl, args, span, new Map(), ""),
      );
    } catch (e) {
      if (e instanceof Reported) return undefined;
      throw e;
    }
  }

  bindDeclParams(
    decl: CallableDecl,
    args: Arg[],
    span: Span,
    env: Map<string, Value>,
    prefix: string,
  ): Map<string, Value> {
    const values = this.bindArgs(
      decl.name.text,
      decl.params.map((p) => p.name.text),
      args,
      span,
      env,
      prefix,
    );
    const out = new Map<string, Value>();
    for (const p of decl.params) {
      const given = values.get(p.name.text);
      if (given) {
        this.scalar(given.value, p.type.text as ParamType, given.span, `${decl.name.text}.${p.name.text}`, given.expr);
        out.set(p.name.text, given.value);
        continue;
      }
      if (!p.default) this.report(codes.badArguments, span, `'${decl.name.text}' needs parameter '${p.name.text}'`);
      // Defaults may refer to earlier parameters: `hidden: int = feat * 2`. They are typed like arguments (an unknown
      // type is reported once, by check/static).
      const v = this.expr(p.default, out, prefix);
      if (["int", "float", "bool", "string"].includes(p.type.text))
        this.scalar(v, p.type.text, p.default.span, `${decl.name.text}.${p.name.text}`, p.default);
      out.set(p.name.text, v);
    }
    return out;
  }

  private bindArgs(
    callee: string,
    names: string[],
    args: Arg[],
    span: Span,
    env: Map<string, Value>,
    prefix: string,
  ): Map<string, { value: Value; span: Span; expr: Expr }> {
    const out = new Map<string, { value: Value; span: Span; expr: Expr }>();
    let position = 0;
    for (const a of args) {
      const name = a.name?.text ?? names[position++];
      if (name === undefined) {
        this.report(
          codes.badArguments,
          a.span,
          `'${callee}' takes ${names.length} parameter(s) but got more`,
          names.length ? `its parameters: ${names.join(", ")}` : `pass tensors as inputs: x |> ${callee}`,
        );
      }
      if (!names.includes(name)) {
        const hint = didYouMean(name, names) ?? `its parameters: ${names.join(", ") || "(none)"}`;
        this.report(codes.badArguments, a.name?.span ?? a.span, `'${callee}' has no parameter '${name}'`, hint);
      }
      if (out.has(name)) this.report(codes.duplicate, a.span, `parameter '${name}' is given twice`);
      out.set(name, { value: this.expr(a.value, env, prefix), span: a.value.span, expr: a.value });
    }
    void span;
    return out;
  }

  /** `v` as a parameter of `type`; `e`, the expression it came from, tells a literal from a computed number. */
  private scalar(v: Value, type: ParamType | string, span: Span, what: string, e?: Expr): Scalar {
    const ok =
      (type === "int" && v.t === "num" && Number.isInteger(v.v)) ||
      (type === "float" && v.t === "num") ||
      (type === "bool" && v.t === "bool") ||
      (type === "string" && v.t === "str");
    if (!["int", "float", "bool", "string"].includes(type)) {
      this.report(
        codes.typeMismatch,
        span,
        `unknown parameter type '${type}'`,
        didYouMean(type, ["int", "float", "bool", "string"]),
      );
    }
    if (!ok) this.report(codes.typeMismatch, span, `${what} must be ${article(type)} ${type}, found ${describe(v)}`);
    // A computed number can still be infinite or NaN (`1e300 * 1e300`, `0 / 0`). An infinite literal is reported
    // where it is written (compile.ts's checkFinite, and the experiment's call: resolve/experiment.ts).
    if (v.t === "num" && !Number.isFinite(v.v) && e?.kind !== "number")
      this.report(codes.badValue, span, `${what} must be a finite number, found ${v.v}`);
    return (v as { v: Scalar }).v;
  }
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? "an" : "a";
}

export function describe(v: Value): string {
  switch (v.t) {
    case "num":
      return `the number ${v.v}`;
    case "bool":
      return `the boolean ${v.v}`;
    case "str":
      return `the string "${v.v}"`;
    case "list":
      return "a list";
    case "tensor":
      return `a ${v.shape.kind} with ${v.shape.c} channels`;
  }
}

/** An image input: 3 channels at full resolution, of `size` when it is known. */
export const imageShape = (c = 3, size?: Size): TShape => ({ kind: "map", c, down: 1, ...(size ? { size } : {}) });

/** The hint for two sizes that disagree. */
const SIZE_HINT =
  "at stride 1 a conv keeps the size with an odd k and pad (k - 1) / 2; a stride s needs sides divisible by s";

/** Notes at the calls that took these tensors off the input's size. */
function resizedNotes(shapes: TShape[]): Note[] {
  const notes = shapes.flatMap((s) => (s.resized ? [s.resized] : []));
  return notes.filter((n, i) => notes.findIndex((m) => m.span === n.span) === i);
}
