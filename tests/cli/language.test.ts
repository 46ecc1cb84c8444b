// `mioc check` and `mioc compile` as a user runs them: exit codes (0 ok, 2 invalid input), carets on stderr, JSON
// for editors, specs on stdout, and no stack traces for user mistakes.
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { validateSpec } from "../../compiler/schema/emit.js";
import { mioc, miocAsync, root } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "mioc-language-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A pipeline with one misspelled task, written to a temp file (it needs the real stdlib, found from dist/). */
const misspelled = join(dir, "misspelled.mio");
writeFileSync(
  misspelled,
  [
    "use stdlib/tasks",
    "use stdlib/backbones/srresnet",
    "",
    "experiment typo {",
    "  model SRResNet(feat: 8, blocks: 2)",
    "  curriculum sequential {",
    "    order sr -> blur -> nosie -> jpeg",
    "    stage_iters 100",
    "  }",
    "}",
    "",
  ].join("\n"),
);

/** A valid experiment on a library backbone that calls a layer which checks but has no kernels yet (sigmoid). */
const gateLibrary = join(dir, "gate.mio");
writeFileSync(gateLibrary, "backbone Gate(c: int = 8)(lq: image) {\n  return lq |> c0: conv(3) |> sigmoid\n}\n");
const gated = join(dir, "gated.mio");
writeFileSync(
  gated,
  [
    "use stdlib/tasks",
    'use "./gate.mio"',
    "",
    "experiment restore {",
    "  model Gate",
    "  curriculum mixed { tasks sr; iters 10 }",
    "}",
    "",
  ].join("\n"),
);

/** A small SwinIR experiment: every transformer layer lowers. */
const swinir = join(dir, "swinir.mio");
writeFileSync(
  swinir,
  [
    "use stdlib/tasks",
    "use stdlib/backbones/swinir",
    "",
    "experiment swin {",
    "  model SwinIR(embed: 12, groups: 2, depth: 2, heads: 2, window: 4, feat: 8)",
    "  data {",
    "    crop 16",
    "    batch 2",
    "  }",
    "  curriculum mixed { tasks sr; iters 10 }",
    "}",
    "",
  ].join("\n"),
);

/** SRResNet with a channel count of 0: the mistake is the user's argument, so the error is at the user's line. */
const feat0 = join(dir, "feat0.mio");
writeFileSync(
  feat0,
  [
    "use stdlib/tasks",
    "use stdlib/backbones/srresnet",
    "",
    "experiment zero {",
    "  model SRResNet(feat: 0)",
    "  curriculum mixed { tasks sr; iters 10 }",
    "}",
    "",
  ].join("\n"),
);

const mioIn = (folder: string) =>
  readdirSync(join(root, folder))
    .filter((f) => f.endsWith(".mio"))
    .map((f) => `${folder}/${f}`);

const noStack = /\n\s+at /;

describe("mioc check", () => {
  it("passes the pipelines and the stdlib with exit code 0", () => {
    const files = [
      ...mioIn("pipelines"),
      "stdlib/tasks.mio",
      "stdlib/blocks.mio",
      "stdlib/prompts.mio",
      ...mioIn("stdlib/backbones"),
    ];
    const r = mioc(["check", ...files]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`checked ${files.length} files: no errors\n`);
  });

  it("also checks them with --profile quick", () => {
    const r = mioc(["check", ...mioIn("pipelines"), "--profile", "quick"]);
    expect(r.code, r.stderr).toBe(0);
  });

  it("reports a misspelled task with exit code 2, a caret and a did-you-mean", () => {
    const r = mioc(["check", misspelled]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${misspelled}:7:25 error MIO4001: unknown task 'nosie'`);
    expect(r.stderr).toContain(" 7 |     order sr -> blur -> nosie -> jpeg\n");
    expect(r.stderr).toContain("   |                         ^^^^^ did you mean 'noise'?\n");
    expect(r.stderr).not.toMatch(noStack);
    expect(r.stdout).toBe("checked 1 file: 1 error\n");
  });

  it("reports a bad backbone argument at the user's call, once, with a note inside the stdlib", () => {
    const r = mioc(["check", feat0]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("checked 1 file: 1 error\n");
    expect(r.stderr).toContain(`${feat0}:5:9 error MIO2009: conv.out must be at least 1, found 0\n`);
    expect(r.stderr).toContain(" 5 |   model SRResNet(feat: 0)\n");
    expect(r.stderr).toContain(
      "   |         ^^^^^^^^^^^^^^^^^ the arguments make 'SRResNet' fail inside; see the note\n",
    );
    const source = readFileSync("stdlib/backbones/srresnet.mio", "utf8").split("\n");
    const line = source.findIndex((l) => l.includes("conv_first: conv(feat")) + 1;
    expect(r.stderr).toContain(
      `  note: stdlib/backbones/srresnet.mio:${line}:30: in 'SRResNet', instantiated from the call above`,
    );
    expect(r.stderr).not.toContain("did you mean");
  });

  it("prints diagnostics as JSON with --format json", () => {
    const r = mioc(["check", misspelled, "--format", "json"]);
    expect(r.code).toBe(2);
    const out = JSON.parse(r.stdout);
    expect(out).toEqual({
      files: [misspelled],
      errors: 1,
      diagnostics: [
        {
          file: misspelled,
          line: 7,
          col: 25,
          endLine: 7,
          endCol: 30,
          code: "MIO4001",
          severity: "error",
          message: "unknown task 'nosie'",
          hint: "did you mean 'noise'?",
        },
      ],
    });
  });

  it("prints valid JSON with no diagnostics too", () => {
    const r = mioc(["check", "pipelines/seq_prompt.mio", "--format", "json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ files: ["pipelines/seq_prompt.mio"], errors: 0, diagnostics: [] });
  });

  // 20,000 diagnostics took 16 s to print (each split the whole source again); now the first 100 print, then a count.
  const manyErrors = (n: number) => {
    const file = join(dir, `many-${n}.mio`);
    const body = Array.from({ length: n }, (_, i) => `  y = a${i}`);
    writeFileSync(file, ["block B()(x) {", ...body, "  return x", "}", ""].join("\n"));
    return file;
  };
  it("prints the first 100 of 20,000 diagnostics and counts the rest, in seconds", { timeout: 10_000 }, () => {
    const many = manyErrors(20_000);
    const r = mioc(["check", many]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("checked 1 file: 20000 errors\n");
    expect(r.stderr.match(/ error MIO2001: /g)).toHaveLength(100);
    expect(r.stderr).toContain(`${many}:101:7 error MIO2001: unknown name 'a99'\n 101 |   y = a99\n`);
    expect(r.stderr.endsWith("... and 19900 more (mioc check --format json lists them all)\n\n")).toBe(true);
  });

  it("lists every diagnostic with --format json, past the 100 it prints", () => {
    const json = JSON.parse(mioc(["check", manyErrors(150), "--format", "json"]).stdout);
    expect(json.errors).toBe(150);
    expect(json.diagnostics).toHaveLength(150);
  });

  it("rejects an unknown --format", () => {
    const r = mioc(["check", "pipelines/seq_prompt.mio", "--format", "xml"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown --format 'xml'");
  });

  it("turns a missing file into exit code 2 without a stack trace", () => {
    const r = mioc(["check", "pipelines/no_such.mio"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("mioc: error: no such file: pipelines/no_such.mio\n");
  });

  it("names a profile that does not exist, with the ones that do", () => {
    const r = mioc(["check", "pipelines/seq_prompt.mio", "--profile", "nope"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("mioc: error: experiment 'seq_prompt' has no profile 'nope' (its profiles: quick)\n");
  });
});

describe("mioc check reads nothing it shouldn't", () => {
  // proj/ is the project (it holds a package.json); outside.mio and secret.env lie above it.
  const proj = join(dir, "proj");
  mkdirSync(proj);
  writeFileSync(join(proj, "package.json"), "{}");
  writeFileSync(join(dir, "outside.mio"), "SECRET-TOKEN = 1\n");
  writeFileSync(join(dir, "secret.env"), "SECRET-TOKEN = 1\n");
  writeFileSync(join(proj, "notes.txt"), "SECRET-TOKEN = 1\n");
  symlinkSync("../outside.mio", join(proj, "link.mio"));
  writeFileSync(join(proj, "big.mio"), "");
  truncateSync(join(proj, "big.mio"), 2 ** 30);
  const checkUse = (name: string, target: string, env: Record<string, string> = {}) => {
    const file = join(proj, `use-${name}.mio`);
    writeFileSync(file, `use stdlib/tasks\nuse "${target}"\n`);
    return mioc(["check", file], env);
  };

  it.each([
    ["passwd", "/etc/passwd", "MIO2011: '/etc/passwd' is not a .mio file"],
    ["environ", "/proc/self/environ", "MIO2011: '/proc/self/environ' is not a .mio file"],
    ["env", "../secret.env", "MIO2011: '../secret.env' is not a .mio file"],
    ["above", "../outside.mio", "MIO2011: '../outside.mio' is outside the project"],
    ["link", "./link.mio", "MIO2011: './link.mio' is a link to "],
    ["notes", "./notes.txt", "MIO2011: './notes.txt' is not a .mio file"],
    ["big", "./big.mio", "MIO2012: './big.mio' is larger than 4 MiB"],
  ])("use-%s.mio using %s: exit code 2 at the use, nothing of the file shown", (name, target, message) => {
    const t0 = performance.now();
    const r = checkUse(name, target);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`use-${name}.mio:2:1 error ${message}`);
    expect(r.stderr).toContain(`2 | use "${target}"`);
    expect(r.stderr).toMatch(/\n\s+\| \^+ /);
    expect(r.stderr).not.toMatch(/SECRET|root:|PATH=/);
    expect(r.stderr).not.toMatch(noStack);
    expect(performance.now() - t0).toBeLessThan(10_000);
  });

  it("MIO_ALLOW_ROOTS lets a quoted use load from another folder", () => {
    const shared = join(dir, "shared");
    mkdirSync(shared);
    writeFileSync(join(shared, "b.mio"), "block Id()(x) { return x }\n");
    expect(checkUse("allowed", "../shared/b.mio").code).toBe(2);
    const r = checkUse("allowed", "../shared/b.mio", { MIO_ALLOW_ROOTS: shared });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  it('data { train "/" } is exit code 2 at the path', () => {
    const file = join(proj, "root-data.mio");
    writeFileSync(
      file,
      [
        "use stdlib/tasks",
        "use stdlib/backbones/srresnet",
        "experiment e {",
        "  model SRResNet(feat: 8, blocks: 2)",
        '  data { train "/" }',
        "  curriculum mixed { tasks sr; iters 10 }",
        "}",
        "",
      ].join("\n"),
    );
    const r = mioc(["check", file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('root-data.mio:5:16 error MIO2013: data.train is the filesystem root ("/")');
    expect(r.stderr).not.toMatch(noStack);
  });

  it("a 1 GB file named on the command line is a usage error, not read", () => {
    const r = mioc(["check", join(proj, "big.mio")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^mioc: error: .*big.mio is larger than 4 MiB, too large for a .mio module\n/);
  });
});

describe("mioc compile", () => {
  it("--emit spec prints a schema-valid spec with seven stages, and the run id on stderr", () => {
    const r = mioc(["compile", "pipelines/seq_prompt.mio", "--emit", "spec"]);
    expect(r.code, r.stderr).toBe(0);
    const spec = JSON.parse(r.stdout);
    expect(validateSpec(spec)).toEqual([]);
    expect(spec.name).toBe("seq_prompt");
    expect(spec.curriculum.stages).toHaveLength(7);
    expect(r.stderr).toMatch(/^run id seq_prompt-[0-9a-f]{12}\n$/);
  });

  it("--emit spec --profile quick applies the profile", () => {
    const r = mioc(["compile", "pipelines/seq_prompt.mio", "--emit", "spec", "--profile", "quick"]);
    expect(r.code, r.stderr).toBe(0);
    const spec = JSON.parse(r.stdout);
    expect(spec.profile).toBe("quick");
    expect(spec.model.args).toMatchObject({ feat: 16, blocks: 4 });
  });

  it("--emit ast prints the AST without spans", () => {
    const r = mioc(["compile", "stdlib/blocks.mio", "--emit", "ast"]);
    expect(r.code, r.stderr).toBe(0);
    const ast = JSON.parse(r.stdout);
    expect(ast.decls[0]).toMatchObject({ kind: "block", name: { text: "ResBlock" } });
    expect(r.stdout).not.toContain('"span"');
  });

  it("--profile nope is exit code 2 with a clear message", () => {
    const r = mioc(["compile", "pipelines/seq_prompt.mio", "--emit", "spec", "--profile", "nope"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("mioc: error: experiment 'seq_prompt' has no profile 'nope' (its profiles: quick)\n");
    expect(r.stdout).toBe("");
  });

  it("--experiment names an experiment the file does not have: exit 2 with the ones it has", () => {
    const r = mioc(["compile", "pipelines/seq_prompt.mio", "--emit", "spec", "--experiment", "nope"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("mioc: error: no experiment 'nope' in pipelines/seq_prompt.mio\nexperiments: seq_prompt\n");
  });

  it("--emit wgsl compiles for --max-bindings storage buffers per kernel (more bindings, more fusion)", () => {
    const wgsl = (n: string) => {
      const r = mioc([
        "compile",
        "pipelines/seq_prompt.mio",
        "--emit",
        "wgsl",
        "--profile",
        "quick",
        "--max-bindings",
        n,
      ]);
      expect(r.code, r.stderr).toBe(0);
      const m = /^\/\/ (\d+) dispatches, \d+ distinct kernels for (\d+) storage buffers per kernel/.exec(r.stdout);
      return { dispatches: Number(m?.[1]), bindings: Number(m?.[2]) };
    };
    const [portable, lavapipe] = [wgsl("8"), wgsl("16")];
    expect([portable.bindings, lavapipe.bindings]).toEqual([8, 16]);
    expect(lavapipe.dispatches).toBeLessThan(portable.dispatches);
    expect(mioc(["compile", "pipelines/seq_prompt.mio", "--emit", "wgsl", "--max-bindings", "x"]).code).toBe(2);
  });

  it("a missing file is exit code 2 without a stack trace", () => {
    const r = mioc(["compile", "nope.mio", "--emit", "spec"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("mioc: error: no such file: nope.mio\n");
    expect(r.stderr).not.toMatch(noStack);
  });

  it("an invalid file is exit code 2 with its diagnostics and no spec", () => {
    const r = mioc(["compile", misspelled, "--emit", "spec"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("did you mean 'noise'?");
  });

  it("--emit ir of an experiment with layers that have no kernels is exit code 2 at their calls, not a stack", () => {
    const r = mioc(["compile", gated, "--emit", "ir"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(
      `${gateLibrary}:2:31 error MIO6001: layer 'sigmoid' is declared but cannot be compiled yet\n`,
    );
    expect(r.stderr).toContain(`  note: ${gated}:5:9: the experiment compiles 'Gate' here`);
    expect(r.stderr).not.toMatch(noStack);
  });

  it("--emit wgsl of a SwinIR experiment prints its kernels: batched attention GEMMs, row softmax, erf", () => {
    const r = mioc(["compile", swinir, "--emit", "wgsl"]);
    expect(r.stderr).toMatch(/^run id swin-[0-9a-f]+\n$/);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("var<private> bz: i32;");
    expect(r.stdout).toMatch(/for \(var c4 = 0; c4 < 16; c4\+\+\)/); // softmax over a 4×4 window's 16 tokens
    expect(r.stdout).toContain("fn erf32(x: f32) -> f32");
  });

  it("--emit wgsl of the paper's PromptIR-M prints its train step's kernels and their buffers", async () => {
    // 1.6 MB of WGSL: more than spawnSync's buffer.
    const r = await miocAsync(["compile", "pipelines/promptir_m.mio", "--emit", "wgsl"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^\/\/ \d+ dispatches, \d+ distinct kernels for 8 storage buffers per kernel; buffers /);
    expect(r.stdout).toContain("@compute");
  });

  it("--emit wgsl of the paper's SwinIR-S+EP: its kernels for 16 bindings, and for 8 (fusion counts split bindings)", () => {
    const file = "pipelines/swinir_s_ep.mio";
    const at16 = mioc(["compile", file, "--emit", "wgsl", "--max-bindings", "16"]);
    expect(at16.code, at16.stderr).toBe(0);
    expect(at16.stdout).toMatch(/^\/\/ \d+ dispatches, \d+ distinct kernels for 16 storage buffers per kernel/);
    // Its 270 MiB qkv gradient takes 3 bindings once split: a kernel fusing the three embeds into it used to need 10.
    const at8 = mioc(["compile", file, "--emit", "wgsl"]);
    expect(at8.code, at8.stderr).toBe(0);
    expect(at8.stdout).toMatch(/^\/\/ \d+ dispatches, \d+ distinct kernels for 8 storage buffers per kernel/);
    const slots = [...at8.stdout.matchAll(/@binding\((\d+)\)/g)].map((m) => Number(m[1]));
    expect(Math.max(...slots)).toBe(7);
    expect(mioc(["compile", file, "--emit", "wgsl", "--profile", "quick"]).code).toBe(0);
  }, 120_000);

  it.each([
    ["Restormer-S+EP", "pipelines/restormer_s_ep.mio"],
    ["Uformer-S+AP", "pipelines/uformer_s_ap.mio"],
  ])(
    "--emit wgsl of the paper's %s and of its quick profile: kernels for 8 bindings",
    async (_, file) => {
      for (const args of [[], ["--profile", "quick"]]) {
        // Over 1 MB of WGSL each: more than spawnSync's default buffer, so the streaming runner.
        const r = await miocAsync(["compile", file, "--emit", "wgsl", ...args]);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toMatch(/^\/\/ \d+ dispatches, \d+ distinct kernels for 8 storage buffers per kernel/);
        expect(r.stdout).toContain("// kernel ");
      }
    },
    300_000,
  );

  it("an unknown --emit lists the stages", () => {
    const r = mioc(["compile", "pipelines/seq_prompt.mio", "--emit", "pdf"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown --emit 'pdf'\none of: ast, spec/);
  });
});
