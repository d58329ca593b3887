import { expect } from "chai";
import { performance } from "node:perf_hooks";
import { sleep, waitFor } from "../../core/testing/wait-for.js";
import { partialInputMessage } from "../../plugins/telnet/telnet-session.js";
import { LONG, RawConn, TelnetPlayer, TorturePortal, addressAt, banner, canary, listeners, percentile, report, scale } from "./abuse-support.js";

// Issue 13, item 3, abuse: "a client sending one byte per second forever (reaped)". Against a real
// `portico start`, at once:
// - telnet: a line trickled a byte at a time that never ends, and a subnegotiation the same way. What
//   reaped them before: nothing (the 64 KiB line cap discards the line after 18 hours and the
//   connection stays). Now telnet `partialInputTimeoutMs` (default 120 s) disconnects them.
// - websocket: a frame trickled a byte at a time after the upgrade: reaped by the ping timeout (a socket
//   that misses a whole `pingIntervalMs` is dropped: it cannot answer a ping in the middle of a frame).
// - websocket (long form only): the HTTP upgrade request itself trickled: reaped by Node's HTTP
//   `headersTimeout` (60 s, checked every 30 s; the listener does not configure it, so the short form
//   cannot shorten it).
// Controls that must NOT be reaped: complete lines trickled a byte at a time, keep-alive NULs.
// The long form runs the defaults with a byte per second; the short form shortens the limits.

const GAP_MS = scale(100, 1000);
const TELNET_LIMIT_MS = scale(1500, 120_000); // long: the default, not configured
const PING_MS = scale(1000, 25_000); // long: the default, not configured
const HEADERS_TIMEOUT_MS = 60_000; // Node's default for http.createServer
const HEADERS_CHECK_MS = 30_000; // Node's default connectionsCheckingInterval

const UPGRADE = (port: number) =>
  `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: v1.evennia.com\r\n\r\n";

interface Trickler {
  name: string;
  conn: RawConn;
  firstByteAt: number;
  sent: number;
}

/** Sends `pattern` one byte every GAP_MS until the connection closes or `stop` is set. */
function trickle(name: string, conn: RawConn, pattern: Buffer, stop: { now: boolean }): Trickler {
  const t: Trickler = { name, conn, firstByteAt: 0, sent: 0 };
  void (async () => {
    while (!conn.closed && !stop.now) {
      if (t.sent === 0) t.firstByteAt = performance.now();
      conn.write(pattern.subarray(t.sent % pattern.length, (t.sent % pattern.length) + 1));
      t.sent += 1;
      await sleep(GAP_MS);
    }
  })();
  return t;
}

const reapedAfter = (t: Trickler) => (t.conn.closed ? Math.round(t.conn.closedAt - t.firstByteAt) : NaN);

describe(`abuse: a client sending one byte every ${GAP_MS} ms for ever is reaped (${LONG ? "long" : "short"} form)`, function () {
  this.timeout(scale(60_000, 240_000));
  let portal: TorturePortal | undefined;
  const conns: RawConn[] = [];

  after(async function () {
    this.timeout(30_000);
    for (const c of conns) c.destroy();
    await portal?.stop();
  });

  it("telnet line and subnegotiation by partialInputTimeoutMs, websocket frame by the ping timeout, upgrade request by headersTimeout; complete lines and keep-alives stay", async () => {
    portal = await TorturePortal.start({
      limits: { maxConnectionRate: 0 },
      listeners: listeners(
        LONG ? {} : { partialInputTimeoutMs: TELNET_LIMIT_MS },
        LONG ? {} : { pingIntervalMs: PING_MS },
      ),
    });
    const p = portal;
    const player = await TelnetPlayer.login(p.telnetPort, addressAt(30, 0), "canary");
    const watch = canary(player, 1000);
    const stop = { now: false };

    const open = async (port: number, i: number) => {
      const c = await RawConn.open(port, addressAt(30, i));
      conns.push(c);
      return c;
    };
    // telnet: wait for the banner (admitted, negotiation offered), then trickle
    const telnet = await Promise.all([1, 2, 3, 4].map(async (i) => {
      const c = await open(p.telnetPort, i);
      await waitFor(() => c.has(banner()), 10_000, "telnet banner");
      return c;
    }));
    // websocket: upgraded by hand, then the first two bytes of a masked 100-byte text frame and its mask
    const ws = await open(p.webPort, 5);
    ws.write(UPGRADE(p.webPort));
    await waitFor(() => ws.has("HTTP/1.1 101"), 10_000, "websocket upgrade");
    const upgradedAt = performance.now();
    ws.write(Buffer.from([0x81, 0x80 | 100, 1, 2, 3, 4]));
    const upgrade = LONG ? await open(p.webPort, 6) : undefined;

    const started = performance.now();
    const line = trickle("telnet line", telnet[0]!, Buffer.from("a"), stop);
    telnet[1]!.write(Buffer.from([255, 250, 201])); // IAC SB GMCP, never ended
    const sub = trickle("telnet subnegotiation", telnet[1]!, Buffer.from("x"), stop);
    const slowLines = trickle("telnet complete lines", telnet[2]!, Buffer.from("look\r\n"), stop);
    const nuls = trickle("telnet keep-alive NULs", telnet[3]!, Buffer.from([0]), stop);
    const frame = trickle("websocket frame", ws, Buffer.from("y"), stop);
    const request = upgrade ? trickle("websocket upgrade request", upgrade, Buffer.from(UPGRADE(p.webPort).slice(0, -2) + "X-Trickle: " + "z".repeat(10_000)), stop) : undefined;

    const reaped = [line, sub, frame, ...(request ? [request] : [])];
    const budgetMs = Math.max(TELNET_LIMIT_MS, 2 * PING_MS, request ? HEADERS_TIMEOUT_MS + HEADERS_CHECK_MS : 0) + 5000;
    await waitFor(() => reaped.every((t) => t.conn.closed), budgetMs, () => `all tricklers reaped (${reaped.map((t) => `${t.name}: ${t.conn.closed ? "closed" : "open"}`).join(", ")})`, 100);
    // the controls keep going a little longer than the longest limit seen, then stop
    await sleep(Math.max(0, TELNET_LIMIT_MS + 2 * GAP_MS - (performance.now() - started)));
    stop.now = true;
    await watch.stop();
    const afterAll = await p.status();

    const figures: Record<string, unknown> = {
      telnet_line_reaped_ms: reapedAfter(line),
      telnet_subneg_reaped_ms: reapedAfter(sub),
      ws_frame_reaped_ms_after_upgrade: frame.conn.closed ? Math.round(frame.conn.closedAt - upgradedAt) : NaN,
      ...(request ? { ws_upgrade_request_reaped_ms: reapedAfter(request) } : {}),
      bytes_trickled: { line: line.sent, subneg: sub.sent, frame: frame.sent, ...(request ? { request: request.sent } : {}) },
      controls_open: { lines: !slowLines.conn.closed, nuls: !nuls.conn.closed },
      canary_pings: watch.rtts.length, canary_p99_ms: percentile(watch.rtts, 99), canary_failures: watch.failures.length,
      sessions_after: afterAll.sessions.total,
    };
    report("trickle", figures);

    // telnet: told, and reaped at the limit after the line's first byte (not before, not long after)
    for (const t of [line, sub]) {
      expect(t.conn.has(partialInputMessage(TELNET_LIMIT_MS)), `${t.name}: told why`).to.equal(true);
      expect(reapedAfter(t), t.name).to.be.at.least(TELNET_LIMIT_MS - 50).and.at.most(TELNET_LIMIT_MS + 2 * GAP_MS + 1000);
    }
    expect(p.msgCount("telnet client did not finish its input line in time; disconnected")).to.equal(2);
    // websocket frame: the ping timeout, within two intervals of the upgrade
    expect(frame.conn.closedAt - upgradedAt).to.be.at.most(2 * PING_MS + 1500);
    expect(p.msgCount("web client did not answer a ping; its socket is dropped")).to.be.at.least(1);
    if (request) {
      // Node answers 408 and closes once the headers have taken headersTimeout (checked every 30 s)
      expect(reapedAfter(request)).to.be.at.least(HEADERS_TIMEOUT_MS - 1000).and.at.most(HEADERS_TIMEOUT_MS + HEADERS_CHECK_MS + 3000);
    }
    // the controls were not reaped, and the canary was answered throughout
    expect(slowLines.conn.closed, "complete lines trickled").to.equal(false);
    expect(nuls.conn.closed, "keep-alive NULs").to.equal(false);
    expect(slowLines.conn.has(partialInputMessage(TELNET_LIMIT_MS))).to.equal(false);
    expect(watch.failures).to.deep.equal([]);
    expect(watch.rtts.length).to.be.at.least(Math.floor(TELNET_LIMIT_MS / 1000 / 2));
    expect(player.closed).to.equal(false);
    // the portal kept only the canary and the two controls (the ws frame trickler's session went with it: its
    // socket was dropped while it had never logged in; the session itself may wait resumeGraceMs)
    expect(afterAll.sessions.by_protocol.telnet).to.equal(3);
  });
});
