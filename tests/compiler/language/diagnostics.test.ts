// Every diagnostic code the front end can produce, with the exact line:col a user sees. Each case is one mistake in
// an otherwise valid program, so it gets exactly one diagnostic (or, where a mistake is reported more than once,
// all of them are listed).
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkFile } from "../../../compiler/compile.js";
import { codes, error, MAX_RENDERED, renderDiagnostic, renderDiagnostics } from "../../../grammar/diagnostics.js";
import { expectDiagnostic, expectDiagnostics, expectParses, rendered, showDiagnostic } from "./helpers.js";

/** An experiment at line 4 whose settings start at line 5; `MODEL` and `MIXED` are valid defaults. */
const exp = (...lines: string[]) =>
  ["use stdlib/tasks", "use stdlib/backbones/srresnet", "use stdlib/prompts", "experiment e {", ...lines, "}"].join(
    "\n",
  );
const MODEL = "  model SRResNet(feat: 8, blocks: 2)";
const MIXED = "  curriculum mixed { tasks sr, noise; iters 100 }";

/** A backbone `Net` whose body starts at line 3, used as an experiment's model (so it is fully elaborated). */
const net = (...lines: string[]) =>
  [
    "use stdlib/tasks",
    "backbone Net(c: int = 3)(lq: image) {",
    ...lines,
    "}",
    "experiment e { model Net; curriculum mixed { tasks sr; iters 10 } }",
  ].join("\n");

/** A task `t` whose settings start at line 2. */
const task = (...lines: string[]) => ["task t {", ...lines, "}"].join("\n");

describe("MIO1001 unexpected character", () => {
  it("#", () =>
    expectDiagnostic("block B()(x) { return x # }", 'MIO1001 1:25 unexpected character "#"', "comments start with //"));
  it("@ on a later line; the statement it splits is reported too", () =>
    expectDiagnostics("block B()(x) {\n  y = x @ x\n  return y }", [
      'MIO1001 2:9 unexpected character "@"',
      "MIO1002 3:3 expected '=' but found 'return'",
    ]));
  it("single quotes, twice", () =>
    expectDiagnostics(task("  title 'T'", "  degrade jpeg(quality: 3)", "  out_dist jpeg(quality: 5)"), [
      `MIO1001 2:9 unexpected character "'"`,
      `MIO1001 2:11 unexpected character "'"`,
      // What is left, `title T`, is a name where a string goes: a follow-on error, not reported.
    ]));
  it("the hint for single quotes", () =>
    expectDiagnostics("task t { title 'T'; degrade jpeg(quality: 1); out_dist jpeg(quality: 2) }", [
      "MIO1001 1:16",
      "MIO1001 1:18",
    ])
      .slice(0, 2)
      .forEach((d) => {
        expect(d.hint).toBe('strings use double quotes: "..."');
      }));
  it("a letter outside ASCII", () =>
    expectDiagnostic("block B()(x) { café = x; return x }", 'MIO1001 1:19 unexpected character "é"'));
});

describe("MIO1002 syntax", () => {
  it("an unclosed parenthesis", () =>
    expectDiagnostic(
      "block B()(x) {\n  y = (x |> relu\n  return y\n}",
      "MIO1002 3:3 expected ')' but found 'return'",
      "a '(' earlier is not closed",
    ));
  it("the end of the file, just past the last token", () =>
    expectDiagnostic(
      "block B()(x) {\n  return x",
      "MIO1002 2:11 expected '}' but found the end of the file",
      "a '{' earlier is not closed",
    ));
  it("an unclosed argument list at the end of the file", () =>
    expectDiagnostic(
      "block B()(x) { return x |> c: conv(3",
      "MIO1002 1:37 expected ')' but found the end of the file",
    ));
  it("'=' for a named argument", () => {
    // What is left, `conv(3, k`, passes an undefined `k`: a follow-on error, not reported.
    const syntax = expectDiagnostic(
      "block B()(x) { return x |> c: conv(3, k = 3) }",
      "MIO1002 1:41 expected ')' but found '='",
    );
    expect(syntax.hint).toBe("parameters and named arguments use ':' (k: 3)");
  });
  it("'=' elsewhere gets no hint about arguments", () => {
    const [d] = expectDiagnostics("block B()(x) { for = x; return x }", [
      "MIO1002 1:20 expected a name but found '='",
      "MIO1002 1:23 expected 'in' but found ';'",
    ]);
    expect(d?.hint).toBeUndefined();
  });
  it("a declaration without a name", () =>
    expectDiagnostic("experiment { seed 1 }", "MIO1002 1:12 expected a name but found '{'"));
  it("a block without inputs", () =>
    expectDiagnostic("block B(c: int) { }", "MIO1002 1:17 expected '(' but found '{'"));
  it("a parameter without a type", () =>
    expectDiagnostic("block B(c)(x) { return x }", "MIO1002 1:10 expected ':' but found ')'"));
  it("a keyword in a use path", () =>
    // NOTE: keywords (task, block, site, ...) cannot be path segments, so `use stdlib/task` is a syntax error rather
    // than an unknown module with a did-you-mean.
    expectDiagnostics("use stdlib/task", [
      "MIO1002 1:12 expected a name but found 'task'",
      // Recovery reads `task` as the start of a task declaration, which the file then ends.
      "MIO1002 1:16 expected a name but found the end of the file",
      // What is left, `use stdlib/`, names no module: a follow-on error, not reported.
    ]));
  it("a top-level statement", () => expectDiagnostic("x = 1", "MIO1002 1:1 "));
  it("recovery reports each broken declaration", () =>
    expectDiagnostics("block B()(x) {\n  y = (x\n  return y\n}\nblock C()(x) {\n  return x |> c: conv(3 3)\n}", [
      "MIO1002 3:3 expected ')' but found 'return'",
      "MIO1002 6:25 expected ')' but found '3'",
    ]));
});

describe("MIO2001 unknown name", () => {
  it("a variable, with did-you-mean", () =>
    expectDiagnostic(
      "block B()(x) { feat = x; return faet }",
      "MIO2001 1:33 unknown name 'faet'",
      "did you mean 'feat'?",
    ));
  it("a layer, with did-you-mean", () =>
    expectDiagnostic(
      "block B()(x) { return x |> relu |> rleu }",
      "MIO2001 1:36 unknown layer 'rleu'",
      "did you mean 'relu'?",
    ));
  it("a swapped pair of letters counts as one edit", () =>
    expectDiagnostic(
      "block B()(x) { return x |> c: cnov(3) }",
      "MIO2001 1:28 unknown layer 'cnov'",
      "did you mean 'conv'?",
    ));
  it("a variable used before the loop that defines it", () =>
    expectDiagnostic("block B()(x) { y = i; for i in 0..2 { x = x }; return y }", "MIO2001 1:20 unknown name 'i'"));
  it("a backbone, with did-you-mean", () =>
    expectDiagnostic(
      exp("  model SRresNet(feat: 8, blocks: 2)", MIXED),
      "MIO2001 5:9 unknown backbone 'SRresNet'",
      "did you mean 'SRResNet'?",
    ));
  it("a block where a backbone goes", () =>
    expectDiagnostic(exp("  model FExt", MIXED), "MIO2001 5:9 unknown backbone 'FExt' ('FExt' is a block)"));
  it("an extractor, with did-you-mean", () =>
    expectDiagnostic(
      exp(MODEL, MIXED, "  prompt adaptive { extractor FExr; sites body.* }"),
      "MIO2001 7:31 unknown block 'FExr'",
      "did you mean 'FExt'?",
    ));
  it("a degradation, with did-you-mean", () =>
    expectDiagnostic(
      task("  degrade jpgg(quality: 3)", "  out_dist jpeg(quality: 5)"),
      "MIO2001 2:11 unknown degradation 'jpgg'",
      "did you mean 'jpeg'?",
    ));
  it("an experiment to extend", () => {
    const [d] = expectDiagnostics(`${exp(MODEL, MIXED)}\nexperiment f { extends ee }`, [
      "MIO2001 8:24 unknown experiment 'ee'",
      // With nothing to extend, f has neither of the settings it needs.
      "MIO2008 8:12 experiment 'f' needs a curriculum",
      "MIO2008 8:12 experiment 'f' needs a model",
    ]);
    expect(d?.hint).toBe("did you mean 'e'?");
  });
});

describe("MIO2002 unknown module", () => {
  it("a stdlib module, with did-you-mean", () =>
    expectDiagnostic(
      "use stdlib/taks",
      "MIO2002 1:1 cannot find module 'stdlib/taks'",
      "did you mean 'stdlib/tasks'?",
    ));
  it("a nested stdlib module", () =>
    expectDiagnostic(
      "use stdlib/backbones/srresnt",
      "MIO2002 1:1 cannot find module 'stdlib/backbones/srresnt'",
      "did you mean 'stdlib/backbones/srresnet'?",
    ));
  it("a bare path outside stdlib", () =>
    expectDiagnostic(
      "use my/blocks",
      "MIO2002 1:1 cannot find module 'my/blocks'",
      'relative files are imported with quotes: use "./file.mio"',
    ));
  it("a relative file that does not exist", () =>
    expectDiagnostic({ "main.mio": '\nuse "./nope.mio"' }, "MIO2002 2:1 cannot find module './nope.mio'"));
});

describe("MIO2003 import cycle", () => {
  it("two files that use each other", () =>
    expectDiagnostic(
      { "a.mio": 'use "./b.mio"\n', "b.mio": '// b uses a\nuse "./a.mio"\n' },
      "MIO2003 b.mio:2:1 import cycle: ",
      "move the shared declarations into a third module",
    ));
  it("a file that uses itself", () =>
    expectDiagnostic({ "self.mio": 'use "./self.mio"' }, "MIO2003 1:1 import cycle: "));
  it("an experiment that extends itself", () =>
    expectDiagnostics(`${exp(MODEL, MIXED)}\nexperiment f { extends f }`, [
      "MIO2003 8:24 experiment 'f' extends itself through 'f'",
      "MIO2008 8:12 experiment 'f' needs a curriculum",
      "MIO2008 8:12 experiment 'f' needs a model",
    ]));
});

describe("MIO2004 duplicate", () => {
  it("a declaration", () =>
    expectDiagnostic(
      "block B()(x) { return x }\nblock B()(y) { return y }",
      "MIO2004 2:7 'B' is declared twice",
      "rename one of them",
    ));
  it("a declaration that clashes with a used module's", () =>
    expectDiagnostic(
      "use stdlib/tasks\ntask sr { degrade jpeg(quality: 3); out_dist jpeg(quality: 5) }",
      "MIO2004 2:6 'sr' is declared twice",
    ));
  it("a layer name", () =>
    expectDiagnostic(
      net("  a = lq |> c1: conv(3)", "  return a |> c1: conv(3)"),
      "MIO2004 4:15 layer name 'c1' is used twice",
      "each layer needs its own name",
    ));
  it("a layer name made twice by a loop", () =>
    expectDiagnostic(
      net("  for i in 0..2 { lq = lq |> body: conv(3) }", "  return lq"),
      "MIO2004 3:30 layer name 'body' is used twice",
    ));
  it("a site", () =>
    expectDiagnostic(net("  a = lq |> site s", "  return a |> site s"), "MIO2004 4:20 site 's' is declared twice"));
  it("a setting", () =>
    expectDiagnostic(
      exp(MODEL, MIXED, "  seed 1", "  seed 2"),
      "MIO2004 8:3 'seed' is set twice in experiment 'e'",
      "keep one",
    ));
  it("a parameter given by position and by name", () =>
    expectDiagnostic(net("  return lq |> c1: conv(3, out: 3)"), "MIO2004 3:28 parameter 'out' is given twice"));
  it("a named argument of a setting", () =>
    expectDiagnostic(
      exp(MODEL, MIXED, "  train { optimizer adam(lr: 1e-4, lr: 2e-4) }"),
      "MIO2004 7:36 'lr' is given twice",
    ));
});

describe("MIO2005 bad arguments", () => {
  it("a weighted layer without a name", () =>
    expectDiagnostic(
      net("  return lq |> conv(3)"),
      "MIO2005 3:16 'conv' has weights, so the call needs a name",
      "write: conv1: conv(...)",
    ));
  it("an unknown parameter, with did-you-mean", () =>
    expectDiagnostic(
      net("  return lq |> c1: conv(3, kk: 3)"),
      "MIO2005 3:28 'conv' has no parameter 'kk'",
      "did you mean 'k'?",
    ));
  it("too many parameters", () =>
    expectDiagnostic(
      net("  return lq |> relu(1)"),
      "MIO2005 3:21 'relu' takes 0 parameter(s) but got more",
      "pass tensors as inputs: x |> relu",
    ));
  it("a missing parameter", () =>
    expectDiagnostic(net("  return lq |> c1: conv()"), "MIO2005 3:16 'conv' needs parameter 'out'"));
  it("a name on a layer without weights", () =>
    expectDiagnostic(net("  return lq |> r: relu"), "MIO2005 3:16 'relu' has no weights, so it takes no name"));
  it("a block call without a name", () =>
    expectDiagnostic(
      ["use stdlib/blocks", ...net("  return ResBlock(3)(lq)").split("\n")].join("\n"),
      "MIO2005 4:10 block 'ResBlock' has parameters, so the call needs a name",
    ));
  it("a block call with the wrong number of inputs", () =>
    expectDiagnostic(
      ["use stdlib/blocks", ...net("  return b: ResBlock(3)(lq, lq)").split("\n")].join("\n"),
      "MIO2005 4:10 'ResBlock' takes 1 input(s) but got 2",
    ));
  it("a named input", () => expectDiagnostic(net("  return c1: conv(3)(x: lq)"), "MIO2005 3:22 inputs are positional"));
  it("a layer with no input", () =>
    expectDiagnostic(
      net("  y = c1: conv(3)", "  return lq"),
      "MIO2005 3:7 'conv' takes 1 input(s) but got 0",
      "apply it to a tensor: x |> conv(...)",
    ));
  it("a label on something that is not a call", () =>
    // NOTE: `a: (lq)` is not this mistake: a label turns a plain name into a call, so it calls a layer `lq`.
    expectDiagnostic(
      net("  return a: (lq + lq)"),
      "MIO2005 3:10 a label names a layer call",
      "write: name: conv(64)(x)",
    ));
  it("an unknown degradation parameter", () =>
    expectDiagnostic(
      task("  degrade jpeg(qualty: 3)", "  out_dist jpeg(quality: 5)"),
      "MIO2005 2:24 jpeg has no parameter 'qualty'",
      "did you mean 'quality'?",
    ));
  it("a missing degradation parameter", () =>
    expectDiagnostic(
      task("  degrade haze(beta: 1)", "  out_dist jpeg(quality: 5)"),
      "MIO2005 2:11 haze needs 'atmosphere'",
    ));
});

describe("MIO2006 type mismatch", () => {
  it("conv(out: 1.5)", () =>
    expectDiagnostic(
      net("  return lq |> c1: conv(out: 1.5)"),
      "MIO2006 3:30 conv.out must be an int, found the number 1.5",
    ));
  it("a string where a bool goes", () =>
    expectDiagnostic(
      net('  return lq |> c1: conv(3, bias: "no")'),
      'MIO2006 3:34 conv.bias must be a bool, found the string "no"',
    ));
  it("an unknown parameter type, with did-you-mean", () =>
    expectDiagnostic(
      "block B(c: flaot)(x) { return x }",
      "MIO2006 1:12 unknown parameter type 'flaot'",
      "did you mean 'float'?",
    ));
  it("an unknown parameter type of a backbone with defaults", () =>
    expectDiagnostic(
      net("  return lq |> c1: conv(3)").replace("c: int = 3", "c: integer = 3"),
      "MIO2006 2:17 unknown parameter type 'integer'",
    ));
  it("a default of the wrong type", () =>
    expectDiagnostic(
      net("  return lq").replace("c: int = 3", "c: int = 1.5"),
      "MIO2006 2:23 Net.c must be an int, found the number 1.5",
    ));
  it("a loop over something that is not a range", () =>
    expectDiagnostic(
      net("  for i in 3 { lq = lq }", "  return lq"),
      "MIO2006 3:12 a for loop needs a range",
      "write: for i in 0..n { ... }",
    ));
  it("a layer used as a value", () =>
    expectDiagnostic(
      net("  y = relu", "  return lq"),
      "MIO2006 3:7 'relu' is a layer, not a value",
      "apply it: x |> relu",
    ));
  it("a range outside a loop", () =>
    expectDiagnostic(net("  y = 0..3", "  return lq"), "MIO2006 3:7 a range is only allowed in a for loop"));
  it("a chain outside a curriculum", () =>
    expectDiagnostic(net("  y = lq -> lq", "  return lq"), "MIO2006 3:7 '->' is only used in curricula"));
  it("a site on a number", () =>
    expectDiagnostic(net("  y = site s (3)", "  return lq"), "MIO2006 3:7 a site takes a tensor"));
  it("a tensor where a number goes", () =>
    expectDiagnostic(
      net("  return lq |> c1: conv(lq)"),
      "MIO2006 3:25 conv.out must be an int, found a map with 3 channels",
    ));
  it("a layer on the wrong kind of tensor", () =>
    expectDiagnostic(
      net("  return lq |> fc: linear(3)"),
      "MIO2006 3:16 linear expects a vector or tokens but got a map (3 channels)",
    ));
  it("a backbone called as a layer", () =>
    expectDiagnostic(
      ["use stdlib/backbones/srresnet", ...net("  return lq |> m: SRResNet(8, 1)").split("\n")].join("\n"),
      "MIO2006 4:16 'SRResNet' is a backbone",
    ));
  it("arithmetic on a string", () =>
    expectDiagnostic(
      net('  y = "a" * 2', "  return lq"),
      "MIO2006 3:7 cannot apply '*' to the string \"a\" and the number 2",
    ));
});

describe("MIO2007 unknown setting", () => {
  it("in an experiment, with did-you-mean", () =>
    expectDiagnostic(
      exp(MODEL, MIXED, "  trian { }"),
      "MIO2007 7:3 unknown setting 'trian' in experiment 'e'",
      "did you mean 'train'?",
    ));
  it("in train", () =>
    expectDiagnostic(
      exp(MODEL, MIXED, "  train { los l1 }"),
      "MIO2007 7:11 unknown setting 'los' in train",
      "did you mean 'loss'?",
    ));
  it("in data, without a close name", () =>
    expectDiagnostic(
      exp(MODEL, MIXED, "  data { shuffle true }"),
      "MIO2007 7:10 unknown setting 'shuffle' in data",
      "known: train, val, test, crop, batch, augment, workers, crop_candidates",
    ));
  it("in a curriculum", () =>
    expectDiagnostic(
      exp(MODEL, "  curriculum mixed { tasks sr; iters 10; restart 2 }"),
      "MIO2007 6:42 unknown setting 'restart' in curriculum mixed",
      "did you mean 'restarts'?",
    ));
  it("in a prompt", () => {
    const [d] = expectDiagnostics(exp(MODEL, MIXED, "  prompt adaptive { extractor FExt; sties body.* }"), [
      "MIO2007 7:37 unknown setting 'sties' in prompt adaptive",
      "MIO2008 7:3 prompt adaptive needs 'sites'",
    ]);
    expect(d?.hint).toBe("did you mean 'sites'?");
  });
  it("in eval", () =>
    expectDiagnostic(
      exp(MODEL, MIXED, "  eval { metric psnr }"),
      "MIO2007 7:10 unknown setting 'metric' in eval",
      "did you mean 'metrics'?",
    ));
  it("in a task", () =>
    expectDiagnostic(
      task('  titel "T"', "  degrade jpeg(quality: 3)", "  out_dist jpeg(quality: 5)"),
      "MIO2007 2:3 unknown setting 'titel' in task 't'",
      "did you mean 'title'?",
    ));
  it("a misspelled key on its own line does not swallow the next line", () =>
    expectDiagnostic(
      exp(MODEL, MIXED, "  train {", "    los l1", "    ema 0.9", "  }"),
      "MIO2007 8:5 unknown setting 'los'",
    ));
});

describe("MIO2008 missing setting", () => {
  it("an experiment without a model", () =>
    expectDiagnostic(exp(MIXED), "MIO2008 4:12 experiment 'e' needs a model", "model SRResNet(feat: 64, blocks: 16)"));
  it("an experiment without a curriculum", () =>
    expectDiagnostic(exp(MODEL), "MIO2008 4:12 experiment 'e' needs a curriculum"));
  it("a task without out_dist", () =>
    expectDiagnostic(task("  degrade jpeg(quality: 3)"), "MIO2008 1:6 task 't' needs 'out_dist'"));
  it("a mixed curriculum without iters", () =>
    expectDiagnostic(exp(MODEL, "  curriculum mixed { tasks sr }"), "MIO2008 6:3 curriculum mixed needs 'iters'"));
  it("a sequential curriculum without stage_iters", () =>
    expectDiagnostic(
      exp(MODEL, "  curriculum sequential { order sr -> noise }"),
      "MIO2008 6:3 curriculum sequential needs 'stage_iters'",
    ));
  it("a stage without iters", () =>
    expectDiagnostic(exp(MODEL, "  curriculum stages { stage [sr] }"), "MIO2008 6:23 a stage needs iters: N"));
  it("a prompt without an extractor", () =>
    expectDiagnostic(
      exp(MODEL, MIXED, "  prompt adaptive { sites body.* }"),
      "MIO2008 7:3 prompt adaptive needs 'extractor'",
    ));
  it("a prompt without sites", () =>
    expectDiagnostic(
      exp(MODEL, MIXED, "  prompt explicit { extractor FExt }"),
      "MIO2008 7:3 prompt explicit needs 'sites'",
    ));
});

describe("MIO1003 nested too deeply", () => {
  // Far deeper nesting would overflow the parser's or the checker's stack: a diagnostic, not an internal error.
  it("2000 nested parentheses: reported where the depth (the body's brace too) passes the limit", () =>
    expectDiagnostic(
      net(`  return ${"(".repeat(2000)}lq${")".repeat(2000)}`),
      "MIO1003 3:209 nested more than 200 levels deep",
      "split the expression into several statements",
    ));
  it("a setting's nested lists", () =>
    expectDiagnostic(
      `experiment e {\n  seed ${"[".repeat(300)}1${"]".repeat(300)}\n}`,
      "MIO1003 2:207 nested more than 200 levels deep",
      "split the expression into several statements",
    ));
  it("a sum of 3000 terms", () =>
    expectDiagnostic(
      net(`  return ${Array.from({ length: 3000 }, () => "lq").join(" + ")}`),
      "MIO1003 3:10 expression nested more than 400 operations deep",
      "split it into several statements",
    ));
});

describe("MIO2010 block calls nested too deeply", () => {
  it("a block that calls itself", () =>
    expectDiagnostics(
      [
        "use stdlib/tasks",
        "block Rec(c: int)(x) {",
        "  return r: Rec(c)(x)",
        "}",
        "backbone Net()(lq: image) {",
        "  return r: Rec(3)(lq)",
        "}",
        "experiment e { model Net; curriculum mixed { tasks sr; iters 10 } }",
      ].join("\n"),
      ["MIO2010 3:10 block calls nested more than 64 deep: 'Rec' calls itself without end"],
    ));
  it("two blocks that call each other: the hint names the cycle", () => {
    const r = rendered(
      [
        "use stdlib/tasks",
        "block A(c: int)(x) {",
        "  return b: B(c)(x)",
        "}",
        "block B(c: int)(x) {",
        "  return a: A(c)(x)",
        "}",
        "backbone Net()(lq: image) {",
        "  return a: A(3)(lq)",
        "}",
        "experiment e { model Net; curriculum mixed { tasks sr; iters 10 } }",
      ].join("\n"),
    );
    expect(r).toMatch(/error MIO2010: block calls nested more than 64 deep: 'A' calls itself without end/);
    expect(r).toMatch(/the calls go A -> B -> A/);
  });
});

describe("MIO2009 bad value", () => {
  it.each([
    ["  seed -1", "MIO2009 7:8 seed must be >= 0, found -1"],
    ["  seed 1.5", "MIO2009 7:8 seed must be an integer, found 1.5"],
    ['  data { crop "big" }', 'MIO2009 7:15 crop must be a number, found "big"'],
    ["  data { crop 4 }", "MIO2009 7:15 crop must be >= 8, found 4"],
    // NOTE: an unquoted path is arithmetic (`data / val`), hence the message.
    ["  data { val data/val }", "MIO2009 7:14 a binary expression is not a setting value"],
    ['  data { val "data/val", "x" }', "MIO2009 7:26 'val' takes one value, found 2"],
    ["  data { augment flip, mirror }", "MIO2009 7:24 unknown augmentation 'mirror'"],
    ['  data { train "a", wieght: 2 }', "MIO2009 7:21 'train' has no option 'wieght'"],
    ["  train { ema 2 }", "MIO2009 7:15 ema must be <= 1, found 2"],
    ["  train { loss l3 }", "MIO2009 7:16 unknown loss 'l3'"],
    ["  train { optimizer sgd(lr: 0.1) }", "MIO2009 7:21 unknown optimizer 'sgd'"],
    ["  train { optimizer adam(lr: 0) }", "MIO2009 7:30 adam.lr must be > 0, found 0"],
    ["  train { optimizer adam(betas: [0.9]) }", "MIO2009 7:33 adam.betas must be a pair [b1, b2]"],
    ["  train { optimizer adam(lr: 1e-4, momentum: 0.9) }", "MIO2009 7:46 adam has no argument 'momentum'"],
    ["  train { optimizer adam(1e-4) }", "MIO2009 7:26 adam takes named arguments"],
    ["  train { schedule cosine }", "MIO2009 7:20 unknown schedule 'cosine'"],
    ["  train 3 { }", "MIO2009 7:9 'train' takes a block, not values"],
    ["  eval { sets in_dist, everything }", "MIO2009 7:24 unknown test set group 'everything'"],
    ["  eval { metrics }", "MIO2009 7:10 metrics needs at least one metric"],
    ["  eval { metrics lpips }", "MIO2009 7:18 unknown metric 'lpips'"],
    ["  eval { set mine }", 'MIO2009 7:10 a named set is: set NAME "folder"'],
    ["  eval { weights best }", "MIO2009 7:18 unknown weights 'best'"],
    ["  prompt adaptve { extractor FExt; sites body.* }", "MIO2009 7:10 unknown prompt kind 'adaptve'"],
    ["  prompt explicit { extractor FExt; sites body.*; maps 3 }", "MIO2009 7:56 maps is random(size: 128, seed: 0)"],
    ["  prompt adaptive { extractor FExt; sites 3 }", "MIO2009 7:43 a site is a name or a pattern like body.*"],
    ['  profile "quick" { seed 1 }', "MIO2009 7:11 a profile needs a name"],
    ["  profile quick", "MIO2009 7:3 profile 'quick' needs a block of settings"],
  ])("%s", (line, expected) => {
    expectDiagnostic(exp(MODEL, MIXED, line), expected);
  });

  it("the did-you-mean of a choice", () =>
    expectDiagnostic(exp(MODEL, MIXED, "  train { loss l2 }"), "MIO2009 7:16 unknown loss 'l2'", "did you mean 'l1'?"));
  it("an unknown curriculum kind", () =>
    expectDiagnostic(
      exp(MODEL, "  curriculum mixd { tasks sr; iters 1 }"),
      "MIO2009 6:14 unknown curriculum 'mixd'",
      "did you mean 'mixed'?",
    ));
  it("a mixed curriculum with no tasks", () =>
    expectDiagnostic(
      exp(MODEL, "  curriculum mixed { tasks; iters 1 }"),
      "MIO2009 6:22 'tasks' needs at least one task",
    ));
  it("a stage with no tasks", () =>
    expectDiagnostic(
      exp(MODEL, "  curriculum stages { stage [], iters: 1 }"),
      "MIO2009 6:29 a stage needs at least one task",
    ));
  it("a stage with an unknown option", () =>
    expectDiagnostic(
      exp(MODEL, "  curriculum stages { stage [sr], iter: 1 }"),
      "MIO2009 6:35 a stage takes iters: N and restarts: R",
      "did you mean 'iters'?",
    ));
  it("zero iterations", () =>
    expectDiagnostic(
      exp(MODEL, "  curriculum mixed { tasks sr; iters 0 }"),
      "MIO2009 6:38 iters must be >= 1, found 0",
    ));
  it.each([
    ["  return lq |> c1: conv(0)", "MIO2009 3:25 conv.out must be at least 1, found 0"],
    ["  return lq |> upsample(0) |> c1: conv(3)", "MIO2009 3:25 upsample.scale must be at least 1, found 0"],
  ])("a layer size: %s", (line, expected) => {
    expectDiagnostic(net(line), expected);
  });
  it("a loop too long to unroll", () =>
    expectDiagnostic(
      net("  for i in 0..10000 { lq = lq }", "  return lq"),
      "MIO2009 3:12 loop of 10000 iterations is too long",
    ));
  it.each([
    ["  degrade jpeg(quality: 3..1)", "MIO2009 2:25 jpeg.quality: the range 3..1 is empty", "write 1..3"],
    [
      "  degrade gaussian_blur(kernel: odd(6..20), sigma: 1)",
      "MIO2009 2:37 odd needs odd bounds, e.g. odd(7..21)",
      undefined,
    ],
    ["  degrade gaussian_blur(kernel: int(1.5..3), sigma: 1)", "MIO2009 2:37 int needs integer bounds", undefined],
    ["  degrade jpeg(quality: one_of())", "MIO2009 2:25 one_of needs at least one value", undefined],
    ["  degrade jpeg(quality: round(3))", "MIO2009 2:25 round takes a range: round(a..b)", undefined],
    [
      '  degrade jpeg(quality: "high")',
      "MIO2009 2:25 jpeg.quality: expected a number, a range a..b or round/int/odd/one_of(...)",
      undefined,
    ],
    ["  degrade jpeg(3)", "MIO2009 2:11 jpeg takes named parameters: quality", undefined],
    [
      "  degrade jpeg",
      "MIO2009 2:11 a degradation is a call",
      "e.g. gaussian_blur(kernel: odd(7..21), sigma: 1.0..3.0)",
    ],
    ["  degrade jpeg(quality: 3), jpeg(quality: 4)", "MIO2009 2:29 'degrade' takes one value, found 2", undefined],
    ["  degrade jpeg(quality: 3)(4)", "MIO2009 2:11 a setting value takes one argument list", undefined],
  ])("a task: %s", (line, expected, hint) => {
    expectDiagnostic(task(line, "  out_dist jpeg(quality: 5)"), expected, hint);
  });
});

describe("MIO2009 values are checked where they are written", () => {
  // Degradation parameters are held to the limits the degradations enforce when they run (DEGRADATION_LIMITS):
  // every value a distribution can draw.
  it.each([
    ["  degrade jpeg(quality: 500)", "MIO2009 2:25 jpeg.quality must be an integer in 1..100, found 500"],
    [
      "  degrade gaussian_blur(kernel: 4, sigma: 1)",
      "MIO2009 2:33 gaussian_blur.kernel must be an odd integer in 1..255, found 4",
    ],
    ["  degrade gaussian_noise(sigma: -10)", "MIO2009 2:33 gaussian_noise.sigma must be a number >= 0, found -10"],
    ["  degrade gamma_dark(gamma: 0)", "MIO2009 2:29 gamma_dark.gamma must be a number > 0, found 0"],
    ["  degrade bicubic_down_up(scale: 0)", "MIO2009 2:34 bicubic_down_up.scale must be a number >= 1, found 0"],
    ["  degrade gaussian_noise(sigma: -5..3)", "MIO2009 2:33 gaussian_noise.sigma must be a number >= 0, found -5"],
    ["  degrade jpeg(quality: round(30..700))", "MIO2009 2:35 jpeg.quality must be an integer in 1..100, found 700"],
    [
      "  degrade gamma_dark(gamma: round(0.001..1, 2))",
      "MIO2009 2:35 gamma_dark.gamma must be a number > 0, found 0.001, which rounds to 0",
    ],
    ["  degrade gamma_dark(gamma: one_of(1, 2, 0))", "MIO2009 2:42 gamma_dark.gamma must be a number > 0, found 0"],
    ["  degrade jpeg(quality: 30..70)", "MIO2009 2:25 jpeg.quality takes integers; 30..70 draws fractions"],
    [
      "  degrade gaussian_blur(kernel: int(7..21), sigma: 1)",
      "MIO2009 2:33 gaussian_blur.kernel takes odd integers; int(7..21) can draw even ones",
    ],
    [
      "  degrade rain(amount: 50, length: 120, angle: 0, width: 3)",
      "MIO2009 2:36 rain.length must be an integer in 2..99, found 120",
    ],
    ["  degrade jpeg(quality: 1e999)", "MIO2009 2:25 jpeg.quality must be a finite number, found 1e999"],
    [
      "  degrade gaussian_noise(sigma: -1e999)",
      "MIO2009 2:33 gaussian_noise.sigma must be a finite number, found -1e999",
    ],
  ])("a degradation parameter: %s", (line, expected) => {
    expectDiagnostic(task(line, "  out_dist jpeg(quality: 5)"), expected);
  });
  it("the hint names the degradation's range", () =>
    expectDiagnostic(
      task("  degrade jpeg(quality: 500)", "  out_dist jpeg(quality: 5)"),
      "MIO2009 2:25",
      "the degradation takes 1..100",
    ));
  it("each parameter of a degradation on its own", () =>
    expectDiagnostics(task("  degrade haze(atmosphere: 5, beta: -1)", "  out_dist jpeg(quality: 5)"), [
      "MIO2009 2:28 haze.atmosphere must be a number in 0..1, found 5",
      "MIO2009 2:37 haze.beta must be a number >= 0, found -1",
    ]));

  // Numbers a user can write that the spec cannot hold: reported at the value, never as MIO5001.
  it.each([
    ["  seed 1e300", "MIO2009 7:8 seed must be an integer below 2^53, found 1e+300"],
    ["  seed 9007199254740993", "MIO2009 7:8 seed must be an integer below 2^53, found 9007199254740992"],
    ["  train { optimizer adam(lr: 1e999) }", "MIO2009 7:30 adam.lr must be a finite number, found 1e999"],
    ["  train { optimizer adam(eps: 1e999) }", "MIO2009 7:31 adam.eps must be a finite number"],
    ["  train { schedule cosine_restarts(eta_min: 1e999) }", "MIO2009 7:45 cosine_restarts.eta_min must be a finite"],
    ["  train { loss charbonnier(eps: 1e999) }", "MIO2009 7:33 charbonnier.eps must be a finite number"],
    ["  train { log_every 1e300 }", "MIO2009 7:21 log_every must be an integer below 2^53, found 1e+300"],
    ['  data { train "data/train", weight: 1e999 }', "MIO2009 7:38 weight must be a finite number"],
    ["  eval { max_images 1e300 }", "MIO2009 7:21 max_images must be an integer below 2^53, found 1e+300"],
    [
      "  prompt adaptive { extractor FExt(nf: 1e300); sites body.* }",
      "MIO2009 7:31 conv.out must be at most 65,536, found 1e+300",
    ],
    // Absurd sizes.
    ["  data { crop 1e12 }", "MIO2009 7:15 crop must be <= 4096, found 1000000000000"],
    ["  data { batch 1e9 }", "MIO2009 7:16 batch must be <= 4096, found 1000000000"],
    [
      "  data { crop 2048; batch 1000 }",
      "MIO2009 7:27 a batch of 1000 crops of 2048x2048 is 46.9 GiB of float32 input, over the 4 GiB a batch may take",
    ],
    ["  data { workers 1e9 }", "MIO2009 7:18 workers must be <= 256, found 1000000000"],
    ["  data { crop_candidates 100 }", "MIO2009 7:26 crop_candidates must be <= 64, found 100"],
    ["  data { crop_candidates 0 }", "MIO2009 7:26 crop_candidates must be >= 1, found 0"],
    ["  eval { tile 64; overlap 64 }", "MIO2009 7:27 overlap must be smaller than tile 64, found 64"],
    ["  eval { overlap 100; tile 64 }", "MIO2009 7:18 overlap must be smaller than tile 64, found 100"],
    ["  eval { tile 5000 }", "MIO2009 7:15 tile must be <= 4096, found 5000"],
    [
      "  prompt explicit { extractor FExt; sites body.*; maps random(size: 1e6) }",
      "MIO2009 7:69 random.size must be <= 4096, found 1000000",
    ],
  ])("%s", (line, expected) => {
    expectDiagnostic(exp(MODEL, MIXED, line), expected);
  });
  it("a layer wider than a layer may be", () =>
    expectDiagnostic(
      exp("  model SRResNet(feat: 1000000, blocks: 2)", MIXED),
      "MIO2009 5:9 conv.out must be at most 65,536, found 1000000",
    ));
  it("a model whose weights would not fit", () =>
    expectDiagnostic(
      exp("  model SRResNet(feat: 60000, blocks: 2)", MIXED, "  data { crop 8; batch 1 }"),
      "MIO2009 5:9 'SRResNet' has 1.62e+11 parameters (604 GiB of float32 weights), over the limit of 2^30 (4 GiB)",
      "make it narrower or shallower",
    ));
  it("iterations past 2^53", () =>
    expectDiagnostic(
      exp(MODEL, "  curriculum mixed { tasks sr, noise; iters 1e300 }"),
      "MIO2009 6:45 iters must be an integer below 2^53, found 1e+300",
    ));
  it("an infinite float argument of the model", () =>
    expectDiagnostic(
      [
        "use stdlib/tasks",
        "backbone Net(s: float = 1.0)(lq: image) {",
        "  return lq |> c1: conv(3)",
        "}",
        "experiment e { model Net(s: 1e999); curriculum mixed { tasks sr; iters 10 } }",
      ].join("\n"),
      "MIO2009 5:29 Net.s must be a finite number, found 1e999",
      "beyond a 64-bit float's range (about 1.8e308) a number reads as infinity",
    ));
  it.each([
    ["  return lq |> lrelu(1e999) |> c1: conv(3)", "MIO2009 3:22 1e999 is beyond a 64-bit float's range"],
    ["  return lq |> lrelu(-1e999) |> c1: conv(3)", "MIO2009 3:22 -1e999 is beyond a 64-bit float's range"],
  ])("an infinite number in a body: %s", (line, expected) => {
    expectDiagnostic(net(line), expected);
  });
  it("a small tile with the default overlap is left to evaluation, which halves the overlap", () =>
    expectParses(exp(MODEL, MIXED, "  eval { tile 16 }")));
});

/**
 * A temp folder laid out as `files` (text; `{ link }` a symlink to that path, relative to the link; `{ size }` a
 * sparse file of that many bytes, never written), then `main` checked in it: each diagnostic in one line and as
 * `mioc check` renders it.
 */
type Entry = string | { link: string } | { size: number };
function checkLayout(files: Record<string, Entry>, main: string, allowRoots?: string[]) {
  const dir = mkdtempSync(join(tmpdir(), "mio-roots-"));
  try {
    for (const [name, e] of Object.entries(files)) {
      const p = join(dir, name);
      mkdirSync(dirname(p), { recursive: true });
      if (typeof e === "string") writeFileSync(p, e);
      else if ("link" in e) symlinkSync(e.link, p);
      else {
        writeFileSync(p, "");
        truncateSync(p, e.size);
      }
    }
    const r = checkFile(join(dir, main), { allowRoots: allowRoots?.map((a) => join(dir, a)) });
    const shown = r.diagnostics.map((d) => showDiagnostic(d, { program: r.program, root: dir }));
    const text = r.diagnostics.map((d) => renderDiagnostic(d, r.program.sources.get(d.span.file))).join("\n");
    return { shown, text };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A file outside the project whose text must never appear in a diagnostic. */
const SECRET = "SECRET-TOKEN-do-not-print = 42\n";

describe("MIO2011 refused module", () => {
  it("/etc/passwd: not a .mio file, refused without reading it", () => {
    const d = expectDiagnostic(
      'use "/etc/passwd"',
      "MIO2011 1:1 '/etc/passwd' is not a .mio file: a quoted use loads only .mio modules",
      'name a .mio file, e.g. use "./lib.mio"',
    );
    expect(d.message).not.toContain("root:");
    expect(rendered('use "/etc/passwd"')).not.toContain("root:");
    expect(rendered('use "/etc/passwd"')).toContain('1 | use "/etc/passwd"');
  });
  it("/proc/self/environ", () => {
    expectDiagnostic('use "/proc/self/environ"', "MIO2011 1:1 '/proc/self/environ' is not a .mio file");
    expect(rendered('use "/proc/self/environ"')).not.toMatch(/PATH=|HOME=/);
  });
  it("a .mio file outside the project, by absolute path", () =>
    expectDiagnostic(
      'use "/etc/x.mio"',
      "MIO2011 1:1 '/etc/x.mio' is outside the project",
      "a quoted use loads .mio files under . (the project) and stdlib/; to allow another folder, add it to MIO_ALLOW_ROOTS",
    ));
  it("../outside.mio, above the project", () => {
    const r = checkLayout({ "outside.mio": SECRET, "proj/main.mio": '\nuse "../outside.mio"\n' }, "proj/main.mio");
    expect(r.shown).toEqual(["MIO2011 2:1 '../outside.mio' is outside the project"]);
    expect(r.text).not.toContain("SECRET");
  });
  it("../secret.env: not a .mio file", () => {
    const r = checkLayout({ "secret.env": SECRET, "proj/main.mio": 'use "../secret.env"' }, "proj/main.mio");
    expect(r.shown).toEqual(["MIO2011 1:1 '../secret.env' is not a .mio file: a quoted use loads only .mio modules"]);
    expect(r.text).not.toContain("SECRET");
  });
  it("a symlink inside the project to a file outside it", () => {
    const r = checkLayout(
      { "outside.mio": SECRET, "proj/link.mio": { link: "../outside.mio" }, "proj/main.mio": 'use "./link.mio"' },
      "proj/main.mio",
    );
    expect(r.shown).toHaveLength(1);
    expect(r.shown[0]).toMatch(/^MIO2011 1:1 '.\/link.mio' is a link to .*outside.mio, outside the project$/);
    expect(r.text).not.toContain("SECRET");
  });
  it("a file inside the project that is not .mio", () => {
    const r = checkLayout({ "main.mio": 'use "./notes.txt"', "notes.txt": SECRET }, "main.mio");
    expect(r.shown).toEqual(["MIO2011 1:1 './notes.txt' is not a .mio file: a quoted use loads only .mio modules"]);
    expect(r.text).not.toContain("SECRET");
  });
  it("a folder named like a module", () =>
    expect(checkLayout({ "main.mio": 'use "./dir.mio"', "dir.mio/x": "" }, "main.mio").shown).toEqual([
      "MIO2011 1:1 './dir.mio' is not a regular file",
    ]));
  it("the project reaches up to the folder with a package.json (or .git): a sibling folder's module loads", () =>
    expect(
      checkLayout(
        { "package.json": "{}", "lib/b.mio": "block Id()(x) { return x }\n", "exp/main.mio": 'use "../lib/b.mio"' },
        "exp/main.mio",
      ).shown,
    ).toEqual([]));
  it("a folder in allowRoots (MIO_ALLOW_ROOTS for mioc) may be loaded from", () =>
    expect(
      checkLayout(
        { "shared/b.mio": "block Id()(x) { return x }\n", "proj/main.mio": 'use "../shared/b.mio"' },
        "proj/main.mio",
        ["shared"],
      ).shown,
    ).toEqual([]));
});

describe("MIO2012 module too large", () => {
  it("a 1 GB (sparse) module is refused from its size, without reading it", () => {
    const t0 = performance.now();
    const r = checkLayout({ "main.mio": 'use "./big.mio"', "big.mio": { size: 2 ** 30 } }, "main.mio");
    expect(r.shown).toEqual([
      "MIO2012 1:1 './big.mio' is larger than 4 MiB, too large for a .mio module; it was not read",
    ]);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});

describe("MIO2013 refused data path", () => {
  it.each([
    ['  data { train "/" }', 'MIO2013 7:16 data.train is the filesystem root ("/"); a run would read the whole disk'],
    ['  data { test "/etc" }', 'MIO2013 7:15 data.test "/etc" is outside the project and the working directory'],
    ['  data { val "../../x" }', 'MIO2013 7:14 data.val "../../x" is outside the project and the working directory'],
    ['  eval { set extra "/tmp/../" }', "MIO2013 7:20 eval.set extra is the filesystem root"],
  ])("%s", (line, expected) => {
    expectDiagnostic(exp(MODEL, MIXED, line), expected);
  });
  it("paths under the project or the working directory check", () =>
    expectParses(exp(MODEL, MIXED, '  data { train "tests/fixtures/e2e/train"; test "./data/test" }')));
});

describe("MIO3001 channel mismatch", () => {
  it("at the '+' of a residual", () =>
    expectDiagnostic(
      net("  a = lq |> c1: conv(8)", "  b = lq |> c2: conv(16)", "  return a + b"),
      "MIO3001 5:10 '+' of tensors with different channels: 8 and 16",
      "make both sides the same width, e.g. with a 1x1 conv",
    ));
  it("a vector that scales a map of another width", () =>
    expectDiagnostic(
      net("  v = lq |> mean", "  y = lq |> c1: conv(8)", "  return (y * v) |> c2: conv(3)"),
      "MIO3001 5:11 '*' of tensors with different channels: 8 and 3",
    ));
  it("conv groups that do not divide the channels", () =>
    expectDiagnostic(
      net("  return lq |> c1: conv(4, groups: 2)"),
      "MIO3001 3:16 conv groups 2 must divide its 3 input and 4 output channels",
    ));
  it("inside a block, reported in the block", () =>
    expectDiagnostic(
      [
        "block Bad(c: int)(x) {",
        "  return x + (x |> c1: conv(c + 1))",
        "}",
        ...net("  return b: Bad(3)(lq)").split("\n"),
      ].join("\n"),
      "MIO3001 2:10 '+' of tensors with different channels: 3 and 4",
    ));
});

describe("MIO3002 stride mismatch", () => {
  it("at the '+' of a strided branch", () =>
    expectDiagnostic(
      net("  a = lq |> c1: conv(3)", "  b = lq |> c2: conv(3, stride: 2)", "  return a + b"),
      "MIO3002 5:10 '+' of tensors at different resolutions: 1/1 and 1/2 of the input",
      "a strided conv or pixel_unshuffle changed one side; resample the other to match",
    ));
  it("concat of two resolutions", () =>
    expectDiagnostic(
      net("  a = lq |> s: conv(3, stride: 2)", "  return concat()(lq, a) |> c1: conv(3)"),
      "MIO3002 4:10 concat inputs have different resolutions (1/1, 1/2)",
    ));
});

describe("MIO3003 bad output", () => {
  it("a backbone that returns 8 channels", () =>
    expectDiagnostic(
      net("  return lq |> c1: conv(8)"),
      "MIO3003 5:22 a restoration backbone must return a 3-channel image at full resolution; 'Net' returns a map with 8 channels at 1/1 resolution",
    ));
  it("a backbone that returns half resolution", () =>
    expectDiagnostic(
      net("  return lq |> c1: conv(3, stride: 2)"),
      "MIO3003 5:22 a restoration backbone must return a 3-channel image at full resolution; 'Net' returns a map with 3 channels at 1/2",
    ));
  it("a backbone that returns nothing", () =>
    expectDiagnostic(
      net("  y = lq"),
      "MIO3003 5:22 a restoration backbone must return a 3-channel image at full resolution; 'Net' returns no tensor",
    ));
  it("a block that returns nothing", () =>
    expectDiagnostic(
      ["block Nothing()(x) { y = x }", ...net("  return lq |> n: Nothing").split("\n")].join("\n"),
      "MIO3003 4:16 'Nothing' returned nothing",
      "its body needs a return statement",
    ));
  it("a model without parameters (return lq): nothing to train", () =>
    expectDiagnostic(
      net("  return lq"),
      "MIO3003 5:22 'Net' has no parameters: there is nothing to train",
      "a model needs at least one layer with weights, e.g. a conv",
    ));
  it("a model without parameters whose prompt has some trains the prompt", () =>
    expectParses(
      [
        "use stdlib/tasks",
        "use stdlib/prompts",
        "backbone Net()(lq: image) { return lq |> site s }",
        "experiment e {",
        "  model Net",
        "  prompt adaptive { extractor FExt(nf: 4); sites s }",
        "  curriculum mixed { tasks sr; iters 10 }",
        "}",
      ].join("\n"),
    ));
});

describe("MIO3004 sizes (issue 15: kernel, pad and stride followed at the crop and the eval tile)", () => {
  /** `net`'s experiment with data and eval settings. */
  const sized = (settings: string, ...lines: string[]) =>
    net(...lines).replace("iters 10 }", `iters 10 }; ${settings}`);
  const HINT =
    "at stride 1 a conv keeps the size with an odd k and pad (k - 1) / 2; a stride s needs sides divisible by s";
  it("an even kernel: the '+' it breaks, with a note at the conv", () => {
    const d = expectDiagnostic(
      net("  return lq + (lq |> c1: conv(3, k: 2))"),
      "MIO3004 3:10 '+' of tensors of different sizes: 128×128 and 129×129 for the 128×128 training crop",
      HINT,
    );
    expect(d.notes?.map((n) => `${n.span.start.line}:${n.span.start.col} ${n.message}`)).toEqual([
      "3:22 'conv' here turns 128×128 into 129×129",
    ]);
  });
  it("an even kernel at the output", () =>
    expectDiagnostic(
      net("  return lq |> c1: conv(3, k: 4)"),
      "MIO3004 5:22 'Net' returns 129×129 for the 128×128 training crop: a restoration model must keep its input's size",
    ));
  it("a pad that grows the size", () =>
    expectDiagnostic(
      net("  return lq - (lq |> c1: conv(3, pad: 2))"),
      "MIO3004 3:10 '-' of tensors of different sizes: 128×128 and 130×130",
    ));
  it("a stride the crop does not divide", () =>
    expectDiagnostic(
      sized(
        "data { crop 100 }; eval { tile 100 }",
        "  return lq + (lq |> c1: conv(12, stride: 3) |> upsample(3) |> c2: conv(3))",
      ),
      "MIO3004 3:10 '+' of tensors of different sizes: 100×100 and 102×102 for the 100×100 training crop",
    ));
  it("the same model with a crop and tile the stride divides checks", () =>
    expectParses(
      sized(
        "data { crop 96 }; eval { tile 96 }",
        "  return lq + (lq |> c1: conv(12, stride: 3) |> upsample(3) |> c2: conv(3))",
      ),
    ));
  it("a crop that works but an eval tile that does not", () =>
    expectDiagnostic(
      sized("data { crop 96 }", "  return lq + (lq |> c1: conv(12, stride: 3) |> upsample(3) |> c2: conv(3))"),
      "MIO3004 3:10 '+' of tensors of different sizes: 128×128 and 129×129 for the 128×128 eval tile",
    ));
  it("a kernel larger than the input", () =>
    expectDiagnostic(
      net("  return lq |> c1: conv(3, k: 201, pad: 0)"),
      "MIO3004 3:16 conv(k: 201, pad: 0) needs an input side of at least 201, but the side here is 128 (for the 128×128 training crop)",
      "a smaller kernel, or a larger crop or tile",
    ));
  it("an oversized pad", () =>
    expectDiagnostic(
      net("  return lq |> c1: conv(3, k: 3, pad: 3)"),
      "MIO3004 3:16 conv pad 3 is not smaller than its kernel 3: the outer outputs would see only padding",
    ));
  it("reflect padding wider than the side", () =>
    expectDiagnostic(
      sized("data { crop 16 }; eval { tile 16 }", "  return lq |> reflect_pad(16) |> c1: conv(3, k: 33, pad: 0)"),
      "MIO3004 3:16 reflect_pad reflect-pads 16 pixels, which needs an input side over 16, but the side here is 16",
    ));
  it("pixel_unshuffle of a side it does not divide", () =>
    expectDiagnostic(
      net("  return lq |> pixel_unshuffle(3) |> c1: conv(27) |> pixel_shuffle(3) |> c2: conv(3)"),
      "MIO3004 3:16 pixel_unshuffle(3) needs sides divisible by 3, but the side here is 128",
    ));
  it("concat of two sizes", () =>
    expectDiagnostic(
      net("  return concat()(lq, lq |> zero_pad(1)) |> c1: conv(3)"),
      "MIO3004 3:10 'concat' of tensors of different sizes: 128×128 and 130×130",
    ));
  it("a pad and a conv that restore the size check (the pad is not held against it)", () =>
    expectParses(net("  return lq + (lq |> zero_pad(1) |> c1: conv(3, pad: 0))")));
  it("inside a library backbone, at the user's call, with notes to the layers", () => {
    const d = expectDiagnostic(
      {
        "main.mio": [
          "use stdlib/tasks",
          'use "./lib.mio"',
          "experiment e {",
          "  model Even(k: 2)",
          "  curriculum mixed { tasks sr; iters 10 }",
          "}",
        ].join("\n"),
        "lib.mio": "backbone Even(k: int = 3)(lq: image) {\n  return lq + (lq |> c: conv(3, k: k))\n}\n",
      },
      "MIO3004 4:9 '+' of tensors of different sizes: 128×128 and 129×129 for the 128×128 training crop",
    );
    expect(d.notes?.map((n) => n.message)).toEqual([
      "in 'Even', instantiated from the call above",
      "'conv' here turns 128×128 into 129×129",
    ]);
  });
});

describe("MIO7002 model too large", () => {
  // SRResNet has 6 layer calls and tensor operations outside its blocks and 4 in each (conv, lrelu, conv, +).
  it("a model of more than 2,000 layer calls and tensor operations, at the user's call", () =>
    expectDiagnostic(
      exp("  model SRResNet(feat: 8, blocks: 500)", MIXED),
      "MIO7002 5:9 this model has more than 2,000 layer calls and tensor operations, more than mio compiles",
      "use fewer blocks or layers (stdlib's SRResNet has 70)",
    ));
  it("one of 1,990 compiles", () => expectParses(exp("  model SRResNet(feat: 8, blocks: 496)", MIXED)));
  it("a tensor past what a kernel indexes, at the crop and batch", () =>
    expectDiagnostic(
      exp("  model SRResNet(feat: 64, blocks: 2)", MIXED, "  data { crop 2048; batch 64 }"),
      "MIO7002 5:9 this makes a tensor of 64 × 64 × 2048×2048 = 1.72e+10 values for the 2048×2048 training crop, over the 2,147,483,647 one kernel can index (8 GiB of float32)",
      "use fewer channels, or a smaller crop, tile or batch",
    ));
});

describe("MIO4001 unknown task", () => {
  it("in a sequential order, with did-you-mean", () =>
    expectDiagnostic(
      exp(MODEL, "  curriculum sequential {", "    order sr -> blur -> nosie -> jpeg", "    stage_iters 10", "  }"),
      "MIO4001 7:25 unknown task 'nosie'",
      "did you mean 'noise'?",
    ));
  it("in a mixed list", () =>
    expectDiagnostic(
      exp(MODEL, "  curriculum mixed { tasks sr, hze; iters 10 }"),
      "MIO4001 6:32 unknown task 'hze'",
      "did you mean 'haze'?",
    ));
  it("in a stage", () =>
    expectDiagnostic(
      exp(MODEL, "  curriculum stages { stage [sr, darkk], iters: 1 }"),
      "MIO4001 6:34 unknown task 'darkk'",
      "did you mean 'dark'?",
    ));
  it("without stdlib/tasks", () =>
    expectDiagnostic(
      "use stdlib/backbones/srresnet\nexperiment e { model SRResNet; curriculum mixed { tasks sr; iters 1 } }",
      "MIO4001 2:57 unknown task 'sr'",
      "no tasks are declared: use stdlib/tasks",
    ));
  it("the caret sits under the misspelled task", () =>
    expect(
      rendered(
        exp(MODEL, "  curriculum sequential {", "    order sr -> blur -> nosie -> jpeg", "    stage_iters 10", "  }"),
      ),
    ).toBe(
      [
        "in-memory.mio:7:25 error MIO4001: unknown task 'nosie'",
        " 7 |     order sr -> blur -> nosie -> jpeg",
        "   |                         ^^^^^ did you mean 'noise'?",
      ].join("\n"),
    ));
});

describe("MIO4002 unmatched prompt site", () => {
  it("a misspelled site, with did-you-mean", () =>
    expectDiagnostic(
      exp(MODEL, MIXED, "  prompt adaptive { extractor FExt; sites body.*, conv_hx }"),
      "MIO4002 7:51 prompt site 'conv_hx' matches no site of the model",
      "did you mean 'conv_hr'?",
    ));
  it("a pattern that matches nothing lists the model's sites", () =>
    expectDiagnostic(
      exp(MODEL, MIXED, "  prompt adaptive { extractor FExt; sites tail.* }"),
      "MIO4002 7:43 prompt site 'tail.*' matches no site of the model",
      "the model's sites: body.0, body.1, conv_hr, conv_last",
    ));
  it("a model without sites", () =>
    expectDiagnostic(
      ["use stdlib/prompts", ...net("  return lq |> c1: conv(3)").split("\n")]
        .join("\n")
        .replace("iters 10 }", "iters 10 }; prompt adaptive { extractor FExt; sites body.* }"),
      "MIO4002 6:",
      "the model declares no sites",
    ));
});

describe("MIO4003 curriculum", () => {
  it("a task twice in a mixed list", () =>
    expectDiagnostic(
      exp(MODEL, "  curriculum mixed { tasks sr, noise, sr; iters 100 }"),
      "MIO4003 6:39 task 'sr' appears twice in tasks",
    ));
  it("a task twice in an order", () =>
    expectDiagnostic(
      exp(MODEL, "  curriculum sequential { order sr -> noise -> sr; stage_iters 10 }"),
      "MIO4003 6:48 task 'sr' appears twice in the order",
    ));
  it("a task twice in a stage", () =>
    expectDiagnostic(
      exp(MODEL, "  curriculum stages { stage [sr, sr], iters: 10 }"),
      "MIO4003 6:34 task 'sr' appears twice in a stage",
    ));
  it("iterations that restarts do not divide (mixed)", () =>
    expectDiagnostic(
      exp(MODEL, "  curriculum mixed { tasks sr; iters 100; restarts 3 }"),
      "MIO4003 6:3 100 iterations do not split into 3 equal cosine periods",
    ));
  it("iterations that restarts do not divide (the final stage)", () =>
    expectDiagnostic(
      exp(
        MODEL,
        "  curriculum sequential {",
        "    order sr -> noise",
        "    stage_iters 10",
        "    final_iters 1M",
        "    final_restarts 3",
        "  }",
      ),
      "MIO4003 9:5 1000000 iterations do not split into 3 equal cosine periods",
    ));
  it("iterations that restarts do not divide (a stage)", () =>
    expectDiagnostic(
      exp(MODEL, "  curriculum stages { stage [sr], iters: 10, restarts: 4 }"),
      "MIO4003 6:23 10 iterations do not split into 4",
    ));
});

describe("MIO4004 prompt", () => {
  it("maps on an adaptive prompt", () =>
    expectDiagnostic(
      exp(MODEL, MIXED, "  prompt adaptive { extractor FExt; sites body.*; maps random(size: 64) }"),
      "MIO4004 7:51 'maps' is for explicit prompts; an adaptive prompt is the input image itself",
    ));
  it("a classifier on an adaptive prompt", () =>
    expectDiagnostic(
      exp(MODEL, MIXED, "  prompt adaptive { extractor FExt; sites body.*; classifier TaskClassifier }"),
      "MIO4004 7:51 'classifier' is for explicit prompts",
    ));
  it("a classifier that does not return a vector", () =>
    expectDiagnostic(
      exp(MODEL, MIXED, "  prompt explicit { extractor FExt; sites body.*; classifier SRResNet(feat: 4, blocks: 1) }"),
      "MIO4004 7:62 a task classifier must return a vector of class scores; 'SRResNet' returns a map",
      "end it with |> mean |> fc: linear(7) |> softmax",
    ));
  it("settings on prompt none", () =>
    expectDiagnostic(exp(MODEL, MIXED, "  prompt none { sites body.* }"), "MIO4004 7:3 prompt none takes no settings"));
  it("an extractor that returns a map", () =>
    expectDiagnostic(
      `${exp(MODEL, MIXED, "  prompt adaptive { extractor Map; sites body.* }")}\nblock Map()(x) { return x |> c: conv(8) }`,
      "MIO4004 7:31 a prompt extractor must return a vector; 'Map' returns a map",
      "end it with |> mean",
    ));
});

/** A prompt whose settings are lines 8.. (the experiment's `prompt` at line 7): several labelled extractors. */
const extractors = (...lines: string[]) => exp(MODEL, MIXED, "  prompt adaptive {", ...lines, "  }");
const FEEDS_BODY = "    extractor a: FExt(nf: 4) { sites body.* }";

describe("several prompt extractors, each with its own sites", () => {
  it("a site fed by two extractors, at the pattern that chose it again", () =>
    expectDiagnostic(
      extractors(FEEDS_BODY, "    extractor b: FExt(nf: 4) { sites conv_hr, body.1 }"),
      "MIO2004 9:47 site 'body.1' is fed by two extractors: 'a' and 'b'",
      "a site takes one prompt vector; name it under one extractor",
    ));
  it("an extractor without sites", () =>
    expectDiagnostic(
      extractors(FEEDS_BODY, "    extractor b: FExt(nf: 4)"),
      "MIO4004 9:15 extractor 'b' feeds no sites",
      "name them in its block: extractor b: FExt { sites ... }",
    ));
  it("an extractor with an empty block", () =>
    expectDiagnostic(
      extractors(FEEDS_BODY, "    extractor b: FExt(nf: 4) { }"),
      "MIO4004 9:15 extractor 'b' feeds no sites",
    ));
  it("a label used twice", () =>
    expectDiagnostic(
      extractors(FEEDS_BODY, "    extractor a: FExt(nf: 4) { sites conv_hr }"),
      "MIO2004 9:15 extractor 'a' is declared twice",
    ));
  it("an extractor without a label", () =>
    expectDiagnostic(
      extractors(FEEDS_BODY, "    extractor FExt(nf: 4) { sites conv_hr }"),
      "MIO2005 9:15 with several extractors, each needs a label: the prefix of its parameters",
    ));
  it("the short form's sites beside labelled extractors", () =>
    expectDiagnostic(
      extractors(FEEDS_BODY, "    extractor b: FExt(nf: 4) { sites conv_hr }", "    sites conv_last"),
      "MIO4004 10:5 with several extractors, each names its sites in its own block",
    ));
  it("a misspelt sites in an extractor's block, once", () =>
    expectDiagnostic(
      extractors(FEEDS_BODY, "    extractor b: FExt(nf: 4) { stes conv_hr }"),
      "MIO2007 9:32 unknown setting 'stes' in extractor b",
      "did you mean 'sites'?",
    ));
  it("a site of an extractor that matches none of the model's", () =>
    expectDiagnostic(
      extractors(FEEDS_BODY, "    extractor b: FExt(nf: 4) { sites conv_hx }"),
      "MIO4002 9:38 prompt site 'conv_hx' matches no site of the model",
      "did you mean 'conv_hr'?",
    ));
  it("an extractor labelled with a site layer's name", () =>
    expectDiagnostic(
      extractors(
        "    extractor scale_fc: FExt(nf: 4) { sites body.* }",
        "    extractor b: FExt(nf: 4) { sites conv_hr }",
      ),
      "MIO2004 8:25 parameter 'scale_fc.1.weight' of the prompt extractor 'FExt' is also a parameter of site 'body.1'",
    ));
});

describe("MIO6001 declared but cannot be compiled yet", () => {
  it("a layer without a lowering in the model", () =>
    expectDiagnostic(
      net("  return lq |> sigmoid"),
      "MIO6001 3:16 layer 'sigmoid' is declared but cannot be compiled yet",
      "the compiler has kernels for conv, conv_transpose, linear, relu, lrelu, gelu, softmax, add_rgb, zero_pad, reflect_pad, mean, layer_norm, to_tokens, to_map, window_attention, window_embed, mlp, mdta, gdfn, prompt_gen, pixel_shuffle, pixel_unshuffle, upsample, concat, pad_to, crop_to, drop_path",
    ));
  it("each call site once, however often a loop or block runs it", () =>
    expectDiagnostics(
      net("  for i in 0..4 { lq = lq |> sigmoid }", "  y = lq |> c: conv(3) |> sigmoid", "  return y |> sigmoid"),
      [
        "MIO6001 3:30 layer 'sigmoid' is declared but cannot be compiled yet",
        "MIO6001 4:27 layer 'sigmoid' is declared but cannot be compiled yet",
        "MIO6001 5:15 layer 'sigmoid' is declared but cannot be compiled yet",
      ],
    ));
  it("a layer without a lowering in the prompt extractor", () =>
    expectDiagnostic(
      `${exp(MODEL, MIXED, "  prompt adaptive { extractor Ext; sites body.* }")}\nblock Ext()(x) { return x |> c: conv(8) |> sigmoid |> mean }`,
      "MIO6001 9:44 layer 'sigmoid' is declared but cannot be compiled yet",
    ));
  it("a library backbone that only declares such layers still checks", () =>
    expectParses(
      "backbone B(c: int = 8)(lq: image) {\n  t = lq |> c0: conv(c) |> g: conv(c, groups: 2)\n  return t |> sigmoid |> o: conv(3)\n}",
    ));
  it("in a used module, with a note at the experiment that compiles it", () => {
    const files = {
      "a.mio": 'use stdlib/tasks\nuse "./b.mio"\nexperiment e { model B; curriculum mixed { tasks sr; iters 10 } }',
      "b.mio": "backbone B()(lq: image) {\n  return lq |> sigmoid\n}",
    };
    const [d] = expectDiagnostics(files, ["MIO6001 b.mio:2:16 layer 'sigmoid' is declared but cannot be compiled yet"]);
    expect(d?.notes?.map((n) => `${n.span.start.line}:${n.span.start.col} ${n.message}`)).toEqual([
      "3:22 the experiment compiles 'B' here",
    ]);
  });
  it("renders with file:line:col and a caret under the call", () =>
    expect(rendered(net("  return lq |> sigmoid")).split("\n").slice(0, 3)).toEqual([
      "in-memory.mio:3:16 error MIO6001: layer 'sigmoid' is declared but cannot be compiled yet",
      " 3 |   return lq |> sigmoid",
      "   |                ^^^^^^^ the compiler has kernels for conv, conv_transpose, linear, relu, lrelu, gelu, softmax, add_rgb, zero_pad, reflect_pad, mean, layer_norm, to_tokens, to_map, window_attention, window_embed, mlp, mdta, gdfn, prompt_gen, pixel_shuffle, pixel_unshuffle, upsample, concat, pad_to, crop_to, drop_path",
    ]));
});

/** `CODE line:col message` of each note of `d`, as `expectDiagnostic` shows a diagnostic. */
const notes = (d: { notes?: { span: { file: string; start: { line: number; col: number } }; message: string }[] }) =>
  (d.notes ?? []).map(
    (n) => `${n.span.file.replace(/^.*\/(?=stdlib\/)/, "")}:${n.span.start.line}:${n.span.start.col} ${n.message}`,
  );

describe("diagnostics point at the user's line (issue 15, item 7)", () => {
  it("SRResNet(feat: 0): one error at the call, with a note inside the stdlib", () => {
    const d = expectDiagnostic(
      exp("  model SRResNet(feat: 0)", MIXED),
      "MIO2009 5:9 conv.out must be at least 1, found 0",
      "the arguments make 'SRResNet' fail inside; see the note",
    );
    expect(notes(d)).toEqual(["stdlib/backbones/srresnet.mio:10:30 in 'SRResNet', instantiated from the call above"]);
  });
  it("SRResNet(blocks: -3): a backwards loop range, at the call", () => {
    const d = expectDiagnostic(
      exp("  model SRResNet(feat: 8, blocks: -3)", MIXED),
      "MIO2009 5:9 the loop range 0..-3 runs backwards",
    );
    expect(notes(d)).toEqual(["stdlib/backbones/srresnet.mio:11:12 in 'SRResNet', instantiated from the call above"]);
  });
  it("a stdlib block called with a bad argument from the user's backbone: at that call", () => {
    const d = expectDiagnostic(
      net("  f = lq |> c0: conv(8)", "  g = r: ResBlock(0)(f)", "  return g |> c1: conv(3)").replace(
        "use stdlib/tasks",
        "use stdlib/tasks\nuse stdlib/blocks",
      ),
      "MIO2009 5:7 conv.out must be at least 1, found 0",
    );
    expect(notes(d)).toEqual(["stdlib/blocks.mio:5:24 in 'ResBlock', instantiated from the call above"]);
  });
  it("through two library files, the notes lead from the call to the mistake", () => {
    const files = {
      "a.mio":
        'use stdlib/tasks\nuse "./b.mio"\nexperiment e { model B(c: 0); curriculum mixed { tasks sr; iters 10 } }',
      "b.mio":
        "use stdlib/blocks\nbackbone B(c: int = 8)(lq: image) {\n  f = lq |> c0: conv(8)\n  g = r: ResBlock(c)(f)\n  return g |> o: conv(3)\n}",
    };
    const [d] = expectDiagnostics(files, ["MIO2009 3:22 conv.out must be at least 1, found 0"]);
    expect((d?.notes ?? []).map((n) => `${n.span.start.line}:${n.span.start.col} ${n.message}`)).toEqual([
      "4:7 in 'B', which calls 'ResBlock' here",
      "5:24 in 'ResBlock', instantiated from the call above",
    ]);
  });
  it("a failed assignment is not reported again where its target is used", () =>
    expectDiagnostic(
      net("  f = lq |> c0: conv(0)", "  g = f |> c1: conv(8)", "  return g + f |> c2: conv(3)"),
      "MIO2009 3:22 conv.out must be at least 1, found 0",
    ));
  it("a value lost to a syntax error is not also an unknown task named '<missing>'", () =>
    expectDiagnostic(
      exp(MODEL, "  curriculum mixed { tasks sr, , noise; iters 100 }"),
      "MIO1002 6:32 expected a value but found ','",
    ));
  it("a declaration with a syntax error reports only that: no 'needs a model' for what recovery lost", () =>
    expectDiagnostic(
      "use stdlib/tasks\nexperiment e {\n  seed 1\n",
      "MIO1002 3:9 expected '}' but found the end of the file",
    ));
  it("a misspelt top-level keyword, with did-you-mean", () => {
    expectDiagnostic(
      `${exp(MODEL, MIXED)}\nexperimnet f { seed 1 }`,
      "MIO1002 8:1 unknown keyword 'experimnet'",
      "did you mean 'experiment'?",
    );
    expectDiagnostic(
      "bakbone B()(x) { return x }",
      "MIO1002 1:1 unknown keyword 'bakbone'",
      "did you mean 'backbone'?",
    );
  });
  it("a misspelt 'use' is one error, not also the unknown tasks it would have declared", () =>
    expectDiagnostic(
      exp(MODEL, MIXED).replace("use stdlib/tasks", "usee stdlib/tasks"),
      "MIO1002 1:1 unknown keyword 'usee'",
      "did you mean 'use'?",
    ));
  it("a stray line between declarations", () =>
    expectDiagnostic(
      "block B()(x) { return x }\nx = 1",
      "MIO1002 2:1 expected a declaration but found 'x'",
      "a declaration starts with use, block, backbone, task, testset or experiment; a '}' earlier may close one too soon",
    ));
  it("a misspelt section is one error, not also the section it lacks", () => {
    expectDiagnostic(
      exp("  modle SRResNet(feat: 8, blocks: 2)", MIXED),
      "MIO2007 5:3 unknown setting 'modle' in experiment 'e'",
      "did you mean 'model'?",
    );
    expectDiagnostic(
      exp(MODEL, "  curiculum mixed { tasks sr; iters 10 }"),
      "MIO2007 6:3 unknown setting 'curiculum' in experiment 'e'",
      "did you mean 'curriculum'?",
    );
  });
  it("a UTF-8 byte order mark is accepted, and the first line's columns are an editor's", () => {
    expectParses(`\ufeff${exp(MODEL, MIXED)}`);
    expectDiagnostic("\ufeffblock B()(x) { return y }", "MIO2001 1:23 unknown name 'y'");
  });
  it("an unknown one-letter name gets no did-you-mean for another letter", () => {
    const d = expectDiagnostic("block B()(x) { return f }", "MIO2001 1:23 unknown name 'f'");
    expect(d.hint).toBeUndefined();
  });
});

// Before these limits the first case ran for hours, the block loop and the empty loops checked without a word, the
// sites took 26 s (quadratic) and the self-calling block overflowed the stack.
describe("MIO7001 too large", () => {
  const TOO_LONG = "MIO7001 3:12 this unrolls to more than 200,000 steps (loop iterations, statements and layer calls)";
  // Checked on their own (no experiment compiles them, which would stop at MIO7002's 2,000 tensor operations).
  const alone = (src: string) => src.replace("experiment e { model Net; curriculum mixed { tasks sr; iters 10 } }", "");
  it("three nested loops of 4096 iterations, reported once at the outermost", { timeout: 5000 }, () =>
    expectDiagnostic(
      alone(
        net("  for i in 0..4096 {", "    for j in 0..4096 { for k in 0..4096 { lq = lq + lq } }", "  }", "  return lq"),
      ),
      TOO_LONG,
      "nested loops multiply; use fewer or shorter loops",
    ),
  );
  it("nested loops with empty bodies still count their iterations (64³ = 262,144)", { timeout: 5000 }, () =>
    expectDiagnostic(net("  for i in 0..64 { for j in 0..64 { for k in 0..64 { } } }", "  return lq"), TOO_LONG),
  );
  it("loops over a block's layers count the block's work", { timeout: 5000 }, () =>
    expectDiagnostic(
      [
        "use stdlib/tasks",
        "block B(c: int)(x) { return x |> a: conv(c, k: 1) |> relu |> b: conv(c, k: 1) }",
        "backbone Net(c: int = 3)(lq: image) {",
        "  for i in 0..16 { for j in 0..4096 { lq = l[i].m[j]: B(3)(lq) } }",
        "  return lq",
        "}",
      ].join("\n"),
      "MIO7001 4:12 this unrolls to more than 200,000 steps",
    ),
  );
  const smallBlocks = [
    "use stdlib/tasks",
    "block B(c: int)(x) { return x |> a: conv(c, k: 1) |> relu |> b: conv(c, k: 1) }",
    "backbone Net(c: int = 3)(lq: image) {",
    "  for i in 0..4096 { lq = l[i]: B(3)(lq) }",
    "  return lq",
    "}",
    "experiment e { model Net; curriculum mixed { tasks sr; iters 10 } }",
  ].join("\n");
  it("a loop of 4096 iterations of a small block is within the limit", { timeout: 5000 }, () =>
    expectParses(alone(smallBlocks)),
  );
  it("the same loop as an experiment's model is more than mio compiles (MIO7002)", { timeout: 5000 }, () =>
    expectDiagnostic(smallBlocks, "MIO7002 4:12 this model has more than 2,000 layer calls and tensor operations"),
  );
  it("80,000 prompt sites check in linear time", { timeout: 5000 }, () =>
    expectParses(
      net("  for i in 0..4096 { for j in 0..20 { lq = site s[i].t[j] (lq) } }", "  return lq").replace(
        "experiment e { model Net; curriculum mixed { tasks sr; iters 10 } }",
        "",
      ),
    ),
  );
  // Settings' lists are bounded at 1,000 values, and resolving them is linear: a 50,000-task order took 24 s.
  it("an order of 50,000 tasks", { timeout: 5000 }, () =>
    expectDiagnostic(
      exp(
        MODEL,
        "  curriculum sequential {",
        `    order ${Array(50_000).fill("sr").join(" -> ")}`,
        "    stage_iters 100",
        "  }",
      ),
      "MIO7001 7:11 a chain of 50000 values is too long: at most 1000",
    ),
  );
  it("tasks listing 50,000 values", { timeout: 5000 }, () =>
    expectDiagnostic(
      exp(MODEL, `  curriculum mixed { tasks ${Array(50_000).fill("sr").join(", ")}; iters 100 }`),
      "MIO7001 6:22 'tasks' of 50000 values is too long: at most 1000",
    ),
  );
  it("a stage's list of 50,000 tasks", { timeout: 5000 }, () =>
    expectDiagnostic(
      exp(MODEL, `  curriculum stages { stage [${Array(50_000).fill("sr").join(", ")}], iters: 100 }`),
      "MIO7001 6:29 a list of 50000 values is too long: at most 1000",
    ),
  );
  it("1,000 tasks twice over: the first repeat is reported", { timeout: 5000 }, () =>
    expectDiagnostic(
      exp(MODEL, `  curriculum mixed { tasks ${Array(1000).fill("sr").join(", ")}; iters 100 }`),
      "MIO4003 6:32 task 'sr' appears twice in tasks",
    ),
  );
  it("a pattern choosing 81,920 prompt sites", { timeout: 5000 }, () =>
    expectParses(
      [
        "use stdlib/tasks",
        "use stdlib/prompts",
        "backbone Net(c: int = 3)(lq: image) {",
        "  for i in 0..4096 { for j in 0..20 { lq = site s[i].t[j] (lq) } }",
        "  return lq",
        "}",
        "experiment e {",
        "  model Net",
        "  curriculum mixed { tasks sr; iters 10 }",
        "  prompt adaptive { extractor FExt(nf: 16); sites s.*.t.* }",
        "}",
      ].join("\n"),
    ),
  );
  it("a block that calls itself (in a pipe) ends fast, at the call depth limit", { timeout: 5000 }, () =>
    expectDiagnostics(
      [
        "use stdlib/tasks",
        "block B(c: int)(x) { return x |> b: B(c) }",
        "backbone Net(c: int = 3)(lq: image) { return lq |> b: B(3) }",
        "experiment e { model Net; curriculum mixed { tasks sr; iters 10 } }",
      ].join("\n"),
      ["MIO2010 2:34 block calls nested more than 64 deep: 'B' calls itself without end"],
    ),
  );
});

describe("rendering", () => {
  // Each diagnostic split the whole source again: 20,000 on a 20,000-line file took 15 s.
  it("renders 20,000 diagnostics of a 20,000-line file in linear time", { timeout: 3000 }, () => {
    const n = 20_000;
    const source = Array.from({ length: n }, (_, i) => `  y = a${i}`).join("\n");
    const at = (line: number) => ({ line, col: 7, offset: 0 });
    const ds = Array.from({ length: n }, (_, i) =>
      error(codes.unknownName, { file: "f.mio", start: at(i + 1), end: at(i + 1) }, `unknown name 'a${i}'`),
    );
    const all = renderDiagnostics(ds, new Map([["f.mio", source]]), Number.POSITIVE_INFINITY);
    expect(all.rendered).toHaveLength(n);
    expect(all.more).toBe(0);
    expect(all.rendered[n - 1]).toBe(
      [`f.mio:${n}:7 error MIO2001: unknown name 'a${n - 1}'`, ` ${n} |   y = a${n - 1}`, "       |       ^"].join(
        "\n",
      ),
    );
    const capped = renderDiagnostics(ds, new Map([["f.mio", source]]));
    expect([capped.rendered.length, capped.more]).toEqual([MAX_RENDERED, n - MAX_RENDERED]);
  });
  it("shows a window of a long line around the span", () => {
    const line = `${"a -> ".repeat(20_000)}nosie${" -> b".repeat(20_000)}`;
    const col = 100_001;
    expect(line.slice(col - 1, col + 4)).toBe("nosie");
    const d = error(
      codes.unknownTask,
      { file: "f.mio", start: { line: 1, col, offset: 0 }, end: { line: 1, col: col + 5, offset: 0 } },
      "unknown task 'nosie'",
    );
    const [, text, caret] = renderDiagnostic(d, line).split("\n");
    expect(text?.length).toBeLessThan(200);
    expect(text?.startsWith(" 1 | ...")).toBe(true);
    expect(text?.endsWith("...")).toBe(true);
    const at = caret?.indexOf("^") ?? -1;
    expect(text?.slice(at, at + 6)).toBe("nosie ");
    expect(caret?.slice(at)).toBe("^^^^^");
  });
});

describe("the catalog", () => {
  // MIO5001 (a resolved spec fails the schema) means a bug in mio, not in the user's file: specs.test.ts checks
  // the schema itself, and known-bugs.test.ts lists the inputs that still reach it.
  const tested = new Set(Object.values(codes).filter((c) => c !== codes.schema));
  it("has a describe block above for every user-facing code", () => {
    expect([...tested].sort()).toEqual([
      "MIO1001",
      "MIO1002",
      "MIO1003",
      "MIO2001",
      "MIO2002",
      "MIO2003",
      "MIO2004",
      "MIO2005",
      "MIO2006",
      "MIO2007",
      "MIO2008",
      "MIO2009",
      "MIO2010",
      "MIO2011",
      "MIO2012",
      "MIO2013",
      "MIO3001",
      "MIO3002",
      "MIO3003",
      "MIO3004",
      "MIO4001",
      "MIO4002",
      "MIO4003",
      "MIO4004",
      "MIO6001",
      "MIO7001",
      "MIO7002",
    ]);
  });
});
