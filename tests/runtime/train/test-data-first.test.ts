// A problem in data.test stops `mioc run` before training (before the kernels compile, before the first step),
// naming the file: not after hours of training, when evaluation would first read the test images.
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkFile } from "../../../compiler/compile.js";
import { specHash } from "../../../compiler/schema/emit.js";
import type { ExperimentSpec } from "../../../compiler/schema/experiment.js";
import { MioInputError } from "../../../runtime/errors.js";
import { runExperiment } from "../../../runtime/run-experiment.js";
import type { Gpu } from "../../../runtime/webgpu/device.js";

const FIXTURE = "tests/fixtures/e2e";
const root = mkdtempSync(join(tmpdir(), "mio-testdata-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A GPU that fails the test if anything touches it: the run must stop before it needs one. */
const noGpu = new Proxy({} as Gpu, {
  get(_, key) {
    throw new Error(`the run touched the GPU ('${String(key)}') before checking its test images`);
  },
});

function withTest(test: string) {
  const r = checkFile(join(FIXTURE, "denoise.mio"));
  expect(r.diagnostics).toEqual([]);
  const spec = r.specs.get("denoise") as ExperimentSpec;
  return { program: r.program, spec: { ...spec, data: { ...spec.data, test } } };
}

/** A copy of the fixture's test folder plus one bad file. */
function testFolder(name: string, bad: string, bytes: string | Buffer): { dir: string; file: string } {
  const dir = join(root, name);
  mkdirSync(dir);
  for (const f of ["lomiri-bridge.png", "lomiri-friends.png"]) copyFileSync(join(FIXTURE, "test", f), join(dir, f));
  writeFileSync(join(dir, bad), bytes);
  return { dir, file: join(dir, bad) };
}

describe("mioc run checks data.test before training", () => {
  const png = readFileSync(join(FIXTURE, "test", "lomiri-bridge.png"));
  for (const [what, bytes] of [
    ["a text file named .png", "not an image"],
    ["a truncated PNG", png.subarray(0, Math.floor(png.length / 3))],
    ["an empty file", ""],
  ] as const) {
    it(`stops at once on ${what}, naming it (MioInputError, exit 2)`, async () => {
      const name = what.replaceAll(" ", "-").replaceAll(".", "");
      const { dir, file } = testFolder(name, "z-bad.png", bytes); // sorted last: the good images come first
      const { program, spec } = withTest(dir);
      const runsRoot = join(root, `runs-${name}`);
      const t0 = performance.now();
      const err = await runExperiment({ gpu: noGpu, program, spec, runsRoot, resume: false }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(MioInputError);
      expect((err as MioInputError).exitCode).toBe(2);
      expect((err as Error).message).toContain(`data.test '${dir}'`);
      expect((err as Error).message).toContain(`cannot read image '${file}'`);
      // Nothing trained: no log line, no checkpoint; and no half-built test sets left in the cache.
      const runDir = join(runsRoot, `${spec.name}-${specHash(spec)}`);
      expect(existsSync(join(runDir, "log.jsonl"))).toBe(false);
      expect(existsSync(join(runDir, "checkpoints"))).toBe(false);
      expect(readdirSync(join(runsRoot, ".testsets")).filter((f) => f.includes("testsets-"))).toEqual([]);
      expect(performance.now() - t0).toBeLessThan(30_000);
    });
  }

  it("stops on a missing test folder before training, too", async () => {
    const { program, spec } = withTest(join(root, "no-such-folder"));
    await expect(
      runExperiment({ gpu: noGpu, program, spec, runsRoot: join(root, "runs-missing"), resume: false }),
    ).rejects.toThrow(/data\.test '.*no-such-folder'.*does not exist/);
  });
});
