import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Socket, connect as netConnect } from "node:net";
import { Portal } from "../../core/portal.js";
import { ErrorCodes } from "../../core/errors/error-codes.js";
import { FrameDecoder, encodeFrame } from "../../core/link/frame-codec.js";
import { LINK_VERSION } from "../../core/link/link-messages.js";
import { readLinkSecret } from "../../core/game/index.js";
import { MemoryLogger } from "../../core/testing/index.js";
import { sleep, waitFor } from "../../core/testing/wait-for.js";

// Limits on link peers that have not authenticated yet (issue 11, item 5): a small frame cap until
// hello succeeds (link.helloMaxFrameBytes), then link.maxFrameBytes; at most link.maxUnauthenticated
// such peers at once. Real loopback sockets against a real Portal; everything is torn down in afterEach.

type Json = Record<string, any>;

interface Harness {
  portal: Portal;
  logger: MemoryLogger;
  port: number;
  secret: string;
}

const portals: Portal[] = [];
const sockets: Socket[] = [];
const dirs: string[] = [];

async function startPortal(link: Record<string, unknown> = {}): Promise<Harness> {
  const dataDir = mkdtempSync(join(tmpdir(), "portico-preauth-"));
  dirs.push(dataDir);
  const logger = new MemoryLogger();
  const portal = new Portal({
    config: { dataDir, link: { port: 0, ...link }, limits: { maxConnectionRate: 0 } },
    logger,
    plugins: [],
  });
  portals.push(portal);
  await portal.start();
  const address = portal.linkAddress;
  if (!address) throw new Error("portal has no link address");
  return { portal, logger, port: address.port, secret: readLinkSecret(dataDir) };
}

function linkConnected(h: Harness): boolean {
  return (h.portal.status().link as { connected: boolean }).connected;
}

function codeCount(h: Harness, code: string): number {
  return h.logger.codes().filter((c) => c === code).length;
}

/** A bare TCP peer on the link port that speaks the framing by hand. */
class Peer {
  readonly socket: Socket;
  readonly messages: Json[] = [];
  closed = false;
  closedAt = 0;
  private readonly decoder = new FrameDecoder(64 * 1024 * 1024);
  private readonly opened: Promise<void>;

  constructor(port: number) {
    this.socket = netConnect({ host: "127.0.0.1", port });
    sockets.push(this.socket);
    this.socket.setNoDelay(true);
    this.opened = new Promise((resolve, reject) => {
      this.socket.once("connect", () => resolve());
      this.socket.once("error", reject);
    });
    this.socket.on("error", () => undefined);
    this.socket.on("close", () => {
      this.closed = true;
      this.closedAt = Date.now();
    });
    this.socket.on("data", (chunk: Buffer) => {
      let frames: string[] = [];
      try {
        frames = this.decoder.push(chunk);
      } catch {
        return;
      }
      for (const f of frames) {
        const parsed = JSON.parse(f) as unknown;
        for (const m of Array.isArray(parsed) ? parsed : [parsed]) {
          this.messages.push(m as Json);
          if ((m as Json).op === "ping") this.send({ op: "pong" });
        }
      }
    });
  }

  ready(): Promise<void> {
    return this.opened;
  }

  send(...msgs: unknown[]): void {
    this.socket.write(encodeFrame(JSON.stringify(msgs)));
  }

  sendRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  ofOp(op: string): Json[] {
    return this.messages.filter((m) => m.op === op);
  }

  waitOp(op: string, match: (m: Json) => boolean = () => true, timeoutMs = 3000): Promise<Json> {
    return waitFor(() => this.messages.find((m) => m.op === op && match(m)), timeoutMs, `message ${op}`);
  }

  waitClosed(timeoutMs = 3000): Promise<boolean> {
    return waitFor(() => this.closed, timeoutMs, "peer closed");
  }
}

function helloMessage(secret: string, info: Record<string, unknown> = { name: "preauth-test" }): Json {
  return { op: "hello", version: LINK_VERSION, secret, pid: 4242, info };
}

/** A hello frame of exactly `bytes` bytes on the wire (header included), padded in `info`. */
function helloFrameOf(secret: string, bytes: number): Buffer {
  const base = encodeFrame(JSON.stringify([helloMessage(secret, { pad: "" })])).length;
  const frame = encodeFrame(JSON.stringify([helloMessage(secret, { pad: "p".repeat(bytes - base) })]));
  expect(frame.length).to.equal(bytes);
  return frame;
}

/** Connects, says hello and waits until the portal starts its sync: the peer is then the connected game. */
async function authenticatedGame(h: Harness): Promise<Peer> {
  const peer = new Peer(h.port);
  await peer.ready();
  peer.send(helloMessage(h.secret));
  await peer.waitOp("portal-sync");
  await waitFor(() => linkConnected(h), 2000, "link connected");
  return peer;
}

/** A status request padded to about `bytes` bytes of JSON; the portal answers it with a reply of the same id. */
function paddedStatus(id: number, bytes: number): Json {
  return { op: "status", id, pad: "s".repeat(bytes) };
}

afterEach(async function () {
  this.timeout(10_000);
  for (const s of sockets.splice(0)) s.destroy();
  for (const p of portals.splice(0)) await p.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("game link before authentication (integration, real TCP on 127.0.0.1)", function () {
  this.timeout(15_000);

  describe("frame cap until hello (link.helloMaxFrameBytes)", () => {
    it("drops an unauthenticated peer announcing a 1 MiB frame, and keeps serving: a game connects and authenticates after", async () => {
      const h = await startPortal();
      const big = new Peer(h.port);
      await big.ready();
      const header = Buffer.alloc(4);
      header.writeUInt32BE(1024 * 1024, 0);
      big.sendRaw(Buffer.concat([header, Buffer.from('[{"op":"hello","pad":"')]));
      await big.waitClosed();
      expect(big.ofOp("portal-sync")).to.have.length(0);
      expect(codeCount(h, ErrorCodes.LINK_FRAME)).to.equal(1);
      const entry = h.logger.entries.find((e) => e.fields.code === ErrorCodes.LINK_FRAME)!;
      expect(entry.level).to.equal("warn");
      expect(entry.msg).to.contain(String(1024 * 1024));
      expect(linkConnected(h)).to.equal(false);

      // The same announcement split so that it reaches the portal after a first byte (the decoder's path).
      const split = new Peer(h.port);
      await split.ready();
      split.sendRaw(header.subarray(0, 1));
      await sleep(50);
      split.sendRaw(Buffer.concat([header.subarray(1), Buffer.from("[")]));
      await split.waitClosed();
      expect(codeCount(h, ErrorCodes.LINK_FRAME)).to.equal(2);

      const game = await authenticatedGame(h);
      expect(game.closed).to.equal(false);
      game.send({ op: "status", id: 1 });
      await game.waitOp("reply", (m) => m.id === 1);
    });

    it("refuses a hello larger than helloMaxFrameBytes; one of exactly that size is accepted", async () => {
      const h = await startPortal({ helloMaxFrameBytes: 1024 });
      const tooBig = new Peer(h.port);
      await tooBig.ready();
      // 4 header bytes + 1021 of JSON: one byte over the cap.
      tooBig.sendRaw(helloFrameOf(h.secret, 4 + 1025));
      await tooBig.waitClosed();
      expect(tooBig.ofOp("portal-sync")).to.have.length(0);
      expect(linkConnected(h)).to.equal(false);
      expect(h.logger.codes()).to.include(ErrorCodes.LINK_FRAME);

      // The default cap (8 KiB) on another portal: a 10 KB hello is refused too, sent in pieces
      // (the first of 2 bytes, so that the frame decoder, not the first-chunk check, judges the length).
      const d = await startPortal();
      const pieces = new Peer(d.port);
      await pieces.ready();
      const frame = helloFrameOf(d.secret, 10_000);
      pieces.sendRaw(frame.subarray(0, 2));
      await sleep(30);
      for (let at = 2; at < frame.length && !pieces.closed; at += 1000) {
        pieces.sendRaw(frame.subarray(at, at + 1000));
        await sleep(5);
      }
      await pieces.waitClosed();
      expect(pieces.ofOp("portal-sync")).to.have.length(0);
      expect(d.logger.codes()).to.include(ErrorCodes.LINK_FRAME);

      const exact = new Peer(h.port);
      await exact.ready();
      exact.sendRaw(helloFrameOf(h.secret, 4 + 1024));
      await exact.waitOp("portal-sync");
      expect(exact.closed).to.equal(false);
      expect(linkConnected(h)).to.equal(true);
    });

    it("after hello, accepts frames far larger than helloMaxFrameBytes", async () => {
      const h = await startPortal({ helloMaxFrameBytes: 1024 });
      const game = await authenticatedGame(h);
      game.send(paddedStatus(7, 200_000));
      await game.waitOp("reply", (m) => m.id === 7);
      game.send(paddedStatus(8, 3 * 1024 * 1024));
      await game.waitOp("reply", (m) => m.id === 8);
      expect(game.closed).to.equal(false);
      expect(h.logger.codes()).to.not.include(ErrorCodes.LINK_FRAME);
      expect(linkConnected(h)).to.equal(true);
    });

    it("accepts a large frame written together with the hello, in the same write (and the same TCP read)", async () => {
      // No heartbeat traffic during the test: nothing but the hello itself may get the frames after it read.
      const h = await startPortal({ helloMaxFrameBytes: 1024, heartbeatMs: 10_000, heartbeatTimeoutMs: 30_000 });
      for (const [id, size] of [[21, 20_000], [22, 600_000]] as const) {
        const game = new Peer(h.port);
        await game.ready();
        game.sendRaw(Buffer.concat([encodeFrame(JSON.stringify([helloMessage(h.secret)])), encodeFrame(JSON.stringify([paddedStatus(id, size)])), encodeFrame(JSON.stringify([{ op: "status", id: id + 100 }]))]));
        await game.waitOp("portal-sync");
        await game.waitOp("reply", (m) => m.id === id);
        await game.waitOp("reply", (m) => m.id === id + 100);
        expect(game.ofOp("reply").map((m) => m.id)).to.deep.equal([id, id + 100]);
        expect(game.closed).to.equal(false);
      }
      expect(h.logger.codes()).to.not.include(ErrorCodes.LINK_FRAME);
    });

    it("refuses a large frame that follows a hello with a wrong secret in the same write", async () => {
      const h = await startPortal({ helloMaxFrameBytes: 1024 });
      const peer = new Peer(h.port);
      await peer.ready();
      peer.sendRaw(Buffer.concat([encodeFrame(JSON.stringify([helloMessage("wrong-secret")])), encodeFrame(JSON.stringify([paddedStatus(1, 20_000)]))]));
      const err = await peer.waitOp("error");
      expect(err.code).to.equal(ErrorCodes.LINK_AUTH);
      await peer.waitClosed();
      expect(peer.ofOp("reply")).to.have.length(0);
      expect(linkConnected(h)).to.equal(false);
    });
  });

  describe("cap on unauthenticated peers (link.maxUnauthenticated)", () => {
    it("closes a 4th silent connection at once with PORTAL_ERR_LINK_BUSY; the first 3 wait for the handshake timeout; then a game connects", async () => {
      const handshakeTimeoutMs = 1500;
      const h = await startPortal({ maxUnauthenticated: 3, handshakeTimeoutMs });
      const silent = [new Peer(h.port), new Peer(h.port), new Peer(h.port)];
      await Promise.all(silent.map((p) => p.ready()));
      const openedAt = Date.now();
      await sleep(100); // let the portal accept them

      const fourth = new Peer(h.port);
      await fourth.ready();
      await fourth.waitClosed(1000);
      expect(fourth.closedAt - openedAt).to.be.below(handshakeTimeoutMs - 500);
      expect(codeCount(h, ErrorCodes.LINK_BUSY)).to.equal(1);
      const busy = h.logger.entries.find((e) => e.fields.code === ErrorCodes.LINK_BUSY)!;
      expect(busy.level).to.equal("warn");
      expect(silent.map((p) => p.closed)).to.deep.equal([false, false, false]);

      // A game arriving while the 3 slots are taken is refused as well: the limit counts peers before their first byte.
      const early = new Peer(h.port);
      await early.ready();
      early.send(helloMessage(h.secret));
      await early.waitClosed(1000);
      expect(early.ofOp("portal-sync")).to.have.length(0);
      expect(codeCount(h, ErrorCodes.LINK_BUSY)).to.equal(2);

      await Promise.all(silent.map((p) => p.waitClosed(handshakeTimeoutMs + 2000)));
      for (const p of silent) expect(p.closedAt - openedAt).to.be.at.least(handshakeTimeoutMs - 200);
      expect(codeCount(h, ErrorCodes.LINK_AUTH)).to.equal(3);

      const game = await authenticatedGame(h);
      game.send({ op: "status", id: 1 });
      await game.waitOp("reply", (m) => m.id === 1);

      // The authenticated game no longer counts: 3 new silent peers are let in (and wait), a 4th is not.
      const more = [new Peer(h.port), new Peer(h.port), new Peer(h.port)];
      await Promise.all(more.map((p) => p.ready()));
      await sleep(100);
      const extra = new Peer(h.port);
      await extra.ready();
      await extra.waitClosed(1000);
      expect(more.map((p) => p.closed)).to.deep.equal([false, false, false]);
      expect(codeCount(h, ErrorCodes.LINK_BUSY)).to.equal(3);
      expect(game.closed).to.equal(false);
    });

    it("portal stop closes connections that never sent a byte at once (no wait for the handshake timeout)", async () => {
      const h = await startPortal({ handshakeTimeoutMs: 600_000 });
      const silent = [new Peer(h.port), new Peer(h.port)];
      for (const p of silent) await p.ready();
      await sleep(50);
      const started = Date.now();
      await h.portal.stop();
      expect(Date.now() - started).to.be.below(2000);
      for (const p of silent) await p.waitClosed(1000);
    });

    it("frees a slot when an unauthenticated peer goes away before its hello", async () => {
      const h = await startPortal({ maxUnauthenticated: 1, handshakeTimeoutMs: 5000 });
      const first = new Peer(h.port);
      await first.ready();
      await sleep(50);
      first.socket.destroy();
      await first.waitClosed();
      await sleep(50);
      const game = await authenticatedGame(h);
      expect(game.closed).to.equal(false);
      expect(h.logger.codes()).to.not.include(ErrorCodes.LINK_BUSY);
    });
  });
});
