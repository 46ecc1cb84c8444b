// Text → AST plus diagnostics. Never throws for a user's mistake: lexer and parser errors become MIO1xxx.
import type { IRecognitionException, IToken } from "chevrotain";
import type { MioFile, Pos, Span } from "./ast.js";
import type { FileCstNode } from "./cst.generated.js";
import { closest, codes, type Diagnostic, error } from "./diagnostics.js";
import { parser } from "./parser.js";
import { toAst } from "./to-ast.js";
import { mioLexer } from "./tokens.js";

export interface ParseResult {
  ast: MioFile;
  diagnostics: Diagnostic[];
}

/**
 * How deep brackets and prefix '-' may nest. The parser is recursive descent: far deeper nesting would overflow the
 * stack, so it is reported (MIO1003) before parsing. No real model comes near it.
 */
export const MAX_NESTING = 200;

/**
 * Parses one .mio source.
 * @example const { ast, diagnostics } = parseMio("task sr { title \"SR\" }", "tasks.mio");
 */
export function parseMio(source: string, file: string): ParseResult {
  const diagnostics: Diagnostic[] = [];
  // A UTF-8 byte order mark (some Windows editors write one) is no character of the program. Dropping it keeps the
  // first line's columns as an editor counts them.
  const text = source.charCodeAt(0) === 0xfeff ? source.slice(1) : source;
  const lexed = mioLexer.tokenize(text);
  for (const e of lexed.errors) {
    const start = { line: e.line ?? 1, col: e.column ?? 1, offset: e.offset };
    const span: Span = {
      file,
      start,
      end: { ...start, col: start.col + Math.max(1, e.length), offset: e.offset + e.length },
    };
    const ch = text.slice(e.offset, e.offset + e.length);
    diagnostics.push(
      error(codes.unexpectedCharacter, span, `unexpected character ${JSON.stringify(ch)}`, hintForChar(ch)),
    );
  }
  const deep = tooDeep(lexed.tokens);
  if (deep) {
    diagnostics.push(
      error(
        codes.tooDeep,
        tokenSpan(deep, file),
        `nested more than ${MAX_NESTING} levels deep`,
        "split the expression into several statements",
      ),
    );
    return { ast: { file, decls: [] }, diagnostics };
  }
  parser.input = lexed.tokens;
  try {
    const cst = parser.file() as FileCstNode;
    for (const e of parser.errors) diagnostics.push(syntaxDiagnostic(e, file, lexed.tokens));
    return { ast: toAst(cst, file), diagnostics };
  } catch (e) {
    // Nesting the count above does not see (a long chain of other prefixes): still a diagnostic, not a crash.
    if (!(e instanceof RangeError)) throw e;
    const first = lexed.tokens[0];
    const at = { line: 1, col: 1, offset: 0 };
    const span: Span = first ? tokenSpan(first, file) : { file, start: at, end: { ...at, col: 2, offset: 1 } };
    diagnostics.push(error(codes.tooDeep, span, "the file is nested too deeply to parse"));
    return { ast: { file, decls: [] }, diagnostics };
  }
}

/** The first token at which brackets, or a run of prefix '-', nest deeper than MAX_NESTING. */
function tooDeep(tokens: IToken[]): IToken | undefined {
  let depth = 0;
  let minuses = 0;
  for (const t of tokens) {
    const name = t.tokenType.name;
    if (name === "LParen" || name === "LBracket" || name === "LBrace") depth++;
    else if (name === "RParen" || name === "RBracket" || name === "RBrace") depth = Math.max(0, depth - 1);
    minuses = name === "Minus" ? minuses + 1 : 0;
    if (depth > MAX_NESTING || minuses > MAX_NESTING) return t;
  }
  return undefined;
}

function tokenSpan(t: IToken, file: string): Span {
  const start = { line: t.startLine ?? 1, col: t.startColumn ?? 1, offset: t.startOffset };
  const end = { line: t.endLine ?? start.line, col: (t.endColumn ?? start.col) + 1, offset: (t.endOffset ?? 0) + 1 };
  return { file, start, end };
}

function hintForChar(ch: string): string | undefined {
  if (ch === "'") return 'strings use double quotes: "..."';
  if (ch === "#") return "comments start with //";
  return undefined;
}

/** Chevrotain's messages list every expected token path; we keep the first few, in words. */
function syntaxDiagnostic(e: IRecognitionException, file: string, tokens: IToken[]): Diagnostic {
  const tok = e.token;
  // At end of input Chevrotain reports the EOF token, which has no position: point just past the last token.
  const last = tokens.at(-1);
  if ((tok.tokenType.name === "EOF" || !Number.isFinite(tok.startOffset)) && last) {
    const line = last.endLine ?? last.startLine ?? 1;
    const col = (last.endColumn ?? last.startColumn ?? 0) + 1;
    const offset = (last.endOffset ?? last.startOffset) + 1;
    return syntaxError(e, file, { line, col, offset }, { line, col: col + 1, offset: offset + 1 });
  }
  const start = {
    line: tok.startLine ?? 1,
    col: tok.startColumn ?? 1,
    offset: Number.isFinite(tok.startOffset) ? tok.startOffset : 0,
  };
  const end = {
    line: tok.endLine ?? start.line,
    col: (tok.endColumn ?? start.col) + 1,
    offset: (tok.endOffset ?? start.offset) + 1,
  };
  return syntaxError(e, file, start, end);
}

/** What starts a declaration: a name here, where one of them goes, is a misspelt keyword or a stray line. */
const declKeywords = ["use", "block", "backbone", "task", "testset", "experiment"];

function syntaxError(e: IRecognitionException, file: string, start: Pos, end: Pos): Diagnostic {
  const found = e.token.tokenType.name === "EOF" ? "the end of the file" : `'${e.token.image}'`;
  const expected = expectedFrom(e.message);
  // The file rule reads declarations until one cannot start; what is left must be the end of the file.
  if (expected === "'eof'") {
    const keyword = e.token.tokenType.name === "Identifier" ? closest(e.token.image, declKeywords) : undefined;
    if (keyword)
      return error(codes.syntax, { file, start, end }, `unknown keyword ${found}`, `did you mean '${keyword}'?`);
    return error(
      codes.syntax,
      { file, start, end },
      `expected a declaration but found ${found}`,
      "a declaration starts with use, block, backbone, task, testset or experiment; a '}' earlier may close one too soon",
    );
  }
  const message = expected ? `expected ${expected} but found ${found}` : `unexpected ${found}`;
  return error(codes.syntax, { file, start, end }, message, hintFor(e, expected));
}

function expectedFrom(message: string): string | undefined {
  const m =
    /Expecting(?: token of type --> (\w+) <--|: one of these possible Token sequences:([\s\S]*?)but found)/.exec(
      message,
    );
  if (m?.[1]) return describe(m[1]);
  if (m?.[2]) {
    const firsts = [...m[2].matchAll(/\[([^\]\s,]+)/g)].map((x) => describe(x[1] ?? ""));
    const uniq = [...new Set(firsts)];
    if (uniq.includes("a number") && uniq.includes("a name")) return "a value";
    return uniq.length > 4 ? `${uniq.slice(0, 4).join(", ")} or another token` : uniq.join(" or ");
  }
  if (/Expecting: expecting at least one/.test(message)) return "a value";
  return undefined;
}

const tokenWords: Record<string, string> = {
  Identifier: "a name",
  NumberLiteral: "a number",
  StringLiteral: "a string",
  LParen: "'('",
  RParen: "')'",
  LBrace: "'{'",
  RBrace: "'}'",
  LBracket: "'['",
  RBracket: "']'",
  Colon: "':'",
  Comma: "','",
  Equals: "'='",
  Arrow: "'->'",
  Pipe: "'|>'",
  Range: "'..'",
};

function describe(tokenName: string): string {
  return tokenWords[tokenName] ?? `'${tokenName.toLowerCase()}'`;
}

function hintFor(e: IRecognitionException, expected: string | undefined): string | undefined {
  // Only inside `f(...)` or a parameter list: elsewhere a stray '=' is usually a statement that ran on.
  const inArgs = e.context?.ruleStack?.some((r) => r === "argList" || r === "paramDecl");
  if (e.token.image === "=" && inArgs) return "parameters and named arguments use ':' (k: 3)";
  if (expected === "')'") return "a '(' earlier is not closed";
  if (expected === "'}'") return "a '{' earlier is not closed";
  return undefined;
}
