import type { ScenarioRow } from "./results.js";
import type { TargetCheck } from "./summary.js";

const n0 = (v: number | null | undefined) => (v === null || v === undefined ? "n/a" : Math.round(v).toLocaleString("en-US"));
const n1 = (v: number | null | undefined) => (v === null || v === undefined ? "n/a" : v.toFixed(1));
const ms = (us: number | undefined) => (us === undefined ? "n/a" : (us / 1000).toFixed(2));
const kib = (b: number | null | undefined) => (b === null || b === undefined ? "n/a" : (b / 1024).toFixed(1));

/** The run's figures as Markdown tables, each Portico row beside the raw server's (for docs/performance.md). */
export function markdownTables(rows: ScenarioRow[], checks: TargetCheck[]): string {
  const out: string[] = [];
  const raw = (r: ScenarioRow) => rows.find((x) => x.scenario === r.scenario && x.proto === r.proto && x.sessions === r.sessions && x.target.startsWith("raw ") && !x.notRun);
  const portico = (scenario: ScenarioRow["scenario"]) => rows.filter((r) => r.scenario === scenario && r.target === "Portico");

  out.push("### Throughput (closed loop, one command in flight per session)", "",
    "| protocol | sessions | Portico round trips/s | raw round trips/s | Portico / raw | portal CPU µs/cmd | game CPU µs/cmd | raw server CPU µs/msg | generator CPU µs/msg (Portico / raw) | p50 / p99 ms (Portico) | p50 / p99 ms (raw) |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const p of portico("throughput")) {
    const b = raw(p);
    out.push(`| ${p.proto} | ${p.sessions} | ${n0(p.perSecond)} | ${n0(b?.perSecond)} | ${b ? `${((p.perSecond! / b.perSecond!) * 100).toFixed(0)} %` : "n/a"} | ${n1(p.cpuUsPerMsg?.portal)} | ${n1(p.cpuUsPerMsg?.game)} | ${n1(b?.cpuUsPerMsg?.server)} | ${n1(p.cpuUsPerMsg?.generator)} / ${n1(b?.cpuUsPerMsg?.generator)} | ${ms(p.latency?.p50Us)} / ${ms(p.latency?.p99Us)} | ${ms(b?.latency?.p50Us)} / ${ms(b?.latency?.p99Us)} |`);
  }
  out.push("", "### Latency (logged-in telnet sessions, each 1 command/s)", "",
    "| sessions | Portico p50 / p95 / p99 / max ms | raw p50 / p95 / p99 / max ms | lost (Portico / raw) | portal CPU % of a core | game CPU % of a core |",
    "|---:|---:|---:|---:|---:|---:|");
  for (const p of portico("latency")) {
    const b = raw(p);
    const l = (r: ScenarioRow | undefined) => (r?.latency ? `${ms(r.latency.p50Us)} / ${ms(r.latency.p95Us)} / ${ms(r.latency.p99Us)} / ${ms(r.latency.maxUs)}` : "n/a");
    const core = (us: number | null | undefined) => (us === null || us === undefined ? "n/a" : `${((us * p.perSecond!) / 1e4).toFixed(0)} %`);
    out.push(`| ${p.sessions} | ${l(p)} | ${l(b)} | ${p.lost} / ${b?.lost ?? "n/a"} | ${core(p.cpuUsPerMsg?.portal)} | ${core(p.cpuUsPerMsg?.game)} |`);
  }
  out.push("", "### Fan-out (one line to every logged-in session; median of 5 rounds)", "",
    "| sessions | Portico first / last receiver ms | raw first / last receiver ms | Portico worst last ms | lines not received |",
    "|---:|---:|---:|---:|---:|");
  for (const p of portico("fanout")) {
    const b = raw(p);
    out.push(`| ${p.sessions} | ${n1(p.ms?.firstMedian)} / ${n1(p.ms?.lastMedian)} | ${n1(b?.ms?.firstMedian)} / ${n1(b?.ms?.lastMedian)} | ${n1(p.ms?.lastWorst)} | ${p.lost} |`);
  }
  out.push("", "### Hold (idle telnet sessions; memory growth per session)", "",
    "| sessions | portal RSS KiB | portal V8 heap KiB | game RSS KiB | raw server RSS KiB | all banners ms (Portico / raw) |",
    "|---:|---:|---:|---:|---:|---:|");
  for (const p of portico("hold")) {
    const b = raw(p);
    if (p.notRun) out.push(`| ${p.sessions} | not run: ${p.notRun} | | | | |`);
    else out.push(`| ${p.sessions} | ${kib(p.bytesPerSession?.portalRss)} | ${kib(p.bytesPerSession?.portalHeapUsed)} | ${kib(p.bytesPerSession?.gameRss)} | ${kib(b?.bytesPerSession?.serverRss)} | ${n0(p.ms?.allBanners)} / ${n0(b?.ms?.allBanners)} |`);
  }
  out.push("", "### Reload and burst", "");
  for (const p of portico("reload")) {
    const d = p.detail as { answered?: number; notLoggedIn?: number } | undefined;
    out.push(`- **reload**, ${p.sessions} logged-in telnet sessions: ${p.lost} lost, ${d?.notLoggedIn ?? "?"} answered "not logged in", ${d?.answered ?? "?"} answered by the new game; every session's answer ${n0(p.ms?.allAnswered)} ms after \`portico reload\` was started (the CLI exited after ${n0(p.ms?.cliExit)} ms, the last restart notice at ${n0(p.ms?.lastNotice)} ms); no raw baseline (a raw server has no reload).`);
  }
  for (const p of portico("burst")) {
    const b = raw(p);
    const over = (r: ScenarioRow | undefined) => (r?.detail as { over1s?: number; listenOverflows?: number | null } | undefined);
    out.push(`- **burst**, ${p.sessions} telnet connections at once: Portico served all but ${p.lost} in ${n0(p.ms?.allBanners)} ms (banner p50 ${ms(p.latency?.p50Us)} ms, p99 ${ms(p.latency?.p99Us)} ms; ${over(p)?.over1s ?? "?"} waited over 1 s; ListenOverflows +${over(p)?.listenOverflows ?? "?"}); raw server: ${n0(b?.ms?.allBanners)} ms (p99 ${ms(b?.latency?.p99Us)} ms; ListenOverflows +${over(b)?.listenOverflows ?? "?"}).`);
  }
  out.push(...linkTable(rows));
  out.push("", "### Targets", "", "| target | measured | verdict |", "|---|---|---|");
  for (const c of checks) out.push(`| ${c.target} | ${c.measured} | ${c.met === null ? "not measured" : c.met ? "met" : "**missed**"} |`);
  return out.join("\n") + "\n";
}

/** CPU µs per command (or per delivered line) of each process, "portal / game / nats" (the processes a row has). */
const cpuList = (r: ScenarioRow | undefined) => (r?.cpuUsPerMsg ? Object.entries(r.cpuUsPerMsg).filter(([k]) => k !== "generator").map(([k, v]) => `${k} ${n1(v)}`).join(" / ") : "n/a");

/** The "nats" scenarios: the same round trips and fan-out over the TCP link and over NATS, one row per target. */
function linkTable(rows: ScenarioRow[]): string[] {
  const targets = [...new Set(rows.filter((r) => r.target.startsWith("Portico (")).map((r) => r.target))];
  if (targets.length === 0) return [];
  const out = ["", "### The link over NATS (TCP link and NATS link in the same run)", "",
    "| target | closed loop: sessions, round trips/s, p50 / p99 ms | CPU µs/cmd (closed loop) | open loop: sessions × 1/s, p50 / p95 / p99 / max ms, lost | CPU µs/cmd (open loop) | broker msgs/cmd (closed / open loop) | fan-out: sessions, first / last ms (median), worst last, not received | CPU µs per delivered line |",
    "|---|---:|---|---:|---|---:|---:|---|"];
  for (const target of targets) {
    const get = (scenario: ScenarioRow["scenario"]) => rows.find((r) => r.target === target && r.scenario === scenario && !r.notRun);
    const t = get("throughput");
    const l = get("latency");
    const f = get("fanout");
    const link = (r: ScenarioRow | undefined) => (r?.detail?.link as { brokerMsgsPerCommand?: number | null } | undefined)?.brokerMsgsPerCommand;
    out.push(`| ${target} | ${t ? `${t.sessions}: ${n0(t.perSecond)}, ${ms(t.latency?.p50Us)} / ${ms(t.latency?.p99Us)}` : "n/a"} | ${cpuList(t)} | ${l?.latency ? `${l.sessions}: ${ms(l.latency.p50Us)} / ${ms(l.latency.p95Us)} / ${ms(l.latency.p99Us)} / ${ms(l.latency.maxUs)}, ${l.lost}` : "n/a"} | ${cpuList(l)} | ${n1(link(t))} / ${n1(link(l))} | ${f?.ms ? `${f.sessions}: ${n1(f.ms.firstMedian)} / ${n1(f.ms.lastMedian)}, ${n1(f.ms.lastWorst)}, ${f.lost}` : "n/a"} | ${cpuList(f)} |`);
  }
  return out;
}
