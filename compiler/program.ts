// Loads a .mio file and everything it `use`s: parses each module once, reports unknown modules and import cycles,
// and builds each module's scope (its own declarations plus those of the modules it uses directly). A quoted `use`
// loads only a regular `.mio` file of at most 4 MiB under the project's roots; anything else is refused before it is
// opened, so no diagnostic ever shows another file's contents.
import {
  closeSync,
  constants,
  existsSync,
  fstatSync,
  openSync,
  readdirSync,
  readSync,
  realpathSync,
  statSync,
} from "node:fs";
import { dirname, isAbsolute, join, parse, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { CallableDecl, Decl, MioFile, Name, SettingsDecl, Span } from "../grammar/ast.js";
import { codes, type Diagnostic, type DiagnosticCode, didYouMean, error } from "../grammar/diagnostics.js";
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
  /** The folders a quoted `use` may load from, and data paths may name (with the working directory). */
  roots: ProjectRoots;
}

/** Where a program may read: its project, the stdlib and the folders allowed explicitly (absolute paths). */
export interface ProjectRoots {
  /** The root file's project: the nearest folder at or above it holding a package.json or .git, else its own folder. */
  project: string;
  /** `<stdlib root>/stdlib`. */
  stdlib: string;
  /** `LoadOptions.allowRoots` (for mioc: MIO_ALLOW_ROOTS). */
  allowed: string[];
}

/** The largest module a `use` (or the command line) loads; checked before reading. */
export const MAX_MODULE_BYTES = 4 * 1024 * 1024;

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
  /** More folders a quoted `use` may load `.mio` files from and data paths may name (relative to the cwd). */
  allowRoots?: string[];
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
  const absPath = resolve(path);
  const roots: ProjectRoots = {
    project: projectFolder(absPath),
    stdlib: join(stdlibRoot, "stdlib"),
    allowed: (options.allowRoots ?? []).map((r) => resolve(r)),
  };
  const useRoots = withRealPaths([roots.project, roots.stdlib, ...roots.allowed]);

  const load = (absPath: string, source: string): Module => {
    const file = displayPath(absPath);
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
      const cached = modules.get(target);
      if (cached) {
        mod.uses.push(cached);
        continue;
      }
      const refused = d.isFile ? refuseUse(d.path, target, useRoots, roots) : undefined;
      if (refused) {
        diagnostics.push(error(refused.code, d.span, refused.message, refused.hint));
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
      const read = readModule(target);
      if ("refused" in read) {
        diagnostics.push(
          read.refused === "large"
            ? error(codes.moduleTooLarge, d.span, tooLarge(d.path), tooLargeHint)
            : error(codes.refusedModule, d.span, notRegular(d.path), mioHint),
        );
        continue;
      }
      mod.uses.push(load(target, read.text));
    }
    loading.pop();
    buildScope(mod, diagnostics);
    return mod;
  };

  let text = options.text;
  if (text === undefined) {
    if (!isFile(absPath)) throw new ModuleNotFound(path);
    const read = readModule(absPath);
    if ("refused" in read) throw read.refused === "large" ? new ModuleTooLarge(path) : new ModuleNotFound(path);
    text = read.text;
  }
  const root = load(absPath, text);
  return { root, modules, diagnostics, sources, roots };
}

/** A file named on the command line does not exist: a usage error, not a diagnostic. */
export class ModuleNotFound extends Error {
  constructor(readonly path: string) {
    super(`no such file: ${path}`);
  }
}

/** A file named on the command line is over `MAX_MODULE_BYTES`: a usage error, and it is not read. */
export class ModuleTooLarge extends Error {
  constructor(readonly path: string) {
    super(`${path} is larger than ${MAX_MODULE_BYTES / 1024 / 1024} MiB, too large for a .mio module`);
  }
}

const tooLarge = (path: string) =>
  `'${path}' is larger than ${MAX_MODULE_BYTES / 1024 / 1024} MiB, too large for a .mio module; it was not read`;
const tooLargeHint = "a module is source text; split it, or use the file you meant";
const notRegular = (path: string) => `'${path}' is not a regular file`;
const mioHint = 'name a .mio file, e.g. use "./lib.mio"';

/**
 * The nearest folder at or above `file` that holds a package.json or a .git (a folder, or a worktree's file), or
 * the file's own folder when none does.
 */
export function projectFolder(file: string): string {
  const own = dirname(file);
  for (let dir = own; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json")) || existsSync(join(dir, ".git"))) return dir;
    if (dirname(dir) === dir) return own;
  }
}

/** Whether `p` is `root` or lies under it (both absolute, normalised). */
export function isWithin(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** `p` is the filesystem root (`/`, or a drive's root). */
export function isFilesystemRoot(p: string): boolean {
  return parse(p).root === p;
}

/** The folders, with their real paths too (a root reached through a symlink, such as macOS's /tmp, still counts). */
export function withRealPaths(folders: string[]): string[] {
  return [...new Set(folders.flatMap((f) => [f, realPath(f) ?? f]))];
}

function realPath(p: string): string | undefined {
  try {
    return realpathSync(p);
  } catch {
    return undefined;
  }
}

/**
 * Why a quoted `use` may not load `target`, decided from its name and `stat` alone: not a `.mio` file, outside the
 * roots (as written, or through a symlink), not a regular file, or too large. Undefined: it may (or is missing).
 */
function refuseUse(
  written: string,
  target: string,
  useRoots: string[],
  roots: ProjectRoots,
): { code: DiagnosticCode; message: string; hint: string } | undefined {
  const allowHint = `a quoted use loads .mio files under ${displayFolder(roots.project)} (the project) and stdlib/; to allow another folder, add it to MIO_ALLOW_ROOTS`;
  if (!written.endsWith(".mio"))
    return {
      code: codes.refusedModule,
      message: `'${written}' is not a .mio file: a quoted use loads only .mio modules`,
      hint: mioHint,
    };
  if (!useRoots.some((r) => isWithin(r, target)))
    return { code: codes.refusedModule, message: `'${written}' is outside the project`, hint: allowHint };
  const real = realPath(target);
  if (real === undefined) return undefined; // missing: MIO2002
  if (!useRoots.some((r) => isWithin(r, real)))
    return {
      code: codes.refusedModule,
      message: `'${written}' is a link to ${real}, outside the project`,
      hint: allowHint,
    };
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(real);
  } catch {
    return undefined;
  }
  if (!st.isFile()) return { code: codes.refusedModule, message: notRegular(written), hint: mioHint };
  if (st.size > MAX_MODULE_BYTES) return { code: codes.moduleTooLarge, message: tooLarge(written), hint: tooLargeHint };
  return undefined;
}

/**
 * A module's text, reading at most `MAX_MODULE_BYTES` (+1 to notice more), or why not: "large" when it is larger,
 * "special" when it is not a regular file. Opened without blocking, so a FIFO swapped in after the `stat` does not hang.
 */
function readModule(path: string): { text: string } | { refused: "large" | "special" } {
  const fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { refused: "special" };
    if (st.size > MAX_MODULE_BYTES) return { refused: "large" };
    const buf = Buffer.allocUnsafe(MAX_MODULE_BYTES + 1);
    let n = 0;
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
      if (n > MAX_MODULE_BYTES) return { refused: "large" };
    }
    return { text: buf.subarray(0, n).toString("utf8") };
  } finally {
    closeSync(fd);
  }
}

function displayFolder(abs: string): string {
  const rel = relative(process.cwd(), abs);
  return rel === "" ? "." : rel.startsWith("..") || isAbsolute(rel) ? abs : rel;
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
