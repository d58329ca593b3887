import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Portal } from "../../../core/portal.js";
import { MemoryLogger } from "../../../core/testing/index.js";
import { sleep, waitFor } from "../../../core/testing/wait-for.js";
import { bundledPlugins } from "../../../plugins/index.js";
import { partialInputMessage } from "../../../plugins/telnet/telnet-session.js";

// Regression test for the defect found by test/torture/abuse-trickle.test.ts: nothing reaped a telnet
// client that trickles a line that never ends (one byte a second held the connection for ever; the
// 64 KiB line cap only discarded the line after 18 hours). Now a line (or subnegotiation) must arrive
// within partialInputTimeoutMs of its first byte.

const LIMIT_MS = 1000;
const IAC = 255, SB = 250, SE = 240;

interface Conn {
  socket: Socket;
  text: string;
  closed: boolean;
  closedAt: number;
}

describe("telnet partialInputTimeoutMs (a client trickling a line that never ends is disconnected)", function () {
  this.timeout(15_000);
  let portal: Portal;
  let port: number;
  let dataDir: string;
  let logger: MemoryLogger;
  const conns: Conn[] = [];

  async function boot(listener: Record<string, unknown>): Promise<void> {
    dataDir = mkdtempSync(join(tmpdir(), "portico-partial-"));
    logger = new MemoryLogger();
    portal = new Portal({
      config: {
        dataDir, link: { port: 0 }, limits: { maxConnectionRate: 0 },
        listeners: [{ plugin: "plugins.telnet.TelnetFactory", config: { host: "127.0.0.1", port: 0, ...listener } }],
      },
      plugins: bundledPlugins, logger,
    });
    await portal.start();
    port = Number(portal.launcher.list()[0]!.status.port);
  }

  function open(): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: "127.0.0.1", port, noDelay: true });
      const c: Conn = { socket, text: "", closed: false, closedAt: 0 };
      conns.push(c);
      socket.on("data", (b: Buffer) => (c.text += b.toString("latin1")));
      socket.on("close", () => {
        c.closed = true;
        c.closedAt = Date.now();
      });
      socket.once("error", reject);
      socket.once("connect", () => {
        socket.on("error", () => undefined);
        resolve(c);
      });
    });
  }

  /** Writes `bytes` one at a time, `gapMs` apart, for `forMs` (cycling through them, ending at the end of a cycle), unless the connection closes. */
  async function trickle(c: Conn, bytes: Buffer, gapMs: number, forMs: number): Promise<void> {
    const until = Date.now() + forMs;
    for (let i = 0; (Date.now() < until || i % bytes.length !== 0) && !c.closed; i++) {
      c.socket.write(bytes.subarray(i % bytes.length, (i % bytes.length) + 1));
      await sleep(gapMs);
    }
  }

  afterEach(async () => {
    for (const c of conns.splice(0)) c.socket.destroy();
    await portal?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("a line trickled a byte at a time that never ends: told and disconnected about partialInputTimeoutMs after its first byte", async () => {
    await boot({ partialInputTimeoutMs: LIMIT_MS });
    const c = await open();
    await sleep(100);
    const start = Date.now();
    await trickle(c, Buffer.from("a"), 40, 3000);
    expect(c.closed, "disconnected").to.equal(true);
    const after = c.closedAt - start;
    expect(after).to.be.at.least(LIMIT_MS - 50).and.below(LIMIT_MS + 1000);
    expect(c.text).to.include(partialInputMessage(LIMIT_MS));
    expect(logger.entries.some((e) => e.msg === "telnet client did not finish its input line in time; disconnected")).to.equal(true);
    await waitFor(() => portal.handler.all().length === 0, 2000, "the session gone");
  });

  it("a subnegotiation that never ends (IAC SB and a byte at a time) is reaped the same way", async () => {
    await boot({ partialInputTimeoutMs: LIMIT_MS });
    const c = await open();
    c.socket.write(Buffer.from([IAC, SB, 201]));
    await trickle(c, Buffer.from("x"), 40, 3000);
    expect(c.closed).to.equal(true);
    expect(c.text).to.include(partialInputMessage(LIMIT_MS));
  });

  it("not reaped: complete lines sent slowly, a long paste in chunks split mid-line, a lone IAC SB ... IAC SE, keep-alive NULs", async () => {
    await boot({ partialInputTimeoutMs: LIMIT_MS });
    const slow = await open();
    const paste = await open();
    const nul = await open();
    const sub = await open();
    const duration = LIMIT_MS * 3;
    await Promise.all([
      // "ab\r\n" a byte every 100 ms: each line takes 400 ms (< LIMIT_MS); lines keep coming for 3 × the limit
      trickle(slow, Buffer.from("ab\r\n"), 100, duration),
      // 7-byte chunks of "hello world\r\n": nearly every chunk ends mid-line, but lines keep ending
      (async () => {
        const text = Buffer.from("hello world\r\n".repeat(400));
        for (let at = 0; at < text.length; at += 7) {
          paste.socket.write(text.subarray(at, at + 7));
          await sleep(5);
        }
      })(),
      trickle(nul, Buffer.from([0]), 100, duration),
      trickle(sub, Buffer.from([IAC, SB, 201, 0x41, IAC, SE]), 50, duration),
    ]);
    await sleep(LIMIT_MS + 200);
    for (const [name, c] of Object.entries({ slow, paste, nul, sub })) {
      expect(c.closed, `${name} still connected: ${JSON.stringify(c.text.replace(/[^\x20-\x7e]/g, "."))}`).to.equal(false);
      expect(c.text, name).not.to.include("did not end within");
    }
  });

  it("a line left unfinished is reaped even when input stopped (the timer does not need more bytes)", async () => {
    await boot({ partialInputTimeoutMs: LIMIT_MS });
    const c = await open();
    c.socket.write("look\r\nhalf a li");
    await waitFor(() => c.closed, LIMIT_MS + 1500, "disconnected");
    expect(c.text).to.include(partialInputMessage(LIMIT_MS));
  });

  it("0 disables it", async () => {
    await boot({ partialInputTimeoutMs: 0 });
    const c = await open();
    c.socket.write("half a li");
    await sleep(1500);
    expect(c.closed).to.equal(false);
  });
});
