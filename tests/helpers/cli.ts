import { spawnSync } from "node:child_process";
import { join } from "node:path";

export const root = join(import.meta.dirname, "..", "..");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built `mioc` (npm test builds first) the way a user would. */
export function mioc(args: string[], env: Record<string, string> = {}): CliResult {
  const r = spawnSync(process.execPath, [join(root, "dist", "cli", "mioc.js"), ...args], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, ...env },
    timeout: 120_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
