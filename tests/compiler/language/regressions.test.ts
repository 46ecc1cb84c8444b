// Front-end bugs found by the language tests that are not fixed yet (their fix belongs to files outside the test
// suite's reach). Each is `it.fails`: it passes while the bug is there and fails once it is fixed, as a reminder to
// turn it into a plain test (and, for the first, to drop `isKnownCrash` from fuzz.test.ts).
import { describe, expect, it } from "vitest";
import { check } from "./helpers.js";

const experimentOf = (backbone: string) =>
  `use stdlib/tasks\n${backbone}\nexperiment e { model Net; curriculum mixed { tasks sr; iters 10 } }`;

describe("known bugs", () => {
  // compiler/compile.ts checkCallable: a backbone whose parameters all have defaults is elaborated without the
  // try/catch that resolve/experiment.ts puts around `bindDeclParams`, so the elaborator's internal `Reported`
  // escapes checkFile (and `mioc check` prints an internal error with a stack) when a default does not evaluate.
  it.fails.each([
    ["a default dropped by a syntax error", "backbone Net(f: int = )(x: image) { return x }"],
    ["a default of the wrong type", "backbone Net(f: int = [1] + 2)(x: image) { return x }"],
  ])("%s is a diagnostic, not an exception", (_, src) => {
    expect(() => check(src)).not.toThrow();
  });

  // compiler/check/builtins.ts: layer sizes are not checked to be positive. `conv(0)` and `k: 0` are accepted
  // silently; `conv(-2)` makes a negative parameter count that only the spec schema notices (MIO5001, "a bug in
  // mio"). (`upsample(0)` is caught, but as a backbone returning "1/Infinity resolution".)
  it.fails.each([
    ["conv(0)", "backbone Net()(x: image) { return x + (x |> a: conv(0) |> b: conv(3)) }"],
    ["conv(-2)", "backbone Net()(x: image) { return x + (x |> a: conv(-2) |> b: conv(3)) }"],
    ["conv(3, k: 0)", "backbone Net()(x: image) { return x |> a: conv(3, k: 0) }"],
  ])("%s is reported as the user's mistake", (_, backbone) => {
    const codes = check(experimentOf(backbone)).diagnostics.map((d) => d.code);
    expect(codes.length).toBeGreaterThan(0);
    expect(codes).not.toContain("MIO5001");
  });
});
