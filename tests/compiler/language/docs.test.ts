// docs/language.md stays true: every ```mio example checks, every fragment parses, every error example gives its
// code, the builtin layers table (and which of them compile) matches compiler/check/builtins.ts, and every
// diagnostic code is documented.
//
//   ```mio                  a complete file: checks with no diagnostic at all (as if it were docs/example.mio)
//   ```mio fragment         a piece: parses with no syntax error as written, or inside a block, an experiment
//                           or a task (the first wrapper that fits)
//   ```mio error MIO3001    a complete file whose first diagnostic has this code
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type Builtin, builtins } from "../../../compiler/check/builtins.js";
import { checkFile } from "../../../compiler/compile.js";
import { codes } from "../../../grammar/diagnostics.js";
import { parseMio } from "../../../grammar/parse.js";
import { repoRoot } from "./helpers.js";

const doc = readFileSync(join(repoRoot, "docs", "language.md"), "utf8");
/** The page with runs of spaces collapsed, for the tables: `biome format` pads their cells. */
const tables = doc.replace(/ {2,}/g, " ");

interface Example {
  info: string;
  text: string;
  line: number;
}

const examples: Example[] = [...doc.matchAll(/^```mio([^\n]*)\n([\s\S]*?)^```$/gm)].map((m) => ({
  info: (m[1] ?? "").trim(),
  text: m[2] ?? "",
  line: doc.slice(0, m.index).split("\n").length,
}));

const wrappers: ((text: string) => string)[] = [
  (t) => t,
  (t) => `block Example(c: int)(x) {\n${t}\n}`,
  (t) => `experiment example {\n${t}\n}`,
  (t) => `task example {\n${t}\n}`,
];

const checkAsDocsFile = (text: string) => checkFile(join(repoRoot, "docs", "example.mio"), { text });
const show = (ds: { code: string; span: { start: { line: number; col: number } }; message: string }[]) =>
  ds.map((d) => `${d.code} ${d.span.start.line}:${d.span.start.col} ${d.message}`);

describe("docs/language.md examples", () => {
  it("has examples of each kind", () => {
    const kinds = new Set(examples.map((e) => e.info.split(" ")[0] ?? ""));
    expect([...kinds].sort()).toEqual(["", "error", "fragment"]);
    expect(examples.filter((e) => e.info === "").length).toBeGreaterThanOrEqual(5);
  });

  it.each(examples.filter((e) => e.info === "").map((e) => [e.line, e] as const))(
    "the example at line %i checks without a diagnostic",
    (_, e) => expect(show(checkAsDocsFile(e.text).diagnostics)).toEqual([]),
  );

  it.each(examples.filter((e) => e.info === "fragment").map((e) => [e.line, e] as const))(
    "the fragment at line %i parses",
    (_, e) => {
      const attempts = wrappers.map((w) => parseMio(w(e.text), "fragment.mio").diagnostics);
      const ok = attempts.find((ds) => ds.length === 0);
      expect(ok, show(attempts[0] ?? []).join("\n")).toBeDefined();
    },
  );

  it.each(examples.filter((e) => e.info.startsWith("error")).map((e) => [e.line, e] as const))(
    "the error example at line %i gives its code",
    (_, e) => {
      const code = e.info.split(" ")[1];
      expect(code).toMatch(/^MIO\d{4}$/);
      expect(show(checkAsDocsFile(e.text).diagnostics)[0]?.split(" ")[0]).toBe(code);
    },
  );
});

/** The table rows as docs/language.md lists them, generated the same way from the builtins table. */
function builtinRow(name: string, b: Builtin): string {
  const params = b.params
    .map((p) => `${p.name}: ${p.type}${p.default === undefined ? "" : ` = ${JSON.stringify(p.default)}`}`)
    .join(", ");
  let weights = "—";
  if (b.weights) {
    // Sample arguments for the required parameters; the suffixes do not depend on their values.
    const a: Record<string, number | boolean | string> = {};
    for (const p of b.params) a[p.name] = p.default ?? (p.type === "bool" ? true : p.type === "string" ? "x" : 2);
    weights = b
      .weights(a, [{ kind: "map", c: 8, down: 1 }])
      .map(([n]) => n)
      .join(", ");
  }
  return `| \`${name}\` | ${params || "—"} | ${weights} | ${b.doc.replace(/\|/g, "\\|")} |`;
}

describe("docs/language.md reference tables", () => {
  it("lists every builtin layer with its parameters, defaults and weights, in the table's order", () => {
    const start = tables.indexOf("| layer | parameters | weights | what it does |");
    expect(start).toBeGreaterThan(0);
    const rows = tables
      .slice(start)
      .split("\n")
      .slice(2)
      .filter((_, i, all) => all.slice(0, i + 1).every((l) => l.startsWith("|")));
    expect(rows).toEqual(Object.entries(builtins).map(([name, b]) => builtinRow(name, b)));
  });

  it("states every layer parameter's minimum", () => {
    const byMin = new Map<number, Set<string>>();
    for (const b of Object.values(builtins))
      for (const p of b.params) if (p.min !== undefined) byMin.set(p.min, (byMin.get(p.min) ?? new Set()).add(p.name));
    const stated = new Map(
      [...doc.replace(/\s+/g, " ").matchAll(/At least (-?\d+): ((?:`\w+`(?:, )?)+)/g)].map((m) => [
        Number(m[1]),
        new Set([...(m[2] ?? "").matchAll(/`(\w+)`/g)].map((x) => x[1])),
      ]),
    );
    expect(stated).toEqual(byMin);
  });

  it("states every layer parameter's maximum", () => {
    const byMax = new Map<number, Set<string>>();
    for (const b of Object.values(builtins))
      for (const p of b.params) if (p.max !== undefined) byMax.set(p.max, (byMax.get(p.max) ?? new Set()).add(p.name));
    const stated = new Map(
      [...doc.replace(/\s+/g, " ").matchAll(/at most (\d+)(?: \([^)]*\))?: ((?:`\w+`(?:, )?)+)/gi)].map((m) => [
        Number(m[1]),
        new Set([...(m[2] ?? "").matchAll(/`(\w+)`/g)].map((x) => x[1])),
      ]),
    );
    expect(stated).toEqual(byMax);
  });

  it("names exactly the layers that compile", () => {
    const sentence = doc.replace(/\s+/g, " ").match(/kernels for ((?:`\w+`(?:, )?)+) only/);
    const named = [...(sentence?.[1] ?? "").matchAll(/`(\w+)`/g)].map((m) => m[1]);
    expect(named).toEqual(Object.keys(builtins).filter((n) => builtins[n]?.lower));
  });

  it("documents every diagnostic code", () => {
    for (const code of Object.values(codes)) expect(tables).toMatch(new RegExp(`^\\| ${code} \\|`, "m"));
  });

  it("documents every degradation with its parameters and their limits", async () => {
    const { DEGRADATION_LIMITS, DEGRADATION_PARAMS, describeLimit } = await import("../../../compiler/schema/task.js");
    for (const [fn, params] of Object.entries(DEGRADATION_PARAMS)) {
      const limits = Object.entries(DEGRADATION_LIMITS[fn as keyof typeof DEGRADATION_LIMITS])
        .map(([k, l]) => `${k}: ${describeLimit(l)}`)
        .join("; ");
      expect(tables).toContain(`| \`${fn}\` | ${params.join(", ")} | ${limits} |`);
    }
  });

  it("states the section defaults the resolver uses", async () => {
    const { DATA_DEFAULTS, EVAL_DEFAULTS, TRAIN_DEFAULTS } = await import("../../../compiler/resolve/sections.js");
    const row = (setting: string, def: string) =>
      expect(tables).toMatch(new RegExp(`\\| \`${setting}[^|]*\\| ${def} \\|`));
    row("crop N", String(DATA_DEFAULTS.crop));
    row("batch N", String(DATA_DEFAULTS.batch));
    row("workers N", String(DATA_DEFAULTS.workers));
    row("ema D", String(TRAIN_DEFAULTS.ema));
    row("checkpoint_every N", String(TRAIN_DEFAULTS.checkpoint_every));
    row("log_every N", String(TRAIN_DEFAULTS.log_every));
    row("weights raw \\\\\\| ema", EVAL_DEFAULTS.weights);
    const { lr, betas, eps, weight_decay } = TRAIN_DEFAULTS.optimizer;
    expect(tables).toContain(
      `\`adam(lr: 2e-4, betas: [${betas.join(", ")}], eps: 1e-8, weight_decay: ${weight_decay})\``,
    );
    expect([lr, eps]).toEqual([2e-4, 1e-8]);
    expect(tables).toContain(`\`cosine_restarts(eta_min: 1e-7)\``);
    expect(TRAIN_DEFAULTS.schedule.eta_min).toBe(1e-7);
    expect(tables).toContain(`| \`tile N\` / \`overlap N\` | ${EVAL_DEFAULTS.tile} / ${EVAL_DEFAULTS.overlap} |`);
    row("center_crop N", String(EVAL_DEFAULTS.center_crop));
    row("max_images N", String(EVAL_DEFAULTS.max_images));
  });
});
