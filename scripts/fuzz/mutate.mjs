// The fuzz campaign's mutation engine (npm run fuzz; docs/language.md, "Testing the front end"): mutant `index` of
// campaign `seed` is one of the experiment files (pipelines/, tests/fixtures/e2e/) with 1 to 3 edits, or one of the
// stdlib modules it uses edited the same way. The edits are semantic (numbers at their extremes, names and argument
// labels taken from other scopes, settings moved between blocks, lines deleted or duplicated, strings swapped) and
// syntactic (characters and tokens deleted, duplicated, swapped; punctuation inserted). A mutant depends only on
// (seed, index) and the sources, so a failure replays from those two numbers.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { mioLexer } from "../../dist/grammar/tokens.js";

export const repoRoot = join(fileURLToPath(import.meta.url), "..", "..", "..");

function mioFiles(dir) {
  return readdirSync(dir)
    .flatMap((e) => {
      const full = join(dir, e);
      if (statSync(full).isDirectory()) return mioFiles(full);
      return e.endsWith(".mio") ? [full] : [];
    })
    .sort();
}

/** mulberry32 over an FNV-1a hash of the key: a small, fast PRNG whose stream depends only on the key. */
export function rng(key) {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  let a = h >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (xs) => xs[Math.floor(next() * xs.length)],
  };
}

// Numbers at their extremes: zero and signs, the ends of float64, past 2^53 and 2^32, the k/M suffixes, and texts a
// number might be mistaken for.
const NUMBERS = [
  "0",
  "-0",
  "1",
  "2",
  "3",
  "-1",
  "-2",
  "0.5",
  "-0.5",
  "0.0",
  "1e300",
  "-1e300",
  "1e-300",
  "1e309",
  "1e-400",
  "4294967296",
  "2147483648",
  "9007199254740992",
  "9007199254740993",
  "18446744073709551616",
  "99999999999999999999999999",
  "65536",
  "1000000",
  "1e6",
  "1M",
  "999M",
  "1k",
  "0k",
  "1e-7",
  "3.5",
  "NaN",
  "Infinity",
  "-Infinity",
  "1e",
  "0x10",
  "007",
];
const STRINGS = ['""', '"x"', '"../../../etc/passwd"', '"\\u0000"', '"é"', `"${"a".repeat(300)}"`, '"data/train"'];
const PUNCTUATION = ["(", ")", "{", "}", "[", "]", ",", ":", ";", "|>", "->", "..", ".", "=", "+", "-", "*", "/", "%"];
const ODDITIES = ["\n", "\t", "\\u", "\\", '"', "'", "#", "@", "é", "//", "/*"];
const WORDS = ["site", "for", "task", "1e", "0", "k", "-1", "1M", "use", "return", "in", "true", "false"];

/** Tokens of a text (lexing errors are dropped: the lexer goes on after them). */
const tokensOf = (text) => mioLexer.tokenize(text).tokens;
const tokenEnd = (t) => (t.endOffset ?? t.startOffset) + 1;

/**
 * Names by the scope they come from, over every .mio file: declared names (tasks, blocks, backbones, experiments),
 * backbone and block parameters, labels before a colon (layer names and argument labels), setting keys (a line's
 * first word inside braces), and every identifier.
 */
function vocabulary(texts) {
  const v = {
    tasks: new Set(),
    decls: new Set(),
    params: new Set(),
    labels: new Set(),
    keys: new Set(),
    all: new Set(),
  };
  for (const text of texts) {
    const ts = tokensOf(text);
    let depth = 0;
    let paramsDepth = -1;
    let parens = 0;
    let lastLine = -1;
    for (let i = 0; i < ts.length; i++) {
      const t = ts[i];
      const prev = ts[i - 1];
      const next = ts[i + 1];
      const kind = t.tokenType.name;
      if (kind === "LBrace") depth++;
      if (kind === "RBrace") depth--;
      if (kind === "LParen") parens++;
      if (kind === "RParen") {
        parens--;
        if (parens === paramsDepth) paramsDepth = -1;
      }
      if (kind !== "Identifier") continue;
      v.all.add(t.image);
      const before = prev?.image;
      if (before === "task") v.tasks.add(t.image);
      if (before === "task" || before === "block" || before === "backbone" || before === "experiment")
        v.decls.add(t.image);
      if ((before === "block" || before === "backbone") && next?.image === "(") paramsDepth = parens;
      if (next?.image === ":") (paramsDepth >= 0 && parens === paramsDepth + 1 ? v.params : v.labels).add(t.image);
      if (depth > 0 && t.startLine !== lastLine && parens === 0) v.keys.add(t.image);
      lastLine = t.startLine ?? lastLine;
    }
  }
  return Object.fromEntries(Object.entries(v).map(([k, s]) => [k, [...s].sort()]));
}

/** The stdlib modules a file uses (`use stdlib/x` lines), as paths relative to the repository. */
function stdlibUses(text) {
  return [...text.matchAll(/^\s*use\s+(stdlib\/[\w/]+)/gm)].map((m) => `${m[1]}.mio`);
}

/** Loads the corpus: the files that mutants start from and the names the semantic edits draw on. */
export function loadCorpus(root = repoRoot) {
  const targets = [...mioFiles(join(root, "pipelines")), ...mioFiles(join(root, "tests", "fixtures", "e2e"))];
  const stdlib = mioFiles(join(root, "stdlib"));
  const sources = new Map([...targets, ...stdlib].map((f) => [relative(root, f), readFileSync(f, "utf8")]));
  // A stdlib module's own uses count too: a pipeline that uses srresnet also loads blocks.
  const closure = (rel) => {
    const seen = new Set();
    const visit = (r) => {
      for (const u of stdlibUses(sources.get(r) ?? ""))
        if (!seen.has(u) && sources.has(u)) {
          seen.add(u);
          visit(u);
        }
    };
    visit(rel);
    return [...seen].sort();
  };
  const targetRels = targets.map((f) => relative(root, f));
  return {
    root,
    targets: targetRels,
    uses: new Map(targetRels.map((r) => [r, closure(r)])),
    sources,
    vocab: vocabulary([...sources.values()]),
  };
}

/** Lines with their block: the header word of the innermost `{` open around it (comments stripped). */
function blockLines(text) {
  const lines = text.split("\n");
  const stack = [];
  const out = [];
  lines.forEach((line, i) => {
    const code = line.replace(/\/\/.*$/, "");
    const opens = (code.match(/\{/g) ?? []).length;
    const closes = (code.match(/\}/g) ?? []).length;
    const top = stack[stack.length - 1];
    if (opens === 0 && closes === 0 && code.trim() && top) out.push({ i, kind: "setting", block: top });
    if (opens > closes) {
      const header = { i, word: code.trim().split(/[\s({]/)[0] ?? "", depth: stack.length };
      out.push({ i, kind: "header", block: header });
      stack.push(header);
    }
    for (let k = opens; k < closes; k++) stack.pop();
  });
  return { lines, out };
}

const at = (text, offset) => {
  const before = text.slice(0, offset).split("\n");
  return `${before.length}:${(before[before.length - 1]?.length ?? 0) + 1}`;
};

/** A mutation: returns the new text and a one-line description, or undefined where it does not apply. */
const MUTATIONS = {
  number(text, r) {
    const ns = tokensOf(text).filter((t) => t.tokenType.name === "NumberLiteral");
    if (!ns.length) return undefined;
    const t = r.pick(ns);
    const to = r.pick(NUMBERS);
    return {
      text: text.slice(0, t.startOffset) + to + text.slice(tokenEnd(t)),
      what: `number ${at(text, t.startOffset)} ${t.image} -> ${to}`,
    };
  },
  name(text, r, vocab) {
    const ids = tokensOf(text).filter((t) => t.tokenType.name === "Identifier");
    if (!ids.length) return undefined;
    const t = r.pick(ids);
    const scope = r.pick(["tasks", "decls", "params", "labels", "keys", "all"]);
    const to = r.pick(vocab[scope]);
    if (!to || to === t.image) return undefined;
    return {
      text: text.slice(0, t.startOffset) + to + text.slice(tokenEnd(t)),
      what: `name ${at(text, t.startOffset)} ${t.image} -> ${to} (from ${scope})`,
    };
  },
  label(text, r, vocab) {
    // An argument label or layer name (an identifier before `:`) replaced by another backbone's parameter or label.
    const ts = tokensOf(text);
    const ls = ts.filter((t, i) => t.tokenType.name === "Identifier" && ts[i + 1]?.image === ":");
    if (!ls.length) return undefined;
    const t = r.pick(ls);
    const to = r.pick(r.next() < 0.7 ? vocab.params : vocab.labels);
    if (!to || to === t.image) return undefined;
    return {
      text: text.slice(0, t.startOffset) + to + text.slice(tokenEnd(t)),
      what: `label ${at(text, t.startOffset)} ${t.image} -> ${to}`,
    };
  },
  string(text, r) {
    const ss = tokensOf(text).filter((t) => t.tokenType.name === "StringLiteral");
    if (!ss.length) return undefined;
    const t = r.pick(ss);
    const to = r.next() < 0.5 ? r.pick(STRINGS) : r.pick(ss).image;
    return {
      text: text.slice(0, t.startOffset) + to + text.slice(tokenEnd(t)),
      what: `string ${at(text, t.startOffset)} ${t.image.slice(0, 20)} -> ${to.slice(0, 20)}`,
    };
  },
  moveSetting(text, r) {
    // A setting line of one block moved (or copied) to just inside another block: a `train` key into `data`, a
    // profile's setting into the experiment, a task's `degrade` into `eval`.
    const { lines, out } = blockLines(text);
    const settings = out.filter((l) => l.kind === "setting");
    const headers = out.filter((l) => l.kind === "header");
    if (!settings.length || headers.length < 2) return undefined;
    const s = r.pick(settings);
    const h = r.pick(headers.filter((x) => x.block !== s.block));
    if (!h) return undefined;
    const copy = r.next() < 0.3;
    const moved = lines[s.i];
    const next = lines.flatMap((line, i) => {
      const keep = i === s.i && !copy ? [] : [line];
      return i === h.i ? [...keep, moved] : keep;
    });
    return {
      text: next.join("\n"),
      what: `${copy ? "copySetting" : "moveSetting"} line ${s.i + 1} (${s.block.word}) -> into ${h.block.word} at line ${h.i + 1}: ${moved?.trim()}`,
    };
  },
  deleteLine(text, r) {
    const lines = text.split("\n");
    const i = r.int(lines.length);
    return {
      text: [...lines.slice(0, i), ...lines.slice(i + 1)].join("\n"),
      what: `deleteLine ${i + 1}: ${lines[i]?.trim()}`,
    };
  },
  duplicateLine(text, r) {
    const lines = text.split("\n");
    const i = r.int(lines.length);
    return {
      text: [...lines.slice(0, i + 1), ...lines.slice(i)].join("\n"),
      what: `duplicateLine ${i + 1}: ${lines[i]?.trim()}`,
    };
  },
  // The syntactic edits of tests/compiler/language/fuzz.test.ts.
  chars(text, r) {
    const i = r.int(text.length + 1);
    const len = 1 + r.int(12);
    const op = r.pick(["delete", "duplicate", "swap"]);
    if (op === "delete")
      return { text: text.slice(0, i) + text.slice(i + len), what: `deleteChars ${at(text, i)} ${len}` };
    if (op === "duplicate")
      return {
        text: text.slice(0, i + len) + text.slice(i, i + len) + text.slice(i + len),
        what: `duplicateChars ${at(text, i)} ${len}`,
      };
    const [a, b] = [i, r.int(text.length + 1)].sort((x, y) => x - y);
    const l = Math.min(len, 6);
    if (a + l > b) return undefined;
    return {
      text: text.slice(0, a) + text.slice(b, b + l) + text.slice(a + l, b) + text.slice(a, a + l) + text.slice(b + l),
      what: `swapChars ${at(text, a)} ${at(text, b)} ${l}`,
    };
  },
  token(text, r) {
    const ts = tokensOf(text);
    if (!ts.length) return undefined;
    const t = r.pick(ts);
    const op = r.pick(["delete", "duplicate", "swap"]);
    const [s, e] = [t.startOffset, tokenEnd(t)];
    if (op === "delete")
      return { text: text.slice(0, s) + text.slice(e), what: `deleteToken ${at(text, s)} ${t.image}` };
    if (op === "duplicate")
      return {
        text: `${text.slice(0, e)} ${text.slice(s, e)}${text.slice(e)}`,
        what: `duplicateToken ${at(text, s)} ${t.image}`,
      };
    const u = r.pick(ts);
    if (u === t) return undefined;
    const [f, g] = t.startOffset < u.startOffset ? [t, u] : [u, t];
    const [f0, f1, g0, g1] = [f.startOffset, tokenEnd(f), g.startOffset, tokenEnd(g)];
    return {
      text: text.slice(0, f0) + text.slice(g0, g1) + text.slice(f1, g0) + text.slice(f0, f1) + text.slice(g1),
      what: `swapTokens ${at(text, f0)} ${f.image} <-> ${at(text, g0)} ${g.image}`,
    };
  },
  insert(text, r) {
    const i = r.int(text.length + 1);
    const what = r.pick([...PUNCTUATION, ...ODDITIES, ...WORDS, ...NUMBERS.slice(0, 12)]);
    return { text: text.slice(0, i) + what + text.slice(i), what: `insert ${at(text, i)} ${JSON.stringify(what)}` };
  },
};

/** How often each mutation is drawn: the semantic ones more, since syntax errors stop the checker early. */
const WEIGHTS = [
  ["number", 6],
  ["name", 4],
  ["label", 3],
  ["string", 1],
  ["moveSetting", 4],
  ["deleteLine", 2],
  ["duplicateLine", 2],
  ["chars", 1],
  ["token", 2],
  ["insert", 1],
];
const TOTAL = WEIGHTS.reduce((s, [, w]) => s + w, 0);

function drawMutation(r) {
  let x = r.next() * TOTAL;
  for (const [name, w] of WEIGHTS) {
    x -= w;
    if (x < 0) return name;
  }
  return WEIGHTS[0][0];
}

/**
 * Mutant `index` of campaign `seed`: `{ file, text, stdlib?, mutations }`. `file` is the experiment file that is
 * checked; where `stdlib` is set (`{ path, text }`, a quarter of the mutants) the edits went into that stdlib module
 * instead and `text` is the experiment file unchanged.
 */
export function mutant(corpus, seed, index) {
  const r = rng(`${seed}:${index}`);
  const file = r.pick(corpus.targets);
  const uses = corpus.uses.get(file) ?? [];
  const inStdlib = uses.length > 0 && r.next() < 0.25;
  const edited = inStdlib ? r.pick(uses) : file;
  let text = corpus.sources.get(edited) ?? "";
  const count = 1 + Math.floor(r.next() ** 2 * 3);
  const mutations = [];
  for (let k = 0, tries = 0; k < count && tries < 20; tries++) {
    const name = drawMutation(r);
    const m = MUTATIONS[name](text, r, corpus.vocab);
    if (!m || m.text === text) continue;
    text = m.text;
    mutations.push(inStdlib ? `${edited}: ${m.what}` : m.what);
    k++;
  }
  if (inStdlib) return { file, text: corpus.sources.get(file) ?? "", stdlib: { path: edited, text }, mutations };
  return { file, text, mutations };
}
