// Data paths (`data { train "..." val "..." test "..." }`, `eval { set NAME "..." }`) are folders of images that a run
// reads, relative to the working directory. They are checked when the experiment resolves: never the filesystem
// root, and inside the project, the working directory or a folder allowed explicitly (MIO_ALLOW_ROOTS), so a spec
// cannot point a run at the whole disk or at someone else's files. A folder inside them may be a link to a dataset
// elsewhere (that is how a big dataset on another disk is used), but not a link to the filesystem root.
import { realpathSync } from "node:fs";
import { resolve } from "node:path";
import { codes } from "../../grammar/diagnostics.js";
import { isFilesystemRoot, isWithin } from "../program.js";
import type { Data, Reader } from "./values.js";

/** Where data paths may point: relative paths resolve against `cwd`; each must fall under one of `roots`. */
export interface DataRoots {
  cwd: string;
  /** Absolute folders (with their real paths): the project, the working directory, the allowed roots. */
  roots: string[];
}

/** Reports (MIO2013, at the string) a data path that is the filesystem root or outside the roots. */
export function checkDataPath(r: Reader, d: Data, field: string, where: DataRoots | undefined): void {
  if (!where || d.kind !== "str") return;
  const abs = resolve(where.cwd, d.v);
  const real = realOrSelf(abs);
  if (isFilesystemRoot(abs) || isFilesystemRoot(real))
    r.fail(
      codes.refusedPath,
      d.span,
      `${field} is the filesystem root (${JSON.stringify(d.v)}); a run would read the whole disk`,
      'name the folder that holds the images, e.g. "data/train"',
    );
  if (!where.roots.some((root) => isWithin(root, abs)))
    r.fail(
      codes.refusedPath,
      d.span,
      `${field} ${JSON.stringify(d.v)} is outside the project and the working directory`,
      "data paths are relative to the working directory; to read a folder elsewhere, add it to MIO_ALLOW_ROOTS",
    );
}

function realOrSelf(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}
