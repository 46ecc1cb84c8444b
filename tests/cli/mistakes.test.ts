// Ordinary mistakes end in one clear line and exit 2 (or 1 for a runtime failure), never "internal error" and a
// stack (issue 15): missing, unreadable or folder paths, malformed safetensors, NaN weights, an image too small for
// its degradation, an --out that is a file, and `mioc run` checking its file before it asks for a GPU.
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readSafetensors, writeSafetensors } from "../../runtime/interop/safetensors.js";
import { mioc, root } from "../helpers/cli.js";

const WEIGHTS = join(root, "tests", "fixtures", "infer", "weights_none.safetensors");
const INPUT = join(root, "tests", "fixtures", "infer", "input.png");
const TINY = join(root, "tests", "fixtures", "e2e", "tiny.mio");
/** A Dawn backend that does not exist: any command that asks for a GPU fails with "no WebGPU adapter". */
const NO_GPU = { MIO_BACKEND: "bogus" };

let dir: string;
const at = (name: string) => join(dir, name);
/** Outputs of degrade go outside the source image's folder (an output there would be read back as a source). */
const outDir = mkdtempSync(join(tmpdir(), "mio-mistakes-out-"));
const outAt = (name: string) => join(outDir, name);

/** A safetensors file with this JSON header and no data. */
function header(name: string, h: unknown): string {
  const json = Buffer.from(JSON.stringify(h));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(at(name), Buffer.concat([len, json]));
  return at(name);
}

/** One line on stderr, `mioc: error: ...`, and no stack. */
function expectClean(r: { code: number; stderr: string }, code: number, message: RegExp) {
  expect(r.stderr).not.toMatch(/internal error|^\s+at /m);
  expect(r.stderr).toMatch(message);
  expect(r.code).toBe(code);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "mio-mistakes-"));
  mkdirSync(at("folder"));
  writeFileSync(at("afile"), "x");
  await sharp({ create: { width: 1, height: 1, channels: 3, background: { r: 9, g: 9, b: 9 } } })
    .png()
    .toFile(at("one.png"));
  const { tensors } = await readSafetensors(WEIGHTS);
  const name = Object.keys(tensors).sort()[0] as string;
  (tensors[name] as { data: Float32Array }).data[3] = Number.NaN;
  await writeSafetensors(at("nan.safetensors"), tensors);
  writeFileSync(at("typo.mio"), "use stdlib/tasks\nexperiment x {\n  modle SRResNet(feat: 8)\n}\n");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("malformed safetensors", () => {
  const cases: [string, unknown, RegExp][] = [
    ["array.safetensors", [1, 2], /header is not a JSON object of tensors/],
    ["null.safetensors", null, /header is not a JSON object of tensors/],
    ["noshape.safetensors", { a: { dtype: "F32" } }, /tensor 'a' has no valid shape/],
    ["number.safetensors", { a: 5 }, /tensor 'a' is not a \{dtype, shape, data_offsets\} entry/],
    [
      "negative.safetensors",
      { a: { dtype: "F32", shape: [-1], data_offsets: [0, -4] } },
      /tensor 'a' has no valid shape/,
    ],
    [
      "offsets.safetensors",
      { a: { dtype: "F32", shape: [1], data_offsets: "x" } },
      /tensor 'a' has no valid data_offsets/,
    ],
  ];
  for (const [name, h, message] of cases) {
    it(`infer --weights ${name}: exit 2, naming the file`, () => {
      const file = header(name, h);
      const r = mioc(["infer", "--weights", file, INPUT, "-o", at("o.png")], NO_GPU);
      expectClean(r, 2, new RegExp(`mioc: error: ${file} is not a valid safetensors file: ${message.source}`));
    });
  }
  it("a header length past the end is exit 2 (the user's file, not a runtime failure)", () => {
    const b = Buffer.alloc(16);
    b.writeBigUInt64LE(0xffffffffffffn);
    writeFileSync(at("huge.safetensors"), b);
    const r = mioc(["eval", TINY, "--weights", at("huge.safetensors")], NO_GPU);
    expectClean(r, 2, /huge.safetensors is not a valid safetensors file: header length 281474976710655 runs past/);
  });
});

describe("--prompt-map and --weights paths", () => {
  it("a missing --prompt-map", () =>
    expectClean(
      mioc(["infer", "--weights", WEIGHTS, INPUT, "-o", at("o.png"), "--prompt-map", at("nope.safetensors")], NO_GPU),
      2,
      /mioc: error: cannot read '.*nope.safetensors': no such file/,
    ));
  it("a folder as --prompt-map", () =>
    expectClean(
      mioc(["infer", "--weights", WEIGHTS, INPUT, "-o", at("o.png"), "--prompt-map", at("folder")], NO_GPU),
      2,
      /mioc: error: cannot read '.*folder': it is a folder, not a file/,
    ));
  it.skipIf(process.getuid?.() === 0)("an unreadable --weights and .mio (root reads anything)", () => {
    writeFileSync(at("locked.safetensors"), "x");
    writeFileSync(at("locked.mio"), "use stdlib/tasks\n");
    chmodSync(at("locked.safetensors"), 0);
    chmodSync(at("locked.mio"), 0);
    expectClean(
      mioc(["eval", TINY, "--weights", at("locked.safetensors")], NO_GPU),
      2,
      /cannot read '.*locked.safetensors': permission denied/,
    );
    expectClean(mioc(["check", at("locked.mio")]), 2, /cannot read '.*locked.mio': permission denied/);
  });
});

describe("weights that are not finite", () => {
  it("infer refuses NaN weights, naming the tensor, before asking for a GPU", () => {
    const r = mioc(["infer", "--weights", at("nan.safetensors"), INPUT, "-o", at("o.png")], NO_GPU);
    expectClean(
      r,
      2,
      /mioc: error: '[\w.]+' in .*nan.safetensors holds NaN \(at index 3\): the weights are not finite/,
    );
  });
});

describe("mioc run", () => {
  it("checks the file before it asks for a GPU: a typo is a diagnostic and exit 2 without an adapter", () => {
    const r = mioc(["run", at("typo.mio"), "--out", at("runs")], NO_GPU);
    expect(r.stderr).toMatch(/typo.mio:3:3 error MIO2007: unknown setting 'modle'/);
    expect(r.stderr).not.toMatch(/no WebGPU adapter/);
    expect(r.code).toBe(2);
  });
  it("an --out that is a file", () =>
    expectClean(mioc(["run", TINY, "--out", at("afile")], NO_GPU), 2, /mioc: error: --out '.*afile' is a file/));
  it("infer -o into a folder that does not exist", () =>
    expectClean(
      mioc(["infer", "--weights", WEIGHTS, INPUT, "-o", at("nodir/o.png")], NO_GPU),
      2,
      /mioc: error: cannot write '.*nodir\/o.png': the folder '.*nodir' does not exist/,
    ));
  it("degrade and testsets build into an OUT that is a file", () => {
    writeFileSync(outAt("outfile"), "x");
    expectClean(
      mioc(["degrade", "--task", "noise", at("one.png"), outAt("outfile")]),
      2,
      /output '.*outfile' exists and is not a folder/,
    );
    expectClean(
      mioc(["testsets", "build", join(root, "tests/fixtures/e2e/test"), outAt("outfile")]),
      2,
      /output '.*outfile' exists and is not a folder/,
    );
  });
});

describe("a run too large for the adapter (issue 15)", () => {
  it("is refused before anything is allocated or trained: exit 2, naming the kernel and what to lower", () => {
    // Checks clean (no tensor passes 2^31 values), but one 4 GiB activation needs 32+ bindings of lavapipe's 128 MiB.
    writeFileSync(
      at("big.mio"),
      [
        "use stdlib/tasks",
        "use stdlib/backbones/srresnet",
        "experiment big {",
        "  model SRResNet(feat: 64, blocks: 2)",
        '  data { train "tests/fixtures/e2e/train"; test "tests/fixtures/e2e/test"; crop 2048; batch 4; workers 0 }',
        "  curriculum mixed { tasks noise; iters 10 }",
        "}",
      ].join("\n"),
    );
    const r = mioc(["run", at("big.mio"), "--out", at("bigruns")]);
    expectClean(
      r,
      2,
      /mioc: error: training on batches of 4 crops of 2048×2048 (does not fit this adapter: kernel \w+ needs \d+ storage buffers|needs a [\d.]+ GiB buffer)/,
    );
    expect(r.stderr).toMatch(/lower data \{ crop \} or data \{ batch \}/);
    // The test sets are built (and cached in .testsets) before the plans are checked; no run folder is made.
    expect(readdirSync(at("bigruns")).filter((d) => !d.startsWith("."))).toEqual([]);
  });
});

describe("an image too small for its degradation", () => {
  it("degrade --task sr of a 1x1 image", () =>
    expectClean(
      mioc(["degrade", "--task", "sr", at("one.png"), outAt("degraded")]),
      2,
      /mioc: error: a 1x1 image is too small for bicubic_down_up at scale 4/,
    ));
});
