// Failures a user can act on. The CLI prints `message` and `hint` (never a stack) and exits with `exitCode`: 1 for
// runtime failures, 2 for input that cannot be used.

export class MioRuntimeError extends Error {
  readonly exitCode: number = 1;
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Input the user gave that cannot be used (a checkpoint of another model, a missing file): exit 2, like usage. */
export class MioInputError extends MioRuntimeError {
  override readonly exitCode: number = 2;
}

/** What an fs error says about a path a user gave, in words (the code alone for the rare others). */
export function fileProblem(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  const words: Record<string, string> = {
    ENOENT: "no such file",
    EISDIR: "it is a folder, not a file",
    EACCES: "permission denied",
    EPERM: "permission denied",
    ENOTDIR: "a part of the path is a file, not a folder",
    EEXIST: "a file of that name is in the way",
  };
  return (code && words[code]) ?? code ?? (e as Error).message;
}

const INSTALL_HINT =
  "mio needs a Vulkan driver: a GPU driver, or Mesa >= 23 lavapipe on a machine without a GPU.\n" +
  "  Install it with:   sudo bash scripts/setup.sh\n" +
  "  (Debian 12 by hand: add bookworm-backports, then\n" +
  "   apt-get install -t bookworm-backports libvulkan1 mesa-vulkan-drivers)";

/** No WebGPU adapter: nothing to run on. Says what is missing and how to install it. */
export class NoAdapterError extends MioRuntimeError {
  constructor(backend: string, detail?: string) {
    const forced = backend !== "default";
    super(
      `no WebGPU adapter found${forced ? ` for the forced Dawn backend '${backend}'` : ""}` +
        `${detail ? `: ${detail.split("\n")[0]}` : ""}`,
      forced
        ? `Unset MIO_BACKEND / drop --backend to let Dawn choose, or pick one 'mioc doctor' lists.\n${INSTALL_HINT}`
        : INSTALL_HINT,
    );
  }
}

/** A GPU validation/out-of-memory/internal error or a device loss, named by the work that was running. */
export class GpuError extends MioRuntimeError {
  constructor(
    readonly running: string,
    detail: string,
  ) {
    super(`GPU error while ${running}: ${detail}`);
  }
}
