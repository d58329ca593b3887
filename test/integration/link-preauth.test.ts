import { expect } from "chai";
import { ErrorCodes } from "../../core/errors/error-codes.js";
import { encodeFrame } from "../../core/link/frame-codec.js";
import { sleep, waitFor } from "../../core/testing/wait-for.js";
import { RawPeer, authenticatedPeer, closeTrackedAfterEach, helloMessage, linkConnected, startPortal, type Harness, type Json, type RawPeerOptions } from "../support/link-harness.js";

// Limits on link peers that have not authenticated yet (issue 11, item 5): a small frame cap until
// hello succeeds (link.helloMaxFrameBytes), then link.maxFrameBytes; at most link.maxUnauthenticated
// such peers at once. Real loopback sockets against a real Portal; everything is torn down in afterEach.

/** The peers here answer pings, as a live game would, and wait 3 s by default. */
const PEER: RawPeerOptions = { answerPings: true, waitMs: 3000 };
/** The hello's `info` of this file's games. */
const INFO = { name: "preauth-test" };

function codeCount(h: Harness, code: string): number {
  return h.logger.codes().filter((c) => c === code).length;
}

/** A hello frame of exactly `bytes` bytes on the wire (header included), padded in `info`. */
function helloFrameOf(secret: string, bytes: number): Buffer {
  const base = encodeFrame(JSON.stringify([helloMessage(secret, { pad: "" })])).length;
  const frame = encodeFrame(JSON.stringify([helloMessage(secret, { pad: "p".repeat(bytes - base) })]));
  expect(frame.length).to.equal(bytes);
  return frame;
}

/** Connects, says hello and waits until the portal starts its sync: the peer is then the connected game. */
async function authenticatedGame(h: Harness): Promise<RawPeer> {
  const peer = await authenticatedPeer(h, { ...PEER, info: INFO });
  await waitFor(() => linkConnected(h), 2000, "link connected");
  return peer;
}

/** A status request padded to about `bytes` bytes of JSON; the portal answers it with a reply of the same id. */
function paddedStatus(id: number, bytes: number): Json {
  return { op: "status", id, pad: "s".repeat(bytes) };
}

closeTrackedAfterEach(10_000);

describe("game link before authentication (integration, real TCP on 127.0.0.1)", function () {
  this.timeout(15_000);

  describe("frame cap until hello (link.helloMaxFrameBytes)", () => {
    it("drops an unauthenticated peer announcing a 1 MiB frame, and keeps serving: a game connects and authenticates after", async () => {
      const h = await startPortal();
      const big = new RawPeer(h.port, PEER);
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
      const split = new RawPeer(h.port, PEER);
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
      const h = await startPortal({ link: { helloMaxFrameBytes: 1024 } });
      const tooBig = new RawPeer(h.port, PEER);
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
      const pieces = new RawPeer(d.port, PEER);
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

      const exact = new RawPeer(h.port, PEER);
      await exact.ready();
      exact.sendRaw(helloFrameOf(h.secret, 4 + 1024));
      await exact.waitOp("portal-sync");
      expect(exact.closed).to.equal(false);
      expect(linkConnected(h)).to.equal(true);
    });

    it("after hello, accepts frames far larger than helloMaxFrameBytes", async () => {
      const h = await startPortal({ link: { helloMaxFrameBytes: 1024 } });
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
      const h = await startPortal({ link: { helloMaxFrameBytes: 1024, heartbeatMs: 10_000, heartbeatTimeoutMs: 30_000 } });
      for (const [id, size] of [[21, 20_000], [22, 600_000]] as const) {
        const game = new RawPeer(h.port, PEER);
        await game.ready();
        game.sendRaw(Buffer.concat([encodeFrame(JSON.stringify([helloMessage(h.secret, INFO)])), encodeFrame(JSON.stringify([paddedStatus(id, size)])), encodeFrame(JSON.stringify([{ op: "status", id: id + 100 }]))]));
        await game.waitOp("portal-sync");
        await game.waitOp("reply", (m) => m.id === id);
        await game.waitOp("reply", (m) => m.id === id + 100);
        expect(game.ofOp("reply").map((m) => m.id)).to.deep.equal([id, id + 100]);
        expect(game.closed).to.equal(false);
      }
      expect(h.logger.codes()).to.not.include(ErrorCodes.LINK_FRAME);
    });

    it("refuses a large frame that follows a hello with a wrong secret in the same write", async () => {
      const h = await startPortal({ link: { helloMaxFrameBytes: 1024 } });
      const peer = new RawPeer(h.port, PEER);
      await peer.ready();
      peer.sendRaw(Buffer.concat([encodeFrame(JSON.stringify([helloMessage("wrong-secret", INFO)])), encodeFrame(JSON.stringify([paddedStatus(1, 20_000)]))]));
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
      const h = await startPortal({ link: { maxUnauthenticated: 3, handshakeTimeoutMs } });
      const silent = [new RawPeer(h.port, PEER), new RawPeer(h.port, PEER), new RawPeer(h.port, PEER)];
      await Promise.all(silent.map((p) => p.ready()));
      const openedAt = Date.now();
      await sleep(100); // let the portal accept them

      const fourth = new RawPeer(h.port, PEER);
      await fourth.ready();
      await fourth.waitClosed(1000);
      expect(fourth.closedAt - openedAt).to.be.below(handshakeTimeoutMs - 500);
      expect(codeCount(h, ErrorCodes.LINK_BUSY)).to.equal(1);
      const busy = h.logger.entries.find((e) => e.fields.code === ErrorCodes.LINK_BUSY)!;
      expect(busy.level).to.equal("warn");
      expect(silent.map((p) => p.closed)).to.deep.equal([false, false, false]);

      // A game arriving while the 3 slots are taken is refused as well: the limit counts peers before their first byte.
      const early = new RawPeer(h.port, PEER);
      await early.ready();
      early.send(helloMessage(h.secret, INFO));
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
      const more = [new RawPeer(h.port, PEER), new RawPeer(h.port, PEER), new RawPeer(h.port, PEER)];
      await Promise.all(more.map((p) => p.ready()));
      await sleep(100);
      const extra = new RawPeer(h.port, PEER);
      await extra.ready();
      await extra.waitClosed(1000);
      expect(more.map((p) => p.closed)).to.deep.equal([false, false, false]);
      expect(codeCount(h, ErrorCodes.LINK_BUSY)).to.equal(3);
      expect(game.closed).to.equal(false);
    });

    it("portal stop closes connections that never sent a byte at once (no wait for the handshake timeout)", async () => {
      const h = await startPortal({ link: { handshakeTimeoutMs: 600_000 } });
      const silent = [new RawPeer(h.port, PEER), new RawPeer(h.port, PEER)];
      for (const p of silent) await p.ready();
      await sleep(50);
      const started = Date.now();
      await h.portal.stop();
      expect(Date.now() - started).to.be.below(2000);
      for (const p of silent) await p.waitClosed(1000);
    });

    it("frees a slot when an unauthenticated peer goes away before its hello", async () => {
      const h = await startPortal({ link: { maxUnauthenticated: 1, handshakeTimeoutMs: 5000 } });
      const first = new RawPeer(h.port, PEER);
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
