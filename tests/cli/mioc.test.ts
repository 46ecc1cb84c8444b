import { describe, expect, it } from "vitest";
import { mioc } from "../helpers/cli.js";

describe("mioc", () => {
  it("prints its version and help", () => {
    const v = mioc(["--version"]);
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const h = mioc(["--help"]);
    expect(h.code).toBe(0);
    expect(h.stdout).toContain("doctor");
  });

  it("exits 2 on an unknown command or option", () => {
    expect(mioc(["frobnicate"]).code).toBe(2);
    expect(mioc(["doctor", "--no-such-flag"]).code).toBe(2);
  });

  it("doctor --json reports adapter info, limits and features", () => {
    const r = mioc(["doctor", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.adapter.description).toEqual(expect.any(String));
    expect(report.adapter.vendor).toEqual(expect.any(String));
    expect(typeof report.fallback).toBe("boolean");
    expect(report.backend).toEqual(expect.any(String));
    expect(report.limits.maxStorageBufferBindingSize).toBeGreaterThan(0);
    expect(report.limits.maxComputeInvocationsPerWorkgroup).toBeGreaterThanOrEqual(256);
    expect(Array.isArray(report.features.enabled)).toBe(true);
    expect(report.features.adapter).toEqual(expect.arrayContaining(report.features.enabled));
  });

  it("doctor prints a readable report", () => {
    const r = mioc(["doctor"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/adapter\s+\S+/);
    expect(r.stdout).toMatch(/fallback\s+(yes|no)/);
    expect(r.stdout).toMatch(/maxStorageBufferBindingSize\s+\d+/);
  });

  it("turns a missing adapter into one clear message and exit code 1", () => {
    // No Direct3D 12 on Linux: Dawn has no adapter for this backend.
    for (const r of [mioc(["doctor", "--backend", "d3d12"]), mioc(["doctor"], { MIO_BACKEND: "d3d12" })]) {
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("no WebGPU adapter found");
      expect(r.stderr).toContain("scripts/setup.sh");
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    }
  });
});
