// The .mio grammar, and nothing else: no actions, no AST building (that is to-ast.ts). Rules are class fields so a
// misspelled subrule fails to compile. Error recovery is on, so one run reports every syntax error of a file.
//
// Two kinds of bodies:
//   - `block`/`backbone` bodies are statements: `x = expr`, `for i in a..b { }`, `return expr`.
//   - `task`/`experiment` bodies are settings: `key value, value  name: value` on one line, optionally followed by a
//     `{ nested settings }` block. A setting's values end at the end of its line (unless the line ends with `,`),
//     so a misspelled key becomes its own setting that the checker can name, instead of swallowing the next line.
import { CstParser, type IToken, type TokenType } from "chevrotain";
import * as T from "./tokens.js";

/**
 * A site's named arguments whose values are expressions (`init: "trunc_normal0.02"`); every other named argument's
 * value is a layer name (a label path: `scale: layers[g].prompt_scale`), so a misspelt `scael: x.s` still parses and
 * the checker can name the mistake.
 */
export const SITE_VALUE_PARAMS: readonly string[] = ["init"];

class MioParser extends CstParser {
  constructor() {
    super(T.allTokens, { recoveryEnabled: true, maxLookahead: 3, nodeLocationTracking: "full" });
    this.performSelfAnalysis();
  }

  file = this.RULE("file", () => {
    this.MANY(() =>
      this.OR([
        { ALT: () => this.SUBRULE(this.useDecl) },
        { ALT: () => this.SUBRULE(this.callableDecl) },
        { ALT: () => this.SUBRULE(this.taskDecl) },
        { ALT: () => this.SUBRULE(this.experimentDecl) },
      ]),
    );
  });

  // use stdlib/backbones/srresnet   |   use "./my_blocks.mio"
  useDecl = this.RULE("useDecl", () => {
    this.CONSUME(T.Use);
    this.OR([
      { ALT: () => this.CONSUME(T.StringLiteral) },
      {
        ALT: () => {
          this.CONSUME(T.Identifier);
          this.MANY(() => {
            this.CONSUME(T.Slash);
            this.CONSUME2(T.Identifier);
          });
        },
      },
    ]);
  });

  // block ResBlock(c: int)(x) { ... }   |   backbone SRResNet(feat: int = 64)(lq: image) { ... }
  callableDecl = this.RULE("callableDecl", () => {
    this.OR([{ ALT: () => this.CONSUME(T.Block) }, { ALT: () => this.CONSUME(T.Backbone) }]);
    this.CONSUME(T.Identifier);
    this.SUBRULE(this.paramList);
    this.SUBRULE(this.inputList);
    this.SUBRULE(this.body);
  });

  paramList = this.RULE("paramList", () => {
    this.CONSUME(T.LParen);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.paramDecl) });
    this.CONSUME(T.RParen);
  });

  paramDecl = this.RULE("paramDecl", () => {
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Colon);
    this.CONSUME2(T.Identifier); // the type
    this.OPTION(() => {
      this.CONSUME(T.Equals);
      this.SUBRULE(this.expression);
    });
  });

  inputList = this.RULE("inputList", () => {
    this.CONSUME(T.LParen);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.inputDecl) });
    this.CONSUME(T.RParen);
  });

  inputDecl = this.RULE("inputDecl", () => {
    this.CONSUME(T.Identifier);
    this.OPTION(() => {
      this.CONSUME(T.Colon);
      this.CONSUME2(T.Identifier);
    });
  });

  body = this.RULE("body", () => {
    this.CONSUME(T.LBrace);
    this.MANY(() => this.SUBRULE(this.statement));
    this.CONSUME(T.RBrace);
  });

  statement = this.RULE("statement", () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.forStatement) },
      { ALT: () => this.SUBRULE(this.returnStatement) },
      { ALT: () => this.SUBRULE(this.assignment) },
    ]);
    this.OPTION(() => this.CONSUME(T.Semicolon));
  });

  assignment = this.RULE("assignment", () => {
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Equals);
    this.SUBRULE(this.expression);
  });

  forStatement = this.RULE("forStatement", () => {
    this.CONSUME(T.For);
    this.CONSUME(T.Identifier);
    this.CONSUME(T.In);
    this.SUBRULE(this.expression);
    this.SUBRULE(this.body);
  });

  returnStatement = this.RULE("returnStatement", () => {
    this.CONSUME(T.Return);
    this.SUBRULE(this.expression);
  });

  // task sr { ... }   |   testset mild { ... }: both are settings (a testset is a test set no task trains on).
  taskDecl = this.RULE("taskDecl", () => {
    this.OR([{ ALT: () => this.CONSUME(T.Task) }, { ALT: () => this.CONSUME(T.Testset) }]);
    this.CONSUME(T.Identifier);
    this.SUBRULE(this.settingsBlock);
  });

  experimentDecl = this.RULE("experimentDecl", () => {
    this.CONSUME(T.Experiment);
    this.CONSUME(T.Identifier);
    this.SUBRULE(this.settingsBlock);
  });

  settingsBlock = this.RULE("settingsBlock", () => {
    this.CONSUME(T.LBrace);
    this.MANY(() => this.SUBRULE(this.setting));
    this.CONSUME(T.RBrace);
  });

  setting = this.RULE("setting", () => {
    this.CONSUME(T.Identifier);
    this.OPTION({ GATE: () => this.onSameLine() && this.startsValue(), DEF: () => this.SUBRULE(this.settingValues) });
    this.OPTION2(() => this.SUBRULE(this.settingsBlock));
    this.OPTION3(() => this.CONSUME(T.Semicolon));
  });

  settingValues = this.RULE("settingValues", () => {
    this.SUBRULE(this.settingValue);
    this.MANY({
      GATE: () => this.LA(1).tokenType === T.Comma || (this.onSameLine() && this.startsValue()),
      DEF: () => {
        this.OPTION(() => this.CONSUME(T.Comma));
        this.SUBRULE2(this.settingValue);
      },
    });
  });

  // `lr: 2e-4` (named) or any expression.
  settingValue = this.RULE("settingValue", () => {
    this.OPTION(() => {
      this.CONSUME(T.Identifier);
      this.CONSUME(T.Colon);
    });
    this.SUBRULE(this.expression);
  });

  // Expressions, loosest first: `a -> b` chains, `x |> f` pipes, `a..b` ranges, + -, * / %, unary -, primaries.
  expression = this.RULE("expression", () => {
    this.SUBRULE(this.pipeExpr);
    this.MANY(() => {
      this.CONSUME(T.Arrow);
      this.SUBRULE2(this.pipeExpr);
    });
  });

  pipeExpr = this.RULE("pipeExpr", () => {
    this.OPTION({ GATE: () => this.layerNameAhead(), DEF: () => this.SUBRULE(this.layerLabel) });
    this.SUBRULE(this.rangeExpr);
    this.MANY(() => {
      this.CONSUME(T.Pipe);
      this.SUBRULE(this.pipeStage);
    });
  });

  // What follows `|>`: `relu`, `lrelu(0.1)`, `conv_hr: conv(feat, k: 3)`, `site conv_hr`.
  pipeStage = this.RULE("pipeStage", () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.siteRef) },
      {
        ALT: () => {
          this.OPTION({ GATE: () => this.layerNameAhead(), DEF: () => this.SUBRULE(this.layerLabel) });
          this.SUBRULE(this.callOrRef);
        },
      },
    ]);
  });

  // `conv_first:`, `body[i]:`, `layers.0:` — the name under which a layer's parameters are stored.
  layerLabel = this.RULE("layerLabel", () => {
    this.SUBRULE(this.layerPath);
    this.CONSUME(T.Colon);
  });

  layerPath = this.RULE("layerPath", () => {
    this.SUBRULE(this.layerSegment);
    this.MANY(() => {
      this.CONSUME(T.Dot);
      this.SUBRULE2(this.layerSegment);
    });
  });

  layerSegment = this.RULE("layerSegment", () => {
    this.OR([{ ALT: () => this.CONSUME(T.Identifier) }, { ALT: () => this.CONSUME(T.NumberLiteral) }]);
    this.OPTION(() => {
      this.CONSUME(T.LBracket);
      this.SUBRULE(this.expression);
      this.CONSUME(T.RBracket);
    });
  });

  rangeExpr = this.RULE("rangeExpr", () => {
    this.SUBRULE(this.additive);
    this.OPTION(() => {
      this.CONSUME(T.Range);
      this.SUBRULE2(this.additive);
    });
  });

  additive = this.RULE("additive", () => {
    this.SUBRULE(this.multiplicative);
    this.MANY(() => {
      this.OR([{ ALT: () => this.CONSUME(T.Plus) }, { ALT: () => this.CONSUME(T.Minus) }]);
      this.SUBRULE2(this.multiplicative);
    });
  });

  multiplicative = this.RULE("multiplicative", () => {
    this.SUBRULE(this.unary);
    this.MANY(() => {
      this.OR([
        { ALT: () => this.CONSUME(T.Star) },
        { ALT: () => this.CONSUME(T.Slash) },
        { ALT: () => this.CONSUME(T.Percent) },
      ]);
      this.SUBRULE2(this.unary);
    });
  });

  unary = this.RULE("unary", () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Minus);
          this.SUBRULE(this.unary);
        },
      },
      { ALT: () => this.SUBRULE(this.primary) },
    ]);
  });

  primary = this.RULE("primary", () => {
    this.OR([
      { ALT: () => this.CONSUME(T.NumberLiteral) },
      { ALT: () => this.CONSUME(T.StringLiteral) },
      { ALT: () => this.CONSUME(T.True) },
      { ALT: () => this.CONSUME(T.False) },
      { ALT: () => this.SUBRULE(this.listExpr) },
      { ALT: () => this.SUBRULE(this.parenExpr) },
      { ALT: () => this.SUBRULE(this.siteRef) },
      { ALT: () => this.SUBRULE(this.callOrRef) },
    ]);
  });

  listExpr = this.RULE("listExpr", () => {
    this.CONSUME(T.LBracket);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.expression) });
    this.CONSUME(T.RBracket);
  });

  parenExpr = this.RULE("parenExpr", () => {
    this.CONSUME(T.LParen);
    this.SUBRULE(this.expression);
    this.CONSUME(T.RParen);
  });

  // `site body[i] (f)` in an expression, or `|> site conv_hr` in a pipe. Named arguments declare the site's
  // modulation layers: `site conv_last(scale: prompt_scale_last, shift: prompt_shift_last, init: "...")`.
  siteRef = this.RULE("siteRef", () => {
    this.CONSUME(T.Site);
    this.SUBRULE(this.layerPath);
    this.OPTION(() => {
      this.CONSUME(T.LParen);
      this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.siteArg) });
      this.CONSUME(T.RParen);
    });
  });

  // `scale: layers[g].prompt_scale` names a layer, so its value is a label path (with indices), not an expression;
  // `init: "..."` and the input are ordinary arguments.
  siteArg = this.RULE("siteArg", () => {
    this.OR([
      {
        GATE: () => this.siteLayerAhead(),
        ALT: () => {
          this.CONSUME(T.Identifier);
          this.CONSUME(T.Colon);
          this.SUBRULE(this.layerPath);
        },
        IGNORE_AMBIGUITIES: true,
      },
      { ALT: () => this.SUBRULE(this.arg) },
    ]);
  });

  // `x`, `body.*` (a wildcard path), `relu`, `conv(64, k: 3)`, `ResBlock(feat)(f)`: a call takes parameters first,
  // then, optionally, its inputs.
  callOrRef = this.RULE("callOrRef", () => {
    this.CONSUME(T.Identifier);
    this.MANY(() => {
      this.CONSUME(T.Dot);
      this.OR([
        { ALT: () => this.CONSUME2(T.Identifier) },
        { ALT: () => this.CONSUME(T.NumberLiteral) },
        { ALT: () => this.CONSUME(T.Star) },
      ]);
    });
    this.OPTION(() => {
      this.SUBRULE(this.argList);
      this.OPTION2(() => this.SUBRULE2(this.argList));
    });
  });

  argList = this.RULE("argList", () => {
    this.CONSUME(T.LParen);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.arg) });
    this.CONSUME(T.RParen);
  });

  arg = this.RULE("arg", () => {
    this.OPTION(() => {
      this.CONSUME(T.Identifier);
      this.CONSUME(T.Colon);
    });
    this.SUBRULE(this.expression);
  });

  private onSameLine(): boolean {
    return this.LA(1).startLine === this.LA(0).endLine;
  }

  private startsValue(): boolean {
    const t = this.LA(1).tokenType;
    return t !== T.LBrace && t !== T.RBrace && t !== T.Semicolon && t !== T.Comma;
  }

  /** True when the tokens ahead are `name:` and a name, `name` not in SITE_VALUE_PARAMS: a site's layer name. */
  private siteLayerAhead(): boolean {
    const [name, colon, value] = [this.LA(1), this.LA(2), this.LA(3)];
    return (
      name.tokenType === T.Identifier &&
      !SITE_VALUE_PARAMS.includes(name.image) &&
      colon.tokenType === T.Colon &&
      (value.tokenType === T.Identifier || value.tokenType === T.NumberLiteral)
    );
  }

  /** True when the tokens ahead spell `path:` (a layer label): segments, dots and balanced `[...]`, then `:`. */
  private layerNameAhead(): boolean {
    let i = 1;
    const is = (tok: IToken, type: TokenType) => tok.tokenType === type;
    for (;;) {
      const seg = this.LA(i);
      if (!is(seg, T.Identifier) && !is(seg, T.NumberLiteral)) return false;
      i++;
      if (is(this.LA(i), T.LBracket)) {
        let depth = 0;
        do {
          const t = this.LA(i);
          if (t.tokenType === T.LBracket) depth++;
          else if (t.tokenType === T.RBracket) depth--;
          else if (t.tokenType.name === "EOF") return false;
          i++;
        } while (depth > 0);
      }
      if (is(this.LA(i), T.Colon)) return true;
      if (!is(this.LA(i), T.Dot)) return false;
      i++;
    }
  }
}

/** One parser instance, reused: `performSelfAnalysis()` is costly and runs once. */
export const parser = new MioParser();
export type { MioParser };
