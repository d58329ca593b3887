import { expect } from "chai";
import { createServer, type Server, type Socket } from "node:net";
import { latencyChart } from "../../bench/real/latency-chart.js";
import { openClient, sourceAddress } from "../../bench/real/line-clients.js";
import type { ScenarioRow } from "../../bench/real/results.js";
import { checkTargets } from "../../bench/real/summary.js";

const lat = (p99Ms: number) => ({ count: 10, p50Us: 100, p90Us: 200, p95Us: 250, p99Us: p99Ms * 1000, meanUs: 150, maxUs: p99Ms * 2000 });

describe("real-socket bench: pure parts", () => {
  it("spreads source addresses over 127.0.0.0/8, 64 per address, never 127.0.0.1", () => {
    expect(sourceAddress(0)).to.equal("127.1.0.1");
    expect(sourceAddress(63)).to.equal("127.1.0.1");
    expect(sourceAddress(64)).to.equal("127.1.0.2");
    expect(sourceAddress(64 * 255)).to.equal("127.1.1.0");
    const all = new Set(Array.from({ length: 50_000 }, (_, i) => sourceAddress(i)));
    expect(all.size).to.equal(Math.ceil(50_000 / 64));
    for (const a of all) expect(a).to.match(/^127\.\d+\.\d+\.\d+$/).and.not.equal("127.0.0.1");
  });

  it("judges the targets from the rows, and a fan-out with lines not received or a hold not run is never MET", () => {
    const rows: ScenarioRow[] = [
      { scenario: "throughput", target: "raw TCP", proto: "telnet", sessions: 100, perSecond: 1000, cpuUsPerMsg: { server: 10 } },
      { scenario: "throughput", target: "Portico", proto: "telnet", sessions: 100, perSecond: 700, cpuUsPerMsg: { portal: 16 } },
      { scenario: "latency", target: "Portico", proto: "telnet", sessions: 1000, latency: lat(1.5) },
      { scenario: "latency", target: "Portico", proto: "telnet", sessions: 10000, latency: lat(6) },
      { scenario: "fanout", target: "Portico", proto: "telnet", sessions: 1000, ms: { firstMedian: 0, lastMedian: 0, lastWorst: 0 }, lost: 5000 },
      { scenario: "hold", target: "Portico", proto: "telnet", sessions: 50000, notRun: "needs root" },
      { scenario: "hold", target: "Portico", proto: "telnet", sessions: 10000, bytesPerSession: { portalRss: 9000, portalHeapUsed: 5000 } },
      { scenario: "reload", target: "Portico", proto: "telnet", sessions: 1000, lost: 0, ms: { allAnswered: 900 } },
      { scenario: "burst", target: "Portico", proto: "telnet", sessions: 5000, lost: 1, ms: { allBanners: 1500 } },
    ];
    const verdict = Object.fromEntries(checkTargets(rows).map((c) => [c.target, c.met]));
    expect(verdict).to.deep.equal({
      "telnet closed-loop throughput, 100 sessions ≥ 60 % of raw TCP": true,
      "telnet portal CPU per command, 100 sessions ≤ 1.5× raw TCP server CPU per message": false,
      "p99 ≤ 2 ms at 1000 × 1/s": true,
      "p99 ≤ 5 ms at 10000 × 1/s": false,
      "≤ 8 KB portal memory per idle session (50000)": null,
      "≤ 8 KB portal memory per idle session (10000)": false,
      "reload of 1 000: 0 lost, all answered within 1 s": true,
      "fan-out to 1 000 within 20 ms": false,
      "all 5 000 burst connections served within 2 s": false,
    });
  });

  it("draws one p50 and one p99 line per target in the latency chart", () => {
    const rows: ScenarioRow[] = [1000, 10000].flatMap((n) => [
      { scenario: "latency" as const, target: "raw TCP", proto: "telnet" as const, sessions: n, latency: lat(1) },
      { scenario: "latency" as const, target: "Portico", proto: "telnet" as const, sessions: n, latency: lat(3) },
    ]);
    const svg = latencyChart(rows, "a <caption>");
    expect(svg).to.match(/^<svg /).and.include("a &lt;caption&gt;");
    expect(svg.match(/<polyline /g)).to.have.length(4);
    expect(svg).to.include("Portico telnet p99").and.include("raw TCP telnet p50");
  });
});

describe("real-socket bench: the telnet line client", () => {
  let server: Server;
  let peer: Promise<Socket>;
  beforeEach(async () => {
    let accept!: (s: Socket) => void;
    peer = new Promise((r) => (accept = r));
    server = createServer((s) => accept(s));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  });
  afterEach(() => new Promise<void>((r) => server.close(() => r())));

  it("refuses every option, drops subnegotiations and IAC IAC becomes one 0xff, across chunk boundaries", async () => {
    const port = (server.address() as { port: number }).port;
    const client = openClient({ proto: "telnet", host: "127.0.0.1", port });
    const lines: string[] = [];
    client.onLine = (l) => lines.push(l);
    const s = await peer;
    const got: Buffer[] = [];
    s.on("data", (d: Buffer) => got.push(d));
    // IAC DO TTYPE, IAC WILL ECHO, IAC SB GMCP ... IAC SE, IAC IAC, split in awkward places.
    const wire = Buffer.concat([Buffer.from([255, 253, 24, 255, 251, 1]), Buffer.from("he"), Buffer.from([255, 250, 201]), Buffer.from("x y"), Buffer.from([255, 240]), Buffer.from("llo\r\nA"), Buffer.from([255, 255]), Buffer.from("B\r\n")]);
    for (let i = 0; i < wire.length; i += 3) {
      s.write(wire.subarray(i, i + 3));
      await new Promise((r) => setTimeout(r, 2));
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(lines).to.deep.equal(["hello", "A\xffB"]);
    expect(Buffer.concat(got)).to.deep.equal(Buffer.from([255, 252, 24, 255, 254, 1]));
    client.close();
    s.destroy();
  });
});
