// Where a worker thread's compiled script is. In the build, next to the module that starts it; when that module runs
// from its .ts source (vitest), worker threads cannot load TypeScript, so the copy in dist/ (npm test builds first).

import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * The URL of `runtime/data/<name>.js` for `new Worker(...)`.
 *
 * @example new Worker(workerUrl("loader-worker"))
 */
export function workerUrl(name: string): URL {
  const here = new URL(`./${name}.js`, import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  return new URL(`../../dist/runtime/data/${name}.js`, import.meta.url);
}
