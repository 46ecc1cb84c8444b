import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { beforeAll, describe, expect, it } from "vitest";
import type { ParamDist, TaskSpec, TestsetSpec } from "../../../compiler/schema/task.js";
import { readImage, writePng } from "../../../runtime/data/image.js";
import {
  buildTestsets,
  DataError,
  degradeFolder,
  listImages,
  MAX_FOLDER_IMAGES,
  taskRecipe,
  testsetsPsnr,
} from "../../../runtime/data/testsets.js";
import { MioRuntimeError } from "../../../runtime/errors.js";
import { mioc } from "../../helpers/cli.js";

const u = (min: number, max: number, decimals?: number): ParamDist => ({ dist: "uniform", min, max, decimals });
/** The seven tasks with the reference's ranges (the stdlib's own table is exercised through the CLI below). */
const TASKS: TaskSpec[] = [
  {
    name: "sr",
    title: "SR",
    inDist: { fn: "bicubic_down_up", params: { scale: { dist: "const", value: 4 } } },
    outDist: { fn: "bicubic_down_up", params: { scale: { dist: "const", value: 6 } } },
  },
  {
    name: "noise",
    title: "Noise",
    inDist: { fn: "gaussian_noise", params: { sigma: u(15, 50, 0) } },
    outDist: { fn: "gaussian_noise", params: { sigma: u(50, 70, 0) } },
  },
  {
    name: "haze",
    title: "Haze",
    inDist: { fn: "haze", params: { atmosphere: u(0.8, 1, 2), beta: u(0.5, 2.5, 2) } },
    outDist: { fn: "haze", params: { atmosphere: u(0.8, 1, 2), beta: u(2.5, 3, 2) } },
  },
];

/** An Unknown testset of two steps: a motion blur, then noise. */
const SHAKY: TestsetSpec = {
  name: "shaky",
  title: "Shaky",
  standsFor: "a test",
  degrade: [
    { fn: "motion_blur", params: { length: { dist: "odd", min: 5, max: 9 }, angle: u(0, 180) } },
    { fn: "gaussian_noise", params: { sigma: u(2, 6, 0) } },
  ],
};

const root = mkdtempSync(join(tmpdir(), "mio-testsets-"));
const src = join(root, "src");

async function photo(path: string, w: number, h: number, phase: number) {
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) {
    const x = i % w;
    const y = Math.floor(i / w);
    for (let c = 0; c < 3; c++) data[3 * i + c] = Math.round(120 + 90 * Math.sin(x / 7 + phase + c) * Math.cos(y / 11));
  }
  await writePng(path, { width: w, height: h, data });
}

beforeAll(async () => {
  const { mkdirSync } = await import("node:fs");
  mkdirSync(src);
  await photo(join(src, "p1.png"), 70, 50, 0);
  await photo(join(src, "p2.png"), 64, 48, 1);
  // p2 has a depth map: 16-bit, a quarter of the size, farther at the bottom (the prior would say the top).
  const d = new Uint16Array(16 * 12);
  for (let y = 0; y < 12; y++) d.fill(1000 + 5000 * y, y * 16, y * 16 + 16);
  await sharp(d, { raw: { width: 16, height: 12, channels: 1 } })
    .toColourspace("grey16")
    .png()
    .toFile(join(src, "p2.depth.png"));
  writeFileSync(join(src, "notes.txt"), "not an image");
});

function files(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name), join(rel, e.name));
      else out.set(join(rel, e.name), readFileSync(join(d, e.name)));
    }
  };
  walk(dir, "");
  return out;
}

describe("test sets", () => {
  it("lists images only, and names a missing or empty folder", async () => {
    expect((await listImages(src)).map((p) => p.slice(src.length + 1))).toEqual(["p1.png", "p2.png"]);
    await expect(listImages(join(root, "nope"))).rejects.toThrow(/does not exist/);
    const { mkdirSync } = await import("node:fs");
    mkdirSync(join(root, "empty"));
    await expect(listImages(join(root, "empty"))).rejects.toThrow(/has no PNG/);
  });

  it("builds GT + in/out folders per task with a manifest; same seed → same bytes, with or without workers", async () => {
    const a = join(root, "a");
    const m = await buildTestsets(src, a, { tasks: TASKS, testsets: [SHAKY], seed: 9 });
    expect(m.sets.map((s) => s.folder)).toEqual([
      "indist/sr",
      "outdist/sr",
      "indist/noise",
      "outdist/noise",
      "indist/haze",
      "outdist/haze",
      "unknown/shaky",
    ]);
    // A testset's steps each draw their own parameters, recorded per image in order.
    const shaky = m.sets.find((s) => s.folder === "unknown/shaky");
    expect(shaky?.dist).toBe("unknown");
    expect(shaky?.steps.map((st) => st.fn)).toEqual(["motion_blur", "gaussian_noise"]);
    for (const im of shaky?.images ?? []) {
      expect(Object.keys(im.params[0] ?? {}).sort()).toEqual(["angle", "length"]);
      expect([5, 7, 9]).toContain(im.params[0]?.length);
      expect(im.params[1]?.sigma).toBeGreaterThanOrEqual(2);
    }
    const gt1 = await readImage(join(a, "GT", "p1.png"));
    expect([gt1.width, gt1.height]).toEqual([68, 48]); // cropped to multiples of 4
    for (const s of m.sets) {
      for (const im of s.images) {
        const lq = await readImage(join(a, s.folder, im.file));
        const gt = await readImage(join(a, "GT", im.file));
        expect([lq.width, lq.height]).toEqual([gt.width, gt.height]);
      }
    }
    const noiseIn = m.sets.find((s) => s.folder === "indist/noise");
    for (const im of noiseIn?.images ?? []) {
      expect(im.params[0]?.sigma).toBeGreaterThanOrEqual(15);
      expect(im.params[0]?.sigma).toBeLessThanOrEqual(50);
      expect(Number.isInteger(im.params[0]?.sigma)).toBe(true);
    }
    const hazeOut = m.sets.find((s) => s.folder === "outdist/haze");
    expect(hazeOut?.images.map((i) => i.depth)).toEqual([
      "prior:vertical-darkchannel-v1",
      `file:${join(src, "p2.depth.png")}`,
    ]);
    expect(hazeOut?.images.every((i) => (i.params[0]?.beta ?? 0) >= 2.5)).toBe(true);
    expect(JSON.parse(readFileSync(join(a, "manifest.json"), "utf8"))).toEqual(m);

    const b = join(root, "b");
    await buildTestsets(src, b, { tasks: TASKS, testsets: [SHAKY], seed: 9, workers: 2 });
    const fa = files(a);
    const fb = files(b);
    expect([...fb.keys()].sort()).toEqual([...fa.keys()].sort());
    for (const [k, v] of fa) if (k !== "manifest.json") expect(v.equals(fb.get(k) ?? Buffer.alloc(0)), k).toBe(true);

    const c = join(root, "c");
    await buildTestsets(src, c, { tasks: TASKS, seed: 10 });
    expect(readFileSync(join(c, "indist/noise/p1.png")).equals(fa.get("indist/noise/p1.png") ?? Buffer.alloc(0))).toBe(
      false,
    );

    const rows = await testsetsPsnr(a);
    expect(rows).toHaveLength(7);
    const p = (folder: string) =>
      rows.find((r) => `${r.dist === "in" ? "indist" : "outdist"}/${r.task}` === folder)?.psnr ?? 0;
    // Harder out-of-distribution levels lose more.
    expect(p("outdist/noise")).toBeLessThan(p("indist/noise"));
    expect(p("outdist/haze")).toBeLessThan(p("indist/haze"));
  });

  it("degrades one folder with one task; a corrupt image fails naming it", async () => {
    const out = join(root, "dg");
    const noise = TASKS[1] as TaskSpec;
    const m = await degradeFolder(src, out, { recipe: taskRecipe(noise, "out"), seed: 1 });
    expect(m.images.map((i) => i.file)).toEqual(["p1.png", "p2.png"]);
    expect((await readImage(join(out, "p1.png"))).width).toBe(70); // sizes are kept
    expect(readdirSync(out).sort()).toEqual(["manifest.json", "p1.png", "p2.png"]);
    const bad = join(root, "bad");
    const { mkdirSync } = await import("node:fs");
    mkdirSync(bad);
    writeFileSync(join(bad, "x.png"), "garbage");
    await photo(join(bad, "y.png"), 20, 20, 3);
    for (const workers of [0, 2]) {
      const run = degradeFolder(bad, join(root, `dg-${workers}`), {
        recipe: taskRecipe(noise, "in"),
        seed: 1,
        workers,
      });
      await expect(run).rejects.toThrow(`cannot read image '${join(bad, "x.png")}'`);
      await expect(run).rejects.toBeInstanceOf(MioRuntimeError); // a user's problem: the CLI prints it without a stack
    }
  });
});

// A pipe or device named like an image used to hang the run (reading it never ends); now nothing reads it.
describe("sources are regular files: nothing hangs", () => {
  const noise = TASKS[1] as TaskSpec;
  it("refuses a pipe or a device as the source, or in the source folder, before reading anything", {
    timeout: 5000,
  }, async () => {
    const dir = join(root, "special");
    mkdirSync(dir);
    await photo(join(dir, "a.png"), 20, 16, 0);
    execFileSync("mkfifo", [join(dir, "b.png")]);
    symlinkSync("/dev/zero", join(dir, "c.png"));
    await expect(listImages(dir)).rejects.toThrow(`'${join(dir, "b.png")}' is not a regular file`);
    await expect(
      degradeFolder(dir, join(root, "special-out"), { recipe: taskRecipe(noise, "in"), seed: 1 }),
    ).rejects.toThrow(DataError);
    await expect(buildTestsets(dir, join(root, "special-ts"), { tasks: TASKS, seed: 1 })).rejects.toThrow(
      /is not a regular file/,
    );
    for (const p of [join(dir, "b.png"), join(dir, "c.png"), "/dev/zero"])
      await expect(listImages(p)).rejects.toThrow(`'${p}' is not a file or a folder (a pipe, device or socket)`);
    expect(existsSync(join(root, "special-out"))).toBe(false);
  });

  it("the image reader refuses pipes, devices, folders and empty files by their stat", { timeout: 5000 }, async () => {
    const dir = join(root, "special-read");
    mkdirSync(dir);
    execFileSync("mkfifo", [join(dir, "fifo.png")]);
    writeFileSync(join(dir, "empty.png"), "");
    mkdirSync(join(dir, "folder.png"));
    const cases: [string, string][] = [
      [join(dir, "fifo.png"), "not a regular file (a pipe, device or socket)"],
      ["/dev/zero", "not a regular file (a pipe, device or socket)"],
      [join(dir, "empty.png"), "the file is empty"],
      [join(dir, "folder.png"), "it is a folder"],
    ];
    for (const [path, why] of cases)
      await expect(readImage(path)).rejects.toThrow(`cannot read image '${path}': ${why}`);
  });

  it("refuses a folder of more images than the limit, and names it", async () => {
    await expect(listImages(src, 1)).rejects.toThrow(`'${src}' has more than 1 images`);
    expect(MAX_FOLDER_IMAGES).toBe(100_000);
    expect(await listImages(src, 2)).toEqual([join(src, "p1.png"), join(src, "p2.png")]);
  });

  it("mioc degrade of a pipe, a device or a folder holding one: exit 1 naming it, without a stack", {
    timeout: 20_000,
  }, () => {
    const fifo = join(root, "cli-fifo.png");
    execFileSync("mkfifo", [fifo]);
    for (const source of [fifo, "/dev/zero", join(root, "special")]) {
      const r = mioc(["degrade", "--task", "noise", "--workers", "0", source, join(root, "cli-special-out")]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/is not a (regular file|file or a folder)/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});

describe("nothing is lost: outputs never overwrite the sources and appear whole", () => {
  const noise = TASKS[1] as TaskSpec;
  /** A fresh source folder of two images, and a snapshot of its bytes. */
  async function sources(name: string) {
    const dir = join(root, name);
    mkdirSync(dir);
    await photo(join(dir, "s1.png"), 24, 20, 0);
    await photo(join(dir, "s2.png"), 20, 16, 1);
    return { dir, before: files(dir) };
  }
  const same = (a: Map<string, Buffer>, b: Map<string, Buffer>) =>
    expect([...b].map(([k, v]) => [k, v.toString("hex")])).toEqual([...a].map(([k, v]) => [k, v.toString("hex")]));

  it("refuses the source folder, a folder holding it, a folder inside it, and (symlinked) aliases of them", async () => {
    const { dir, before } = await sources("own");
    symlinkSync(dir, join(root, "own-link"));
    const outs: [string, RegExp][] = [
      [dir, /is the source folder/],
      [join(root, "own-link"), /is the source folder/],
      [root, /contains the source folder/],
      [join(dir, "noisy"), /is inside the source folder/],
      [join(root, "own-link", "noisy"), /is inside the source folder/],
    ];
    for (const [out, msg] of outs) {
      await expect(degradeFolder(dir, out, { recipe: taskRecipe(noise, "in"), seed: 1 })).rejects.toThrow(msg);
      await expect(buildTestsets(dir, out, { tasks: TASKS, seed: 1 })).rejects.toThrow(msg);
    }
    await expect(degradeFolder(join(dir, "s1.png"), dir, { recipe: taskRecipe(noise, "in"), seed: 1 })).rejects.toThrow(
      /is the folder of the source image/,
    );
    same(before, files(dir));
    expect(existsSync(join(dir, "noisy"))).toBe(false);
  });

  it("a build that fails halfway leaves no output folder (nor its hidden partial one); a re-run replaces a previous output", async () => {
    const { dir } = await sources("half");
    writeFileSync(join(dir, "s3.png"), "garbage"); // the third image fails after two were written
    const parent = join(root, "half-out");
    for (const workers of [0, 2]) {
      const out = join(parent, `o${workers}`);
      await expect(degradeFolder(dir, out, { recipe: taskRecipe(noise, "in"), seed: 1, workers })).rejects.toThrow(
        /cannot read image/,
      );
      await expect(buildTestsets(dir, out, { tasks: TASKS, seed: 1, workers })).rejects.toThrow(/cannot read image/);
      expect(existsSync(out)).toBe(false);
    }
    expect(readdirSync(parent)).toEqual([]);

    const { dir: good } = await sources("rerun");
    const out = join(root, "rerun-out");
    await degradeFolder(good, out, { recipe: taskRecipe(noise, "in"), seed: 1 });
    const first = files(out);
    await degradeFolder(good, out, { recipe: taskRecipe(noise, "in"), seed: 1 });
    same(first, files(out));
    await degradeFolder(good, out, { recipe: taskRecipe(noise, "in"), seed: 2 }); // replaced whole, with its manifest
    expect(JSON.parse(readFileSync(join(out, "manifest.json"), "utf8")).seed).toBe(2);
    const ts = join(root, "rerun-ts");
    await buildTestsets(good, ts, { tasks: TASKS, seed: 1 });
    await buildTestsets(good, ts, { tasks: TASKS, seed: 1 });
    expect(readdirSync(root).filter((n) => n.includes(".partial-") || n.includes(".old-"))).toEqual([]);
  });

  it("refuses to replace a folder holding files it did not write", async () => {
    const { dir } = await sources("mixed");
    const out = join(root, "mixed-out");
    mkdirSync(out);
    writeFileSync(join(out, "mine.txt"), "keep me");
    await expect(degradeFolder(dir, out, { recipe: taskRecipe(noise, "in"), seed: 1 })).rejects.toThrow(
      /not empty and holds no manifest/,
    );
    await degradeFolder(dir, join(root, "mixed-ok"), { recipe: taskRecipe(noise, "in"), seed: 1 });
    writeFileSync(join(root, "mixed-ok", "mine.txt"), "keep me");
    await expect(
      degradeFolder(dir, join(root, "mixed-ok"), { recipe: taskRecipe(noise, "in"), seed: 1 }),
    ).rejects.toThrow(/files no previous build wrote \(mine.txt\)/);
    expect(readFileSync(join(out, "mine.txt"), "utf8")).toBe("keep me");
    expect(readFileSync(join(root, "mixed-ok", "mine.txt"), "utf8")).toBe("keep me");
  });
});

describe("mioc degrade / testsets (stdlib tasks)", () => {
  it("degrades a folder and writes a manifest; the same seed gives the same bytes", () => {
    const o1 = join(root, "cli1");
    const o2 = join(root, "cli2");
    for (const o of [o1, o2]) {
      const r = mioc(["degrade", "--task", "rain", "--dist", "in", "--seed", "4", src, o]);
      expect(r.code, r.stderr).toBe(0);
    }
    const m = JSON.parse(readFileSync(join(o1, "manifest.json"), "utf8"));
    expect(m.task).toBe("rain");
    for (const im of m.images) {
      expect(im.params[0]?.amount).toBeGreaterThanOrEqual(50);
      expect(im.params[0]?.amount).toBeLessThanOrEqual(99);
      expect([3, 5, 7, 9, 11]).toContain(im.params[0]?.width);
    }
    expect(readFileSync(join(o1, "p1.png")).equals(readFileSync(join(o2, "p1.png")))).toBe(true);
  });

  it("builds the 19 test sets and prints their PSNR tables", () => {
    const o = join(root, "cli-ts");
    const r = mioc(["testsets", "build", src, o, "--seed", "2"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("19 test sets of 2 images");
    expect(readdirSync(join(o, "unknown")).sort()).toEqual(["difficult", "mild", "ntire20", "toled", "wild"]);
    expect(readdirSync(join(o, "indist")).sort()).toEqual(["blur", "dark", "haze", "jpeg", "noise", "rain", "sr"]);
    expect(readdirSync(join(o, "outdist")).sort()).toEqual(["blur", "dark", "haze", "jpeg", "noise", "rain", "sr"]);
    const t = mioc(["testsets", "psnr", o]);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/\| In-Dis \| \d+\.\d\d \|/);
    expect(t.stdout).toContain("| set | difficult | mild | wild | ntire20 | toled |");
    expect(t.stdout).toMatch(/\| Unknown \| \d+\.\d\d \|/);
  });

  it("degrades a folder with an Unknown testset, which takes no --dist", () => {
    const o = join(root, "cli-mild");
    const r = mioc(["degrade", "--task", "mild", "--seed", "3", src, o]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("2 images degraded with mild (unknown, seed 3)");
    const m = JSON.parse(readFileSync(join(o, "manifest.json"), "utf8"));
    expect(m.steps.map((s: { fn: string }) => s.fn)).toEqual(["anisotropic_blur", "bicubic_down_up", "gaussian_noise"]);
    expect(m.images[0].params).toHaveLength(3);
    const bad = mioc(["degrade", "--task", "mild", "--dist", "out", src, join(root, "cli-mild2")]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("'mild' is an Unknown testset: it has one recipe and no --dist");
    const typo = mioc(["degrade", "--task", "mildd", src, join(root, "cli-mild3")]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("Unknown testsets (stdlib/unknown.mio): difficult, mild, wild, ntire20, toled");
  });

  it("refuses to write over or inside the sources: exit 2 naming both paths, the originals unchanged", async () => {
    const own = join(root, "cli-own");
    mkdirSync(own);
    await photo(join(own, "a.png"), 24, 20, 0);
    await photo(join(own, "b.png"), 24, 20, 1);
    const before = files(own);
    const cases: string[][] = [
      ["degrade", "--task", "noise", own, own],
      ["degrade", "--task", "noise", join(own, "a.png"), own],
      ["degrade", "--task", "noise", own, join(own, "out")],
      ["degrade", "--task", "noise", own, root],
      ["testsets", "build", own, own],
      ["testsets", "build", own, join(own, "ts")],
    ];
    for (const args of cases) {
      const r = mioc(args);
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(`'${args[args.length - 1]}'`);
      expect(r.stderr).toContain(`'${args[args.length - 2]}'`);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect([...files(own).keys()]).toEqual([...before.keys()]);
    for (const [k, v] of before) expect(files(own).get(k)?.equals(v), k).toBe(true);
  });

  it("rejects bad input with exit 2 and a clear message, without a stack", () => {
    const cases: [string[], RegExp][] = [
      [["degrade", "--task", "fog", src, join(root, "x")], /unknown task 'fog'/],
      [["degrade", "--task", "rain", "--dist", "mid", src, join(root, "x")], /--dist must be 'in' or 'out'/],
      [["degrade", "--task", "rain", "--seed", "1.5", src, join(root, "x")], /--seed must be a non-negative integer/],
      [["degrade", "--task", "rain", join(root, "nope"), join(root, "x")], /does not exist/],
      [["testsets", "build", join(root, "nope"), join(root, "x")], /does not exist/],
      [["degrade", src, join(root, "x")], /--task/],
      [["degrade", "--task", "noise", join(root, "cli-own", "a.png"), join(root, "x.jpg")], /names an image/],
    ];
    for (const [args, msg] of cases) {
      const r = mioc(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
