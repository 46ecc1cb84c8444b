// Front-end bugs the language tests found, kept as regression tests now that they are fixed. (diagnostics.test.ts
// also covers a default of the wrong type and a classifier that does not return a vector, found the same way.)
import { describe, expect, it } from "vitest";
import { check } from "./helpers.js";

const experimentOf = (backbone: string) =>
  `use stdlib/tasks\n${backbone}\nexperiment e { model Net; curriculum mixed { tasks sr; iters 10 } }`;

describe("fixed front-end bugs", () => {
  // A default that does not evaluate used to escape checkFile as an internal exception.
  it.each([
    ["a default dropped by a syntax error", "backbone Net(f: int = )(x: image) { return x }"],
    ["a default of the wrong type", "backbone Net(f: int = [1] + 2)(x: image) { return x }"],
  ])("%s is a diagnostic, not an exception", (_, src) => {
    expect(() => check(src)).not.toThrow();
  });

  // Layer sizes must be positive: `conv(0)` and `k: 0` used to pass, and `conv(-2)` only failed the spec schema.
  it.each([
    ["conv(0)", "backbone Net()(x: image) { return x + (x |> a: conv(0) |> b: conv(3)) }"],
    ["conv(-2)", "backbone Net()(x: image) { return x + (x |> a: conv(-2) |> b: conv(3)) }"],
    ["conv(3, k: 0)", "backbone Net()(x: image) { return x |> a: conv(3, k: 0) }"],
  ])("%s is reported as the user's mistake", (_, backbone) => {
    const codes = check(experimentOf(backbone)).diagnostics.map((d) => d.code);
    expect(codes.length).toBeGreaterThan(0);
    expect(codes).not.toContain("MIO5001");
  });
});
