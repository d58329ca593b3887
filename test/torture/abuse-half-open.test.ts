import { expect } from "chai";
import type { Socket } from "node:net";
import { performance } from "node:perf_hooks";
import type { WebSocket } from "ws";
import { sleep, waitFor } from "../../core/testing/wait-for.js";
import {
  LONG, MB, RawConn, TelnetPlayer, TorturePortal, WebPlayer, addressAt, canary, fdLimit, listeners, mb, percentile, pool, report, scale, webStatus,
} from "./abuse-support.js";

// Issue 13, item 3, abuse: "10 000 half-open connections". What loopback allows without touching the
// host's firewall: connections that complete TCP and then never send a byte (nor read one), from
// addresses spread over 127.0.0.0/8 (no ephemeral-port exhaustion):
// - telnet: silent connections. Each one is a session (the banner and option offers wait unread);
// - websocket, upgraded, then silent and not reading (a tab whose machine vanished, as far as the
//   application can tell: its pings go unanswered);
// - websocket port, never upgraded (long form only: Node's headersTimeout, 60 s, is what reaps them,
//   and the listener does not let a test shorten it).
// The throttle is off (limits.maxConnectionRate 0) so every connection becomes a session at once: the
// worst case for the portal. A logged-in canary pings throughout. Asserted: the canary keeps its answers,
// the portal's memory per connection stays small and does not grow while they sit, and each kind is
// cleaned up by what is supposed to: the websocket ping timeout then resumeGraceMs, Node's
// headersTimeout, and for silent telnet connections, the peer's going (nothing in Portico reaps a live
// silent telnet connection; docs/security.md leaves per-address connection caps to the firewall). After
// that the portal is back to its baseline: sessions, file descriptors, heap after GC.

const TELNET_N = scale(600, 8000);
const WS_N = scale(200, 1000); // upgraded, then silent
const RAW_WEB_N = scale(0, 1000); // never upgraded (long form only)
const PING_MS = scale(1000, 25_000);
const GRACE_MS = scale(2000, 60_000);
const HOLD_MS = scale(3000, 35_000); // long: past one telnet keepalive (IAC NOP every 30 s)
const HEADERS_MS = 60_000 + 30_000 + 5000; // Node's headersTimeout + its check interval + slack

describe(`abuse: ${TELNET_N + WS_N + RAW_WEB_N} half-open connections (${LONG ? "long" : "short"} form)`, function () {
  this.timeout(scale(90_000, 240_000));
  let portal: TorturePortal | undefined;
  const sockets: { destroy(): void }[] = [];

  after(async function () {
    this.timeout(60_000);
    for (const s of sockets) s.destroy();
    await portal?.stop();
  });

  it("the canary keeps getting answers, memory stays bounded, and each kind is cleaned up (ping timeout, headersTimeout, the peer's FIN)", async () => {
    const total = TELNET_N + WS_N + RAW_WEB_N;
    expect(fdLimit(), "file descriptors for the clients").to.be.above(total + 500);
    portal = await TorturePortal.start({
      limits: { maxConnectionRate: 0 },
      listeners: listeners({}, LONG ? {} : { pingIntervalMs: PING_MS, resumeGraceMs: GRACE_MS }),
    });
    const p = portal;
    const player = await TelnetPlayer.login(p.telnetPort, addressAt(60, 0), "canary");
    sockets.push({ destroy: () => player.close() });
    const base = await p.settledProbe();
    const baseRss = p.memory().rss;
    const watch = canary(player, 500);

    // ---- open them all ----
    const t0 = performance.now();
    const telnet: RawConn[] = await pool(TELNET_N, 200, async (i) => {
      const c = await RawConn.open(p.telnetPort, addressAt(61, i), 0);
      c.socket.pause();
      sockets.push(c);
      return c;
    });
    const ws: WebSocket[] = await pool(WS_N, 50, async (i) => {
      const w = await WebPlayer.connect(p.webPort, addressAt(62, i));
      (w as unknown as { _socket: Socket })._socket.pause();
      w.on("error", () => undefined);
      sockets.push({ destroy: () => w.terminate() });
      return w;
    });
    const rawWeb: RawConn[] = await pool(RAW_WEB_N, 200, async (i) => {
      const c = await RawConn.open(p.webPort, addressAt(63, i), 256);
      sockets.push(c);
      return c;
    });
    const openMs = performance.now() - t0;
    const expected = 1 + TELNET_N + WS_N;
    await waitFor(async () => (await p.sessions()) === expected, 60_000, "every connection a session", 250);
    const allOpenMs = performance.now() - t0;
    const opened = p.memory().rss;
    const heldProbe = await p.probe();

    // ---- they sit; nothing grows ----
    await sleep(HOLD_MS);
    const held = p.memory().rss;
    const statusHeld = await p.status();

    // ---- websocket: the ping timeout drops the sockets (2 intervals at most), the sessions wait resumeGraceMs, then go ----
    const wsStart = performance.now();
    await waitFor(async () => webStatus(await p.status()).detached === WS_N, 2 * PING_MS + 10_000, "websocket sockets dropped by the ping timeout", 250);
    const wsDroppedMs = performance.now() - wsStart + HOLD_MS;
    await waitFor(async () => webStatus(await p.status()).sessions === 0, GRACE_MS + 15_000, "websocket sessions ended after the grace", 250);
    const wsGoneMs = performance.now() - wsStart + HOLD_MS;

    // ---- websocket port, never upgraded: Node's headersTimeout ----
    let rawWebClosedS = NaN;
    if (RAW_WEB_N > 0) {
      await waitFor(() => rawWeb.every((c) => c.closed), HEADERS_MS, () => `never-upgraded connections closed (${rawWeb.filter((c) => c.closed).length}/${RAW_WEB_N})`, 500);
      rawWebClosedS = Math.max(...rawWeb.map((c) => c.closedAt - c.connectedAt)) / 1000;
    }

    // ---- telnet: still there while their peers live; gone when the peers go ----
    const telnetStill = ((await p.status()).sessions.by_protocol.telnet ?? 0) - 1; // without the canary
    const stillOpenClient = telnet.filter((c) => !c.closed).length;
    const finStart = performance.now();
    for (const c of telnet) c.destroy();
    await waitFor(async () => (await p.sessions()) === 1, 30_000, "telnet sessions gone after their peers closed", 100);
    const finMs = performance.now() - finStart;

    await watch.stop();
    const after = await p.settledProbe();
    const afterStatus = await p.status();
    const game = await p.game();

    report("half-open", {
      connections: `${TELNET_N} telnet silent + ${WS_N} websocket silent + ${RAW_WEB_N} never upgraded`,
      open_s: openMs / 1000, all_sessions_s: allOpenMs / 1000,
      rss_mb: `${mb(baseRss)} -> ${mb(opened)} (open) -> ${mb(held)} (after ${HOLD_MS / 1000} s)`,
      rss_per_connection_kib: (opened - baseRss) / total / 1024,
      heap_after_gc_per_session_kib: (heldProbe.heapUsed - base.heapUsed) / (expected - 1) / 1024,
      ws_dropped_by_ping_s: wsDroppedMs / 1000, ws_sessions_gone_s: wsGoneMs / 1000,
      never_upgraded_closed_by_headers_timeout_s: rawWebClosedS,
      telnet_sessions_after_hold: telnetStill, telnet_cleanup_after_fin_ms: finMs,
      canary: `${watch.rtts.length} pings, p50 ${percentile(watch.rtts, 50).toFixed(1)} ms, p99 ${percentile(watch.rtts, 99).toFixed(1)} ms, max ${Math.max(...watch.rtts).toFixed(1)} ms, ${watch.failures.length} failed`,
      fds: `${base.fds} -> ${heldProbe.fds} -> ${after.fds}`, heap_after_gc_mb: `${mb(base.heapUsed)} -> ${mb(heldProbe.heapUsed)} -> ${mb(after.heapUsed)}`,
      handles: `${JSON.stringify(base.resources)} -> ${JSON.stringify(after.resources)}`,
      game_rss_mb: mb(game.rss),
    });

    // the canary kept getting answers
    expect(watch.failures).to.deep.equal([]);
    expect(percentile(watch.rtts, 99)).to.be.below(2000);
    expect(player.closed).to.equal(false);
    // memory: small per connection, and no growth while they sit
    expect(opened - baseRss).to.be.at.most(total * 64 * 1024);
    expect(held - opened).to.be.at.most(16 * MB);
    expect(statusHeld.sessions.total).to.equal(expected);
    // cleaned up: websockets by the ping timeout and the grace, never-upgraded ones by headersTimeout
    expect(wsDroppedMs).to.be.at.most(HOLD_MS + 2 * PING_MS + 10_000);
    expect(p.msgCount("web client did not answer a ping; its socket is dropped")).to.equal(WS_N);
    expect(p.msgCount("web client did not come back; session closed")).to.equal(WS_N);
    if (RAW_WEB_N > 0) expect(rawWebClosedS).to.be.at.most(HEADERS_MS / 1000);
    // silent telnet connections stay while their peers live (nothing reaps them), and go with their FIN
    expect(telnetStill).to.equal(TELNET_N);
    expect(stillOpenClient).to.equal(TELNET_N);
    expect(finMs).to.be.below(15_000);
    // back to the baseline
    expect(afterStatus.sessions.total).to.equal(1);
    expect(after.fds).to.be.at.most(base.fds + 2);
    expect(after.resources.TCPSocketWrap ?? 0).to.be.at.most((base.resources.TCPSocketWrap ?? 0) + 1);
    expect(after.heapUsed - base.heapUsed).to.be.at.most(8 * MB);
  });
});
