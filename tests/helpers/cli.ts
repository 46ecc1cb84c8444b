import { spawn, spawnSync } from "node:child_process";
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

/**
 * `mioc` without blocking the test worker: for runs that can take longer than vitest's RPC timeout (a cold
 * lavapipe shader cache costs tens of seconds), which a blocking `spawnSync` turns into an unhandled error.
 */
export function miocAsync(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 300_000,
  /** Sends SIGINT once, when stderr so far matches this (Ctrl-C at that point). */
  interruptWhen?: RegExp,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, "dist", "cli", "mioc.js"), ...args], {
      cwd: root,
      env: { ...process.env, ...env },
      timeout: timeoutMs,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    let interrupted = false;
    child.stderr.on("data", (d) => {
      stderr += d;
      if (interruptWhen && !interrupted && interruptWhen.test(stderr)) {
        interrupted = true;
        child.kill("SIGINT");
      }
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
