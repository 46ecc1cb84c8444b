// Loads a .mio file and everything it `use`s: parses each module once, reports unknown modules and import cycles,
// and builds each module's scope (its own declarations plus those of the modules it uses directly).
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { CallableDecl, Decl, MioFile, Name, SettingsDecl, Span } from "../grammar/ast.js";
import { codes, type Diagnostic, didYouMean, error } from "../grammar/diagnostics.js";
import { parseMio } from "../grammar/parse.js";

export type NamedDecl = CallableDecl | SettingsDecl;

export interface Module {
  /** Path as shown in diagnostics (relative to the working directory when possible). */
  file: string;
  absPath: string;
  source: string;
  ast: MioFile;
  /** Modules this one `use`s, in order. */
  uses: Module[];
  /** Names visible in this module: its own declarations, then those of the modules it uses, transitively. */
  scope: Map<string, NamedDecl>;
}

/** A .mio file and every module it uses, parsed, with their scopes. */
export interface LoadedProgram {
  root: Module;
  modules: Map<string, Module>;
  diagnostics: Diagnostic[];
  /** Source text by diagnostic file name, for rendering carets. */
  sources: Map<string, string>;
}

/** The stdlib folder: found by walking up from this file (works from compiler/ and from dist/compiler/). */
export const defaultStdlibRoot: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "stdlib", "tasks.mio"))) return dir;
    const up = dirname(dir);
    if (up === dir) return resolve("."); // no stdlib installed: `use stdlib/...` reports unknown modules
    dir = up;
  }
})();

export interface LoadOptions {
  /** Folder that contains `stdlib/`; `use stdlib/x` loads `<root>/stdlib/x.mio`. */
  stdlibRoot?: string;
  /** Provide source text instead of reading the file (editors, tests). */
  text?: string;
}

function displayPath(abs: string): string {
  const rel = relative(process.cwd(), abs);
  return rel.startsWith("..") ? abs : rel;
}

/**
 * Parses `path` and its imports.
 * @example const program = loadProgram("pipelines/seq_prompt.mio"); program.diagnostics.length === 0;
 */
export function loadProgram(path: string, options: LoadOptions = {}): LoadedProgram {
  const stdlibRoot = options.stdlibRoot ?? defaultStdlibRoot;
  const modules = new Map<string, Module>();
  const diagnostics: Diagnostic[] = [];
  const sources = new Map<string, string>();
  const loading: string[] = [];

  const load = (absPath: string, text?: string): Module => {
    const cached = modules.get(absPath);
    if (cached) return cached;
    const file = displayPath(absPath);
    const source = text ?? readFileSync(absPath, "utf8");
    sources.set(file, source);
    const parsed = parseMio(source, file);
    diagnostics.push(...parsed.diagnostics);
    const mod: Module = { file, absPath, source, ast: parsed.ast, uses: [], scope: new Map() };
    modules.set(absPath, mod);
    loading.push(absPath);
    for (const d of parsed.ast.decls) {
      if (d.kind !== "use") continue;
      const target = d.isFile ? resolve(dirname(absPath), d.path) : join(stdlibRoot, `${d.path}.mio`);
      if (loading.includes(target)) {
        const cycle = [...loading.slice(loading.indexOf(target)), target].map(displayPath).join(" -> ");
        diagnostics.push(
          error(
            codes.importCycle,
            d.span,
            `import cycle: ${cycle}`,
            "move the shared declarations into a third module",
          ),
        );
        continue;
      }
      if (!isFile(target)) {
        diagnostics.push(
          error(
            codes.unknownModule,
            d.span,
            `cannot find module '${d.path}' (looked for ${displayPath(target)})`,
            moduleHint(d.path, stdlibRoot),
          ),
        );
        continue;
      }
      mod.uses.push(load(target));
    }
    loading.pop();
    buildScope(mod, diagnostics);
    return mod;
  };

  const absPath = resolve(path);
  if (options.text === undefined && !isFile(absPath)) throw new ModuleNotFound(path);
  const root = load(absPath, options.text);
  return { root, modules, diagnostics, sources };
}

/** A file named on the command line does not exist: a usage error, not a diagnostic. */
export class ModuleNotFound extends Error {
  constructor(readonly path: string) {
    super(`no such file: ${path}`);
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function moduleHint(path: string, stdlibRoot: string): string | undefined {
  if (!path.startsWith("stdlib/")) return 'relative files are imported with quotes: use "./file.mio"';
  const candidates = listStdlib(join(stdlibRoot, "stdlib")).map((p) => `stdlib/${p}`);
  return didYouMean(path, candidates);
}

function listStdlib(dir: string, prefix = ""): string[] {
  try {
    return readdirSync(dir).flatMap((e) => {
      const full = join(dir, e);
      if (statSync(full).isDirectory()) return listStdlib(full, `${prefix}${e}/`);
      return e.endsWith(".mio") ? [`${prefix}${e.slice(0, -4)}`] : [];
    });
  } catch {
    return [];
  }
}

function declName(d: Decl): Name | undefined {
  return d.kind === "use" ? undefined : d.name;
}

function buildScope(mod: Module, diagnostics: Diagnostic[]): void {
  const own = new Map<string, NamedDecl>();
  for (const d of mod.ast.decls) {
    const name = declName(d);
    if (!name || d.kind === "use") continue;
    const prev = own.get(name.text);
    if (prev) {
      diagnostics.push(duplicate(name.text, name.span, prev.name.span));
      continue;
    }
    own.set(name.text, d);
  }
  for (const d of own.values()) declModules.set(d, mod);
  mod.scope = new Map(own);
  for (const used of reachable(mod)) {
    for (const [name, d] of ownDecls(used)) {
      const prev = mod.scope.get(name);
      if (prev && prev !== d) {
        const where = own.has(name) ? prev.name.span : d.name.span;
        diagnostics.push(duplicate(name, where, own.has(name) ? d.name.span : prev.name.span));
        continue;
      }
      mod.scope.set(name, d);
    }
  }
}

/** The module a declaration was written in: its body is checked in that module's scope. */
export const declModules = new WeakMap<NamedDecl, Module>();

function reachable(mod: Module): Module[] {
  const seen = new Set<Module>();
  const visit = (m: Module) => {
    for (const u of m.uses) {
      if (seen.has(u) || u === mod) continue;
      seen.add(u);
      visit(u);
    }
  };
  visit(mod);
  return [...seen];
}

function ownDecls(mod: Module): [string, NamedDecl][] {
  return mod.ast.decls.flatMap((d) => (d.kind === "use" ? [] : [[d.name.text, d] as [string, NamedDecl]]));
}

function duplicate(name: string, span: Span, previous: Span): Diagnostic {
  return {
    ...error(codes.duplicate, span, `'${name}' is declared twice`, "rename one of them"),
    notes: [{ span: previous, message: `the other '${name}' is declared here` }],
  };
}
