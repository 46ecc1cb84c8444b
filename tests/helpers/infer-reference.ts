// The `mioc infer --model` reference tests (tests/cli/infer-{swinir,restormer,promptir}.test.ts): restore a fixture
// image whole with a PyTorch state dict and measure the float output against the fixture script's expected one.
import path from "node:path";
import { expect } from "vitest";
import { readSafetensors } from "../../runtime/interop/safetensors.js";
import { miocAsync } from "./cli.js";

export const INFER_FIXTURES = path.join(import.meta.dirname, "..", "fixtures", "infer");

export interface InferReference {
  /** Fixture file names under tests/fixtures/infer. */
  readonly model: string;
  readonly weights: string;
  readonly input: string;
  readonly expected: string;
  /** The output's shape, [3, H, W] of the input. */
  readonly shape: readonly number[];
  /** Where the output goes (a .safetensors keeps the floats). */
  readonly out: string;
  readonly timeoutMs?: number;
}

/**
 * Runs `mioc infer --model` and returns max |mio − PyTorch| over the output; asserts on the way that it exits 0,
 * restores the image whole (no tile fallback) and that both outputs have `shape`.
 */
export async function inferAgainstReference(c: InferReference): Promise<number> {
  const file = (name: string) => path.join(INFER_FIXTURES, name);
  const args = ["infer", "--model", file(c.model), "--weights", file(c.weights), file(c.input), "-o", c.out];
  const r = await miocAsync(args, {}, c.timeoutMs);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).not.toMatch(/tiles/); // no fallback: the whole image's size compiles
  const got = (await readSafetensors(c.out)).tensors.out;
  const want = (await readSafetensors(file(c.expected))).tensors.out;
  expect(got?.shape).toEqual(c.shape);
  expect(want?.shape).toEqual(c.shape);
  let worst = 0;
  want?.data.forEach((v, i) => {
    worst = Math.max(worst, Math.abs((got?.data[i] ?? Number.NaN) - v));
  });
  return worst;
}
