// Tokens of the .mio language. Order matters: Chevrotain tries patterns in array order, so longer operators come
// before their prefixes (`..` before `.`, `->` before `-`, `|>` before nothing else), and keywords come before
// `Identifier`, each with `longer_alt: Identifier` so that `format` is an identifier, not `for` + `mat`.
import { createToken, Lexer, type TokenType } from "chevrotain";

export const WhiteSpace = createToken({ name: "WhiteSpace", pattern: /[ \t\r\n]+/, group: Lexer.SKIPPED });
export const LineComment = createToken({ name: "LineComment", pattern: /\/\/[^\n]*/, group: Lexer.SKIPPED });
export const BlockComment = createToken({ name: "BlockComment", pattern: /\/\*[\s\S]*?\*\//, group: Lexer.SKIPPED });

export const Identifier = createToken({ name: "Identifier", pattern: /[A-Za-z_][A-Za-z0-9_]*/ });

const keyword = (word: string) =>
  createToken({ name: word[0]?.toUpperCase() + word.slice(1), pattern: new RegExp(word), longer_alt: Identifier });

export const Use = keyword("use");
export const Block = keyword("block");
export const Backbone = keyword("backbone");
export const Task = keyword("task");
export const Testset = keyword("testset");
export const Experiment = keyword("experiment");
export const For = keyword("for");
export const In = keyword("in");
export const Return = keyword("return");
export const Site = keyword("site");
export const True = keyword("true");
export const False = keyword("false");

// `1.5e-4`, `250k`, `1M`: the `k`/`M` suffix scales by 1e3/1e6. A fraction needs a digit after the dot, so that
// `1..3` lexes as `1` `..` `3` (a range), not `1.` `.3`.
export const NumberLiteral = createToken({ name: "NumberLiteral", pattern: /\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[kM]?/ });
export const StringLiteral = createToken({ name: "StringLiteral", pattern: /"(?:[^"\\\n]|\\.)*"/ });

export const Arrow = createToken({ name: "Arrow", pattern: /->/ });
export const Pipe = createToken({ name: "Pipe", pattern: /\|>/ });
export const Range = createToken({ name: "Range", pattern: /\.\./ });
export const Dot = createToken({ name: "Dot", pattern: /\./ });
export const Comma = createToken({ name: "Comma", pattern: /,/ });
export const Colon = createToken({ name: "Colon", pattern: /:/ });
export const Semicolon = createToken({ name: "Semicolon", pattern: /;/ });
export const Equals = createToken({ name: "Equals", pattern: /=/ });
export const Plus = createToken({ name: "Plus", pattern: /\+/ });
export const Minus = createToken({ name: "Minus", pattern: /-/ });
export const Star = createToken({ name: "Star", pattern: /\*/ });
export const Slash = createToken({ name: "Slash", pattern: /\// });
export const Percent = createToken({ name: "Percent", pattern: /%/ });
export const LParen = createToken({ name: "LParen", pattern: /\(/ });
export const RParen = createToken({ name: "RParen", pattern: /\)/ });
export const LBracket = createToken({ name: "LBracket", pattern: /\[/ });
export const RBracket = createToken({ name: "RBracket", pattern: /\]/ });
export const LBrace = createToken({ name: "LBrace", pattern: /\{/ });
export const RBrace = createToken({ name: "RBrace", pattern: /\}/ });

export const keywords: TokenType[] = [
  Use,
  Block,
  Backbone,
  Task,
  Testset,
  Experiment,
  For,
  In,
  Return,
  Site,
  True,
  False,
];

export const allTokens: TokenType[] = [
  WhiteSpace,
  BlockComment,
  LineComment,
  ...keywords,
  Identifier,
  NumberLiteral,
  StringLiteral,
  Arrow,
  Pipe,
  Range,
  Dot,
  Comma,
  Colon,
  Semicolon,
  Equals,
  Plus,
  Minus,
  Star,
  Slash,
  Percent,
  LParen,
  RParen,
  LBracket,
  RBracket,
  LBrace,
  RBrace,
];

export const mioLexer = new Lexer(allTokens, { ensureOptimizations: false, positionTracking: "full" });
