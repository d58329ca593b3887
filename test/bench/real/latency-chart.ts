import type { ScenarioRow } from "./results.js";

/** An SVG line chart of p50 and p99 latency against load (sessions × 1 command/s), log-scaled x. */
export function latencyChart(rows: ScenarioRow[], caption: string): string {
  const series = new Map<string, { x: number; p50: number; p99: number }[]>();
  for (const r of rows) {
    if (r.scenario !== "latency" || !r.latency) continue;
    const key = `${r.target} ${r.proto}`;
    series.set(key, [...(series.get(key) ?? []), { x: r.sessions, p50: r.latency.p50Us / 1000, p99: r.latency.p99Us / 1000 }]);
  }
  const W = 720, H = 420, L = 70, R = 200, T = 40, B = 60;
  const xs = [...new Set([...series.values()].flat().map((p) => p.x))].sort((a, b) => a - b);
  const yMax = niceCeiling(Math.max(1, ...[...series.values()].flat().map((p) => p.p99)));
  const lx = (x: number) => L + ((Math.log10(x) - Math.log10(xs[0] ?? 1)) / Math.max(1e-9, Math.log10(xs[xs.length - 1] ?? 10) - Math.log10(xs[0] ?? 1))) * (W - L - R);
  const ly = (y: number) => H - B - (y / yMax) * (H - T - B);
  const colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"];
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${L}" y="20" font-size="14">${esc(caption)}</text>`,
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="black"/>`,
    `<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="black"/>`,
    `<text x="${(L + W - R) / 2}" y="${H - 15}" text-anchor="middle">logged-in telnet sessions, each sending 1 command/s</text>`,
    `<text x="18" y="${(T + H - B) / 2}" text-anchor="middle" transform="rotate(-90 18 ${(T + H - B) / 2})">round trip, ms</text>`,
  ];
  for (const x of xs) out.push(`<line x1="${lx(x)}" y1="${H - B}" x2="${lx(x)}" y2="${H - B + 5}" stroke="black"/><text x="${lx(x)}" y="${H - B + 18}" text-anchor="middle">${x.toLocaleString("en-US")}</text>`);
  for (let i = 0; i <= 5; i += 1) {
    const y = (yMax * i) / 5;
    out.push(`<line x1="${L - 5}" y1="${ly(y)}" x2="${W - R}" y2="${ly(y)}" stroke="#ddd"/><text x="${L - 8}" y="${ly(y) + 4}" text-anchor="end">${y.toFixed(y < 10 ? 1 : 0)}</text>`);
  }
  let legendY = T + 10;
  [...series.entries()].forEach(([name, points], i) => {
    const colour = colours[i % colours.length]!;
    points.sort((a, b) => a.x - b.x);
    for (const [key, dash] of [["p99", ""], ["p50", ' stroke-dasharray="5,4"']] as const) {
      out.push(`<polyline fill="none" stroke="${colour}" stroke-width="2"${dash} points="${points.map((p) => `${lx(p.x).toFixed(1)},${ly(p[key]).toFixed(1)}`).join(" ")}"/>`);
      for (const p of points) out.push(`<circle cx="${lx(p.x).toFixed(1)}" cy="${ly(p[key]).toFixed(1)}" r="3" fill="${colour}"/>`);
      out.push(`<line x1="${W - R + 15}" y1="${legendY}" x2="${W - R + 45}" y2="${legendY}" stroke="${colour}" stroke-width="2"${dash}/><text x="${W - R + 50}" y="${legendY + 4}">${esc(`${name} ${key}`)}</text>`);
      legendY += 20;
    }
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}

function niceCeiling(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
