// Every construct of the .mio language parses, checks without a diagnostic, and builds the AST it should.
// The AST print (helpers.ts `printAst`) parenthesises every binary operator and pipe, so precedence is visible.
import { describe, expect, it } from "vitest";
import { parseMio } from "../../../grammar/parse.js";
import { check, expectParses, expr, printAst } from "./helpers.js";

/** A block around one statement list, for expression tests: `x` and `c` are defined. */
const inBlock = (body: string) => `block B(c: int)(x) { ${body} }`;
const printed = (body: string) => `block B(c: int)(x) { ${body} }`;

describe("declarations", () => {
  it.each([
    ["use stdlib/tasks", "use stdlib/tasks"],
    ["use stdlib/backbones/srresnet", "use stdlib/backbones/srresnet"],
    ["block Id()(x) { return x }", "block Id()(x) { return x }"],
    ["block Two(a: int, b: float)(x, y) { return x + y }", "block Two(a: int, b: float)(x, y) { return (x + y) }"],
    [
      "backbone Net(feat: int = 8, half: int = feat / 2)(lq: image) { return lq }",
      "backbone Net(feat: int = 8, half: int = (feat / 2))(lq: image) { return lq }",
    ],
    [
      'block S(mode: string = "zeros", on: bool = true)(x) { return x }',
      'block S(mode: string = "zeros", on: bool = true)(x) { return x }',
    ],
    ['task t { title "T" }', 'task t { title "T" }'],
    ["experiment e { }", "experiment e { }"],
  ])("%s", (src, ast) => expect(printAst(parseMio(src, "f.mio").ast.decls)).toBe(ast));

  it("a relative use loads the file next to this one", () =>
    expectParses({ "main.mio": 'use "./lib.mio"\n', "lib.mio": "block Id()(x) { return x }\n" }, 'use "./lib.mio"'));

  it("an empty file and a file of comments are fine", () => {
    expectParses("", "");
    expectParses("// nothing here\n/* nor\n here */\n", "");
  });
});

describe("statements and expressions", () => {
  it.each([
    // assignment, return, `;` separators
    ["y = x; return y", "y = x; return y"],
    ["y = x\n return y", "y = x; return y"],
    // for loops over ranges, with arithmetic bounds
    ["for i in 0..c { x = x } return x", "for i in 0..c { x = x }; return x"],
    ["for i in 1..c * 2 + 1 { x = x } return x", "for i in 1..((c * 2) + 1) { x = x }; return x"],
    // pipes, with bare layers, calls and named arguments
    ["return x |> relu", "return (x |> relu)"],
    ["return x |> lrelu(0.1) |> relu", "return (x |> lrelu(0.1) |> relu)"],
    ["return x |> c1: conv(c, k: 3, stride: 1)", "return (x |> c1: conv(c, k: 3, stride: 1))"],
    // labels: plain, indexed, dotted, numeric, on a call without arguments
    ["return x |> conv_first: conv(c)", "return (x |> conv_first: conv(c))"],
    ["for i in 0..c { x = body[i]: B(c)(x) } return x", "for i in 0..c { x = body[i]: B(c)(x) }; return x"],
    ["return x |> layers.1: conv(c)", "return (x |> layers.1: conv(c))"],
    ["return x |> 7: conv(c)", "return (x |> 7: conv(c))"],
    ["return x |> a.b[c - 1].d: conv(c)", "return (x |> a.b[(c - 1)].d: conv(c))"],
    ["return x |> norm: layer_norm", "return (x |> norm: layer_norm())"],
    // a labeled call with inputs at the head of an expression
    ["return head: conv(c)(x)", "return head: conv(c)(x)"],
    // sites, both forms
    ["x = site body[c] (x); return x", "x = site body[c](x); return x"],
    ["return x |> relu |> site conv_hr", "return (x |> relu |> site conv_hr)"],
    // arithmetic: precedence, associativity, unary minus, parentheses, %
    ["return x + x * 2", "return (x + (x * 2))"],
    ["return (x + x) * 2", "return ((x + x) * 2)"],
    ["return x - x - x", "return ((x - x) - x)"],
    ["return x / 2 / 2", "return ((x / 2) / 2)"],
    ["return -x", "return -(x)"],
    ["return x * -2", "return (x * -2)"],
    ["y = c % 2 * 3; return x", "y = ((c % 2) * 3); return x"],
    // a pipe binds looser than arithmetic: `a + b |> f` is `(a + b) |> f`
    ["return x + x |> relu", "return ((x + x) |> relu)"],
    ["return x + (x |> relu)", "return (x + (x |> relu))"],
    // lists and strings as arguments
    ['return x |> c1: conv(c, pad_mode: "reflect")', 'return (x |> c1: conv(c, pad_mode: "reflect"))'],
    ["y = [1, 2, [3]]; return x", "y = [1, 2, [3]]; return x"],
  ])("%s", (body, ast) => expectParses(inBlock(body), printed(ast)));

  it("a pipe may continue on the next lines", () =>
    expectParses(inBlock("y = x\n  |> relu\n  |> relu\n return y"), printed("y = (x |> relu |> relu); return y")));
});

describe("literals", () => {
  const value = (text: string) => {
    const { ast, diagnostics } = parseMio(`task t { v ${text} }`, "f.mio");
    expect(diagnostics).toEqual([]);
    const d = ast.decls[0];
    if (d?.kind !== "task") throw new Error("not a task");
    return expr(d.settings[0]?.values[0]?.value as never);
  };
  it.each([
    ["0", "0"],
    ["42", "42"],
    ["0.5", "0.5"],
    ["250k", "250000"],
    ["1M", "1000000"],
    ["2.5M", "2500000"],
    ["1.5k", "1500"],
    ["2e-4", "0.0002"],
    ["1e-7", "1e-7"],
    ["1E3", "1000"],
    ["1.5e+2", "150"],
    ["1e3k", "1000000"],
    ["-3", "-3"],
    ["true", "true"],
    ["false", "false"],
    ['"data/train"', '"data/train"'],
    ['"say \\"hi\\""', '"say \\"hi\\""'],
    ['"tab\\there"', '"tab\\there"'],
    ['""', '""'],
    ['"\\u00e9"', '"é"'],
    // Not JSON escapes: kept as written (these used to throw out of JSON.parse).
    ['"\\uZZ"', '"\\\\uZZ"'],
    ['"C:\\data"', '"C:\\\\data"'],
    ['"a\tb"', '"a\\tb"'],
    ["[0.9, 0.99]", "[0.9, 0.99]"],
    ["[]", "[]"],
    ["1.0..3.0", "1..3"],
    ["-45..44", "-45..44"],
    ["odd(7..21)", "odd(7..21)"],
    ["sr -> blur -> noise", "sr -> blur -> noise"],
    ["body.*", "body.*"],
  ])("%s", (text, shown) => expect(value(text)).toBe(shown));

  it("`format` and `inner` are names, not keywords followed by letters", () =>
    expectParses(inBlock("format = x; inner = format; return inner")));
});

describe("settings", () => {
  const task = (body: string) => parseMio(`task t { ${body} }`, "f.mio").ast.decls;
  it.each([
    ["a 1", "task t { a 1 }"],
    ["a 1, 2 b: 3", "task t { a 1, 2, b: 3 }"],
    ["a 1\n b 2", "task t { a 1; b 2 }"],
    ["a 1; b 2", "task t { a 1; b 2 }"],
    ["a 1,\n 2", "task t { a 1, 2 }"],
    ["a { b 1; c { d 2 } }", "task t { a { b 1; c { d 2 } } }"],
    ["a x { b 1 }", "task t { a x { b 1 } }"],
    ["a", "task t { a }"],
    ["a f(x: 1)(2)", "task t { a f(x: 1)(2) }"],
  ])("%s", (body, ast) => expect(printAst(task(body))).toBe(ast));

  it("a setting's values end at the end of its line", () =>
    // `trian` is its own setting on its own line (so the checker can name it), not a value of `loss`.
    expect(printAst(task("loss l1\n trian 3"))).toBe("task t { loss l1; trian 3 }"));
});

describe("complete programs", () => {
  const experiment = `
use stdlib/tasks
use stdlib/backbones/srresnet
use stdlib/prompts

/* A tiny experiment: every section, with ';' separators and comments. */
experiment tiny {
  seed 7
  model SRResNet(feat: 8, blocks: 2)
  prompt adaptive { extractor FExt(nf: 8); sites body.*, conv_hr }
  data {
    train "data/a", weight: 2
    train "data/b"
    val "data/val"; test "data/test"
    crop 32; batch 2; workers 0
    augment flip
  }
  curriculum stages {
    stage [sr, blur], iters: 1k, restarts: 2
    stage [sr, blur, noise], iters: 2k
  }
  train {
    loss charbonnier(eps: 1e-6)
    optimizer adamw(lr: 1e-4, betas: [0.9, 0.999], weight_decay: 0.01)
    schedule constant
    ema 0
    checkpoint_every 500
    log_every 10
  }
  eval {
    sets in_dist
    set mine "data/mine"
    metrics psnr(crop: 0, y: true), ssim
    weights ema
    tile 256; overlap 16
  }
}
`;
  it("an experiment with every section checks", () => expectParses(experiment));

  it("resolves to what it says", () => {
    const spec = check(experiment).specs.get("tiny");
    expect(spec?.seed).toBe(7);
    expect(spec?.data.train).toEqual([
      { path: "data/a", weight: 2 },
      { path: "data/b", weight: 1 },
    ]);
    expect([spec?.data.flip, spec?.data.rotate]).toEqual([true, false]);
    expect(spec?.curriculum.stages).toEqual([
      { tasks: ["sr", "blur"], iters: 1000, restarts: 2 },
      { tasks: ["sr", "blur", "noise"], iters: 2000, restarts: 1 },
    ]);
    expect(spec?.train.loss).toEqual({ name: "charbonnier", eps: 1e-6 });
    expect(spec?.train.optimizer).toEqual({
      name: "adamw",
      lr: 1e-4,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weight_decay: 0.01,
    });
    expect(spec?.eval.sets).toEqual([
      { name: "in_dist", path: null },
      { name: "mine", path: "data/mine" },
    ]);
    expect(spec?.eval.metrics).toEqual([
      { name: "psnr", crop: 0, y_channel: true },
      { name: "ssim", crop: 4, y_channel: false },
    ]);
    expect(spec?.prompt.sites.map((s) => s.name)).toEqual(["body.0", "body.1", "conv_hr"]);
  });

  it("a task with every distribution form checks", () =>
    expectParses(
      `task t {
        title "T"
        degrade  rain(amount: 50, length: int(20..40), angle: -10..10, width: one_of(3, 5))
        out_dist rain(amount: round(1.0..3.0, 2), length: odd(21..41), angle: 0, width: 7)
      }`,
    ));

  it("a backbone with loops, labels, sites and a block call elaborates", () =>
    expectParses(`
      use stdlib/tasks
      block Res(c: int)(x) { return x + (x |> conv1: conv(c) |> relu |> conv2: conv(c)) }
      backbone Net(feat: int = 8, blocks: int = 2)(lq: image) {
        f = lq |> head: conv(feat)
        for i in 0..blocks { f = body[i]: Res(feat)(f); f = site body[i] (f) }
        return f |> tail: conv(3) |> site tail
      }
      experiment e { model Net(blocks: 3); curriculum mixed { tasks sr; iters 10 } }
    `));
});
