import type { ScenarioRow } from "./results.js";

export interface TargetCheck {
  target: string;
  measured: string;
  met: boolean | null;
}

const find = (rows: ScenarioRow[], scenario: ScenarioRow["scenario"], target: string, proto: string, sessions: number) =>
  rows.find((r) => r.scenario === scenario && r.target === target && r.proto === proto && r.sessions === sessions && !r.notRun);
const ms = (us: number | undefined) => (us === undefined ? "n/a" : `${(us / 1000).toFixed(2)} ms`);
const pct = (x: number) => `${(x * 100).toFixed(0)} %`;
const kib = (b: number | null | undefined) => (b === null || b === undefined ? "n/a" : `${(b / 1024).toFixed(1)} KiB`);

/** Issue 13's targets for this 2-core machine, judged from one run's rows (benchmark targets, not test assertions). */
export function checkTargets(rows: ScenarioRow[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const [proto, raw] of [["telnet", "raw TCP"], ["ws", "raw ws"]] as const) {
    for (const n of [1, 100, 1000]) {
      const p = find(rows, "throughput", "Portico", proto, n);
      const b = find(rows, "throughput", raw, proto, n);
      if (!p || !b) continue;
      const ratio = p.perSecond! / b.perSecond!;
      checks.push({ target: `${proto} closed-loop throughput, ${n} sessions ≥ 60 % of ${raw}`, measured: `${Math.round(p.perSecond!)} vs ${Math.round(b.perSecond!)}/s = ${pct(ratio)}`, met: ratio >= 0.6 });
      const pc = p.cpuUsPerMsg?.portal;
      const bc = b.cpuUsPerMsg?.server;
      if (pc != null && bc != null) checks.push({ target: `${proto} portal CPU per command, ${n} sessions ≤ 1.5× ${raw} server CPU per message`, measured: `${pc.toFixed(1)} vs ${bc.toFixed(1)} µs = ${(pc / bc).toFixed(2)}×`, met: pc <= 1.5 * bc });
    }
  }
  for (const [n, limit] of [[1000, 2], [10000, 5]] as const) {
    const p = find(rows, "latency", "Portico", "telnet", n);
    if (p?.latency) checks.push({ target: `p99 ≤ ${limit} ms at ${n} × 1/s`, measured: ms(p.latency.p99Us), met: p.latency.p99Us <= limit * 1000 });
  }
  for (const p of rows.filter((r) => r.scenario === "hold" && r.target === "Portico")) {
    const n = p.sessions;
    if (p.notRun) checks.push({ target: `≤ 8 KB portal memory per idle session (${n})`, measured: `not run: ${p.notRun}`, met: null });
    const b = p.bytesPerSession;
    if (b) checks.push({ target: `≤ 8 KB portal memory per idle session (${n})`, measured: `RSS ${kib(b.portalRss)}, V8 heap ${kib(b.portalHeapUsed)}`, met: b.portalRss != null ? b.portalRss <= 8000 : null });
  }
  const r = find(rows, "reload", "Portico", "telnet", 1000);
  if (r?.ms) checks.push({ target: "reload of 1 000: 0 lost, all answered within 1 s", measured: `lost ${r.lost}, all answered ${r.ms.allAnswered!.toFixed(0)} ms after \`portico reload\` was started`, met: r.lost === 0 && r.ms.allAnswered! <= 1000 });
  const f = find(rows, "fanout", "Portico", "telnet", 1000);
  if (f?.ms) checks.push({ target: "fan-out to 1 000 within 20 ms", measured: `last receiver ${f.ms.lastMedian!.toFixed(1)} ms (median of rounds), ${f.lost} lines not received`, met: f.lost === 0 && f.ms.lastMedian! <= 20 });
  const b = find(rows, "burst", "Portico", "telnet", 5000);
  if (b?.ms) checks.push({ target: "all 5 000 burst connections served within 2 s", measured: `${b.ms.allBanners!.toFixed(0)} ms, ${b.lost} not served`, met: b.lost === 0 && b.ms.allBanners! <= 2000 });
  return checks;
}

export function formatChecks(checks: TargetCheck[]): string {
  return checks.map((c) => `${c.met === null ? "n/a   " : c.met ? "MET   " : "MISSED"} ${c.target}: ${c.measured}`).join("\n");
}
