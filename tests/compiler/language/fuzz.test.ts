// Fuzzing the front end: random edits of the real pipelines and stdlib (characters and tokens deleted, duplicated
// or swapped, punctuation inserted) must never make `checkFile` throw, every diagnostic must point inside its file
// and render, and none may be MIO5001 (a resolved spec that fails the schema). A failure prints fast-check's seed
// and the shrunk edit list, so it replays exactly.
// A second part runs a short campaign of scripts/fuzz (what `npm run fuzz` runs long): semantic mutations of the
// experiment files and their stdlib modules, each checked in a worker process with a 10 s limit, and every mutant
// that checks clean lowered and compiled. It runs the built dist/ (npm test builds first).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkFile } from "../../../compiler/compile.js";
import { mioLexer } from "../../../grammar/tokens.js";
import { runCampaign, signature } from "../../../scripts/fuzz/campaign.mjs";
import { badDiagnostic } from "../../../scripts/fuzz/worker.mjs";
import { repoRoot } from "./helpers.js";

function mioFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const full = join(dir, e);
    if (statSync(full).isDirectory()) return mioFiles(full);
    return e.endsWith(".mio") ? [full] : [];
  });
}

const files = [...mioFiles(join(repoRoot, "pipelines")), ...mioFiles(join(repoRoot, "stdlib"))].sort();
const sources = new Map(files.map((f) => [f, readFileSync(f, "utf8")]));

const punctuation = ["(", ")", "{", "}", "[", "]", ",", ":", ";", "|>", "->", "..", ".", "=", "+", "-", "*", "/", "%"];
const oddities = ["\n", "\t", "\\u", "\\", '"', "'", "#", "@", "é", "//", "/*"];
const words = ["site", "for", "task", "1e", "0", "k", "-1", "1M"];

/** One edit, at relative positions (0..1) so that it applies to any text. */
type Edit =
  | { op: "deleteChars" | "duplicateChars"; at: number; len: number }
  | { op: "swapChars"; at: number; other: number; len: number }
  | { op: "deleteToken" | "duplicateToken"; at: number }
  | { op: "swapTokens"; at: number; other: number }
  | { op: "insert"; at: number; text: string };

const position = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });
const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({
    op: fc.constantFrom("deleteChars", "duplicateChars"),
    at: position,
    len: fc.integer({ min: 1, max: 12 }),
  }),
  fc.record({ op: fc.constant("swapChars"), at: position, other: position, len: fc.integer({ min: 1, max: 6 }) }),
  fc.record({ op: fc.constantFrom("deleteToken", "duplicateToken"), at: position }),
  fc.record({ op: fc.constant("swapTokens"), at: position, other: position }),
  fc.record({ op: fc.constant("insert"), at: position, text: fc.constantFrom(...punctuation, ...oddities, ...words) }),
) as fc.Arbitrary<Edit>;

/**
 * Which file to edit. A pipeline checks its experiment once per profile and loads four stdlib modules (about 20 ms a
 * case), so the smaller stdlib files are drawn more often to keep the run near 20 s.
 */
const file = fc.oneof(
  ...files.map((f) => {
    const rel = relative(repoRoot, f);
    const weight =
      rel.startsWith("pipelines/") || rel.endsWith("promptir.mio") ? 1 : /swinir|restormer/.test(rel) ? 2 : 3;
    return { arbitrary: fc.constant(f), weight };
  }),
);

function apply(text: string, e: Edit): string {
  const i = Math.floor(e.at * (text.length + 1));
  switch (e.op) {
    case "deleteChars":
      return text.slice(0, i) + text.slice(i + e.len);
    case "duplicateChars":
      return text.slice(0, i + e.len) + text.slice(i, i + e.len) + text.slice(i + e.len);
    case "insert":
      return text.slice(0, i) + e.text + text.slice(i);
    case "swapChars": {
      const [a, b] = [i, Math.floor(e.other * (text.length + 1))].sort((x, y) => x - y) as [number, number];
      if (a + e.len > b) return text;
      return (
        text.slice(0, a) +
        text.slice(b, b + e.len) +
        text.slice(a + e.len, b) +
        text.slice(a, a + e.len) +
        text.slice(b + e.len)
      );
    }
    default: {
      const tokens = mioLexer.tokenize(text).tokens;
      if (!tokens.length) return text;
      const t = tokens[Math.floor(e.at * tokens.length)];
      if (!t) return text;
      const [s, end] = [t.startOffset, t.endOffset ?? t.startOffset];
      if (e.op === "deleteToken") return text.slice(0, s) + text.slice(end + 1);
      if (e.op === "duplicateToken") return `${text.slice(0, end + 1)} ${text.slice(s, end + 1)}${text.slice(end + 1)}`;
      if (e.op !== "swapTokens") return text;
      const u = tokens[Math.floor(e.other * tokens.length)];
      if (!u || u === t) return text;
      const [first, second] = t.startOffset < u.startOffset ? [t, u] : [u, t];
      const f = [first.startOffset, (first.endOffset ?? first.startOffset) + 1];
      const g = [second.startOffset, (second.endOffset ?? second.startOffset) + 1];
      return (
        text.slice(0, f[0]) +
        text.slice(g[0], g[1]) +
        text.slice(f[1], g[0]) +
        text.slice(f[0], f[1]) +
        text.slice(g[1])
      );
    }
  }
}

/** Checks one mutated source; returns a description of what is wrong, or undefined. */
function problem(file: string, text: string): string | undefined {
  let r: ReturnType<typeof checkFile>;
  try {
    r = checkFile(file, { text });
  } catch (e) {
    return `checkFile threw: ${(e as Error)?.stack ?? e}`;
  }
  for (const d of r.diagnostics) {
    const bad = badDiagnostic(d, r.program.sources);
    if (bad) return bad;
  }
  return undefined;
}

describe("fuzzing the front end", () => {
  it("covers every pipeline and stdlib file", () => {
    const names = files.map((f) => relative(repoRoot, f));
    expect(names).toEqual(
      expect.arrayContaining(["pipelines/seq_prompt.mio", "stdlib/tasks.mio", "stdlib/blocks.mio"]),
    );
    expect(names.length).toBeGreaterThanOrEqual(11);
  });

  it("the unmutated files check without a diagnostic", () => {
    for (const f of files) expect(checkFile(f).diagnostics, f).toEqual([]);
  });

  it("2000 random edits: no exception escapes, every span is inside its file", () => {
    fc.assert(
      fc.property(file, fc.array(edit, { minLength: 1, maxLength: 4 }), (file, edits) => {
        const text = edits.reduce(apply, sources.get(file) as string);
        const p = problem(file, text);
        if (p) throw new Error(`${relative(repoRoot, file)}: ${p}\n--- mutated source ---\n${text}`);
      }),
      { numRuns: 2000, seed: 20261126 },
    );
  }, 120_000);
});

describe("a short fuzz campaign (npm run fuzz runs a long one)", () => {
  it("200 semantic mutants: none throws, hangs past 10 s or crashes its worker, and the clean ones compile", async () => {
    const r = await runCampaign({ n: 200, seed: 20261126, jobs: 2, timeoutMs: 10_000 });
    const report = r.signatures.map(
      (g) =>
        `${g.count}x ${signature(g.example)}\n  replay: npm run fuzz -- --seed ${g.example.seed} --from ${g.example.index} --n 1\n  ${g.example.file}: ${g.example.mutations.join("; ")}`,
    );
    expect(report).toEqual([]);
    expect(r.counts.internal + r.counts.hang + r.counts.crash).toBe(0);
    expect(Object.values(r.counts).reduce((a, b) => a + b, 0)).toBe(200);
    // The second stage is exercised: some mutants check clean and go through lowering and compiling.
    expect(r.counts.compiled).toBeGreaterThan(10);
  }, 120_000);
});
