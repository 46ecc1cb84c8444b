// `mioc report` as a user runs it (the built CLI; npm test builds first).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { mioc } from "../../helpers/cli.js";
import { removeSyntheticRuns, syntheticRun } from "./synthetic.js";

afterAll(removeSyntheticRuns);

describe("mioc report", () => {
  it("rewrites one run's report and prints its PSNR table", async () => {
    const r = await syntheticRun("seq_prompt");
    const res = mioc(["report", r.dir]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout.split("\n")[0]).toBe("|  | SR | Blur | Noise | JPEG | Rain | Haze | Low-Light | Avg |");
    expect(res.stdout).toContain(
      "| In-Dis | 24.12 ▲ | 25.49 ▲ | 26.86 ▲ | 28.23 ▲ | 29.60 ▲ | 30.97 ▲ | 32.34 ▲ | 28.23 ▲ |",
    );
    expect(res.stdout).toContain("|  | Out-Dis Avg | Difficult | Mild | Wild | Ntire20 | Toled | Unknown Avg |");
    expect(res.stderr).toContain(join(r.dir, "report.md"));
    expect(readFileSync(join(r.dir, "report.html"), "utf8")).toContain("<td>In-Dis</td>");
  });

  it("compares several runs in the paper's two tables and writes them with --out", async () => {
    const runs = [
      await syntheticRun("srresnet_m", { samples: false }),
      await syntheticRun("srresnet_s", { offset: 0.25, samples: false }),
      await syntheticRun("srresnet_s_ep", { offset: 0.5, samples: false }),
      await syntheticRun("srresnet_s_ap", { offset: 0.75, samples: false }),
    ];
    const out = join(mkdtempSync(join(tmpdir(), "mio-cmp-")), "compare.md");
    const res = mioc(["report", ...runs.map((r) => r.dir), "--out", out]);
    expect(res.code, res.stderr).toBe(0);
    const lines = res.stdout.split("\n");
    expect(lines[0]).toBe("| Run | SR | Blur | Noise | JPEG | Rain | Haze | Low-Light | Avg | Ipv. |");
    const rowsOf = ["| input (LQ)", "| srresnet_m", "| srresnet_s", "| srresnet_s_ep", "| srresnet_s_ap"];
    expect(lines.filter((l) => l.startsWith("| ")).map((l) => l.split(" | ")[0])).toEqual([
      ...["| Run", "| ---", ...rowsOf],
      ...["| Run", "| ---", ...rowsOf],
      // The paper's rows for these recipes: Table 3 with its Out-Dis average, then Table 4's Unknown sets.
      ...["| ", "| ---", ...["M", "S", "S+EP", "S+AP"].map((v) => `| SRResNet-${v} (paper)`)],
      ...["| ", "| ---", ...["M", "S+EP", "S+AP"].map((v) => `| SRResNet-${v} (paper)`)],
    ]);
    expect(res.stdout).toContain(
      "| Run | Out-Dis Avg | Ipv. | Difficult | Mild | Wild | Ntire20 | Toled | Unknown Avg | Ipv. |",
    );
    // The last run is the best everywhere: bold.
    expect(res.stdout).toMatch(/\| srresnet_s_ap \| \*\*24\.87\*\* .* \+0\.75 \|/);
    expect(readFileSync(out, "utf8")).toBe(res.stdout);
    rmSync(join(out, ".."), { recursive: true });
  });

  it("--out replaces only a table it wrote: never an input, another file or a run's report.md", async () => {
    const runs = [
      await syntheticRun("srresnet_m", { samples: false }),
      await syntheticRun("srresnet_s", { offset: 0.25, samples: false }),
    ];
    const dirs = runs.map((r) => r.dir);
    expect(mioc(["report", dirs[0] ?? ""]).code).toBe(0); // writes the first run's report.md
    const tmp = mkdtempSync(join(tmpdir(), "mio-cmp-out-"));
    const notes = join(tmp, "notes.md");
    writeFileSync(notes, "# my notes\n");
    for (const [out, message] of [
      [notes, `--out '${notes}' exists and is not a table 'mioc report' wrote`],
      [join(runs[0]?.dir ?? "", "report.md"), "exists and is not a table 'mioc report' wrote"],
      [join(runs[0]?.dir ?? "", "spec.json"), "must be a .md file"],
      [tmp, "must be a .md file"],
    ] as const) {
      const before = (() => {
        try {
          return readFileSync(out, "utf8");
        } catch {
          return undefined;
        }
      })();
      const res = mioc(["report", ...dirs, "--out", out]);
      expect(res.code, res.stderr).toBe(2);
      expect(res.stderr).toContain(message);
      expect(res.stderr).not.toMatch(/\n\s+at /);
      if (before !== undefined) expect(readFileSync(out, "utf8")).toBe(before);
    }
    // A table it wrote is replaced: the same command twice.
    const out = join(tmp, "compare.md");
    expect(mioc(["report", ...dirs, "--out", out]).code).toBe(0);
    const again = mioc(["report", ...dirs, "--out", out]);
    expect(again.code, again.stderr).toBe(0);
    expect(readFileSync(out, "utf8")).toBe(again.stdout);
    rmSync(tmp, { recursive: true });
  });

  it("exits 2 naming a missing folder, or the file a folder lacks", async () => {
    const good = await syntheticRun("srresnet_m", { samples: false });
    const missing = join(tmpdir(), "mio-no-such-run");
    const res = mioc(["report", good.dir, missing]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(`run folder '${missing}': does not exist`);
    expect(res.stderr).not.toMatch(/\n\s+at /);
    const empty = mkdtempSync(join(tmpdir(), "mio-empty-run-"));
    const res2 = mioc(["report", empty]);
    expect(res2.code).toBe(2);
    expect(res2.stderr).toContain(`run folder '${empty}': spec.json is missing`);
    rmSync(empty, { recursive: true });
  });
});
