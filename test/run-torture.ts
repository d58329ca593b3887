/**
 * `npm run torture`: the long form (PORTICO_TORTURE=long) of every test/torture/*.test.ts, each in
 * its own process (so memory figures are the target's own), then one table of what each target
 * reported through test/support/torture.ts (cases, time, memory, canary round trips). Arguments
 * select files by substring (`npm run torture -- fuzz-link`); PORTICO_FUZZ_SEED replays a seed;
 * PORTICO_TORTURE=short runs the short forms instead.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { formatSummary, type TortureSummary } from "./support/torture.js";

const here = dirname(fileURLToPath(import.meta.url));
const dir = join(here, "torture");
const mocha = join(here, "..", "..", "node_modules", "mocha", "bin", "mocha.js");
const filters = process.argv.slice(2);
// *.torture.js files are long-only (not in npm test): they need what the suite cannot assume (root, namespaces).
const files = readdirSync(dir).filter((f) => (f.endsWith(".test.js") || f.endsWith(".torture.js")) && (filters.length === 0 || filters.some((x) => f.includes(x)))).sort();
if (files.length === 0) {
  console.error(`no torture files in ${dir}${filters.length > 0 ? ` matching ${filters.join(", ")}` : ""}`);
  process.exit(1);
}
if (!existsSync(mocha)) {
  console.error(`mocha not found at ${mocha}; run npm install`);
  process.exit(1);
}

const work = mkdtempSync(join(tmpdir(), "portico-torture-run-"));
const reportFile = join(work, "report.jsonl");
const form = process.env.PORTICO_TORTURE ?? "long";
const results: { file: string; code: number | null; seconds: number }[] = [];
console.log(`torture (${form} form): ${files.join(", ")}`);
for (const file of files) {
  console.log(`\n=== ${file}`);
  const t0 = Date.now();
  const run = spawnSync(process.execPath, [mocha, "--no-config", "-r", "reflect-metadata", "--enable-source-maps", "--timeout", "900000", "--reporter", "spec", join(dir, file)], {
    stdio: "inherit",
    env: { ...process.env, PORTICO_TORTURE: form, PORTICO_TORTURE_REPORT: reportFile },
  });
  results.push({ file, code: run.status, seconds: Math.round((Date.now() - t0) / 100) / 10 });
}

const summaries: TortureSummary[] = existsSync(reportFile)
  ? readFileSync(reportFile, "utf8").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as TortureSummary)
  : [];
rmSync(work, { recursive: true, force: true });
console.log(`\n=== torture summary (${form} form)`);
for (const s of summaries) console.log(`${s.target.padEnd(42)} seed ${s.seed}: ${formatSummary(s)}`);
for (const r of results) console.log(`${r.file.padEnd(42)} ${r.code === 0 ? "passed" : `FAILED (exit ${r.code})`} in ${r.seconds} s`);
process.exit(results.every((r) => r.code === 0) ? 0 : 1);
