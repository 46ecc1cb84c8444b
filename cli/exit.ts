// Exit codes are part of mioc's interface: scripts and CI branch on them.
export const EXIT_OK = 0;
export const EXIT_RUNTIME = 1;
export const EXIT_USAGE = 2;
/** Stopped by SIGINT/SIGTERM (128 + 2, the shell's convention): the work can be resumed. */
export const EXIT_INTERRUPTED = 130;

/** Bad input from the user (arguments, files, specs): reported without a stack, exit 2. */
export class UsageError extends Error {
  readonly exitCode = EXIT_USAGE;
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = "UsageError";
  }
}
