import { describe, expect, it } from "vitest";
import { fmix32, hashString } from "../../../compiler/ir/rng.js";
import { dataHash, philox4x32, Rng } from "../../../runtime/data/rng.js";

const hex = (a: Uint32Array) => Array.from(a, (v) => v.toString(16).padStart(8, "0"));

describe("philox4x32-10", () => {
  it("matches the Random123 known-answer tests", () => {
    expect(hex(philox4x32([0, 0, 0, 0], [0, 0]))).toEqual(["6627e8d5", "e169c58d", "bc57ac4c", "9b00dbd8"]);
    const ones = 0xffffffff;
    expect(hex(philox4x32([ones, ones, ones, ones], [ones, ones]))).toEqual([
      "408f276d",
      "41c83b0e",
      "a20bc7c6",
      "6d5451fd",
    ]);
    expect(hex(philox4x32([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0]))).toEqual([
      "d16cfe09",
      "94fdcceb",
      "5001e420",
      "24126ea1",
    ]);
  });
});

describe("hashString and dataHash", () => {
  it("hashString is FNV-1a, with pinned values: they seed parameter init (tests/fixtures/compiler)", () => {
    const hex8 = (h: number) => h.toString(16).padStart(8, "0");
    // FNV-1a's published test vectors ("" is the offset basis).
    expect(["", "a", "foobar"].map((s) => hex8(hashString(s)))).toEqual(["811c9dc5", "e40c292c", "bf9cf968"]);
    expect(hashString("conv.weight", 1)).not.toBe(hashString("conv.weight", 2));
    expect(hashString("conv.weight", 0x811c9dc5)).toBe(hashString("conv.weight"));
  });

  it("dataHash is hashString then fmix32, with pinned values: they name every data stream and cache key", () => {
    const hex8 = (s: string) => dataHash(s).toString(16).padStart(8, "0");
    expect(["", "rain", "sample", "degrade", '{"a":1}'].map(hex8)).toEqual([
      "ab3e7c0b",
      "8444964d",
      "195613ef",
      "8b37c2a4",
      "09a19045",
    ]);
    for (const s of ["", "rain", "x:stage:1"]) expect(dataHash(s)).toBe(fmix32(hashString(s)));
  });
});

describe("Rng", () => {
  it("is reproducible, and streams and seeds differ", () => {
    const a = Rng.create(42, 1, 2);
    const b = Rng.create(42, 1, 2);
    const xs = Array.from({ length: 10 }, () => a.u32());
    expect(Array.from({ length: 10 }, () => b.u32())).toEqual(xs);
    expect(Array.from({ length: 10 }, () => Rng.create(43, 1, 2).u32())).not.toEqual(xs);
    expect(Rng.create(42, 1, 3).u32()).not.toBe(xs[0]);
    expect(Rng.create(42).fork(1, 2).u32()).not.toBe(Rng.create(42).fork(2, 1).u32());
    expect(dataHash("rain")).not.toBe(dataHash("haze"));
  });

  it("resumes exactly from its serialised state, including a pending normal", () => {
    const a = Rng.create(7, dataHash("x"));
    a.u32();
    a.normal(); // leaves the spare of the Box–Muller pair pending
    const s = JSON.parse(JSON.stringify(a.state()));
    const b = Rng.fromState(s);
    for (let i = 0; i < 20; i++) expect(b.normal()).toBe(a.normal());
    expect(b.float()).toBe(a.float());
  });

  it("has uniform, integer and normal draws with the right moments", () => {
    const r = Rng.create(1);
    const n = 200_000;
    let s = 0;
    let s2 = 0;
    let m = 0;
    let m2 = 0;
    let lo = 1;
    let hi = 0;
    const counts = new Array(7).fill(0);
    for (let i = 0; i < n; i++) {
      const u = r.float();
      lo = Math.min(lo, u);
      hi = Math.max(hi, u);
      m += u;
      m2 += u * u;
      const g = r.normal();
      s += g;
      s2 += g * g;
      counts[r.int(-3, 3) + 3]++;
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThan(1);
    expect(m / n).toBeCloseTo(0.5, 2);
    expect(m2 / n - (m / n) ** 2).toBeCloseTo(1 / 12, 2);
    expect(s / n).toBeCloseTo(0, 2);
    expect(s2 / n).toBeCloseTo(1, 2);
    for (const c of counts) expect(Math.abs(c / n - 1 / 7)).toBeLessThan(0.005);
  });
});

describe("Rng.fillNormal", () => {
  it("fills standard normals (moments, tails) reproducibly", () => {
    const z = new Float64Array(400_001);
    Rng.create(8).fillNormal(z);
    let s = 0;
    let s2 = 0;
    let s4 = 0;
    let beyond2 = 0;
    for (const v of z) {
      s += v;
      s2 += v * v;
      s4 += v ** 4;
      if (Math.abs(v) > 2) beyond2++;
    }
    const n = z.length;
    // Bounds at ~4.5 standard errors for n = 400k.
    expect(Math.abs(s / n)).toBeLessThan(0.007);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.01);
    expect(s4 / n).toBeGreaterThan(2.9); // a normal's kurtosis is 3
    expect(s4 / n).toBeLessThan(3.1);
    expect(beyond2 / n).toBeCloseTo(0.0455, 2);
    const again = new Float64Array(400_001);
    Rng.create(8).fillNormal(again);
    expect(Buffer.from(again.buffer).equals(Buffer.from(z.buffer))).toBe(true);
  });
});
