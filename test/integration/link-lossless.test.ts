/**
 * Issue 11 (link protocol version 2): the link loses nothing and fails loudly. Real loopback TCP
 * between an in-process Portal and either a raw framed peer or the real SDK (GameSessionHandler);
 * sessions are in-process RecordingSessions. Every test asserts behaviour and can fail.
 */
import { expect } from "chai";
import { connect as netConnect, createServer, type Socket } from "node:net";
import { DEFAULT_CONFIG } from "../../core/config/portal-config.js";
import { ErrorCodes } from "../../core/errors/error-codes.js";
import { PortalError } from "../../core/errors/portal-error.js";
import { encodeFrame } from "../../core/link/frame-codec.js";
import { LINK_VERSION } from "../../core/link/link-messages.js";
import type { RecordingSession } from "../../core/testing/index.js";
import { sleep, waitFor } from "../../core/testing/wait-for.js";
import {
  FrameSink,
  authenticatedPeer,
  closeTrackedAfterEach,
  connectSession,
  linkConnected,
  startGame,
  startPortal,
  startProxy,
  tracked,
  type GameRecord,
  type Harness,
  type Json,
} from "../support/link-harness.js";

// Every portal, SDK, raw socket, proxy, server and temp dir made here is torn down in afterEach (see link-harness).

/** This file's SDK: a longer request timeout than the harness default (5 000 sessions are handed back). */
const GAME = { info: { name: "lossless-test-game" }, requestTimeoutMs: 8000 };
/** A raw peer here counts as authenticated once the whole portal-sync has arrived, and waits 3 s by default. */
const SYNCED = { until: "portal-sync-end", waitMs: 3000 } as const;

const FAST_REDIAL = { initialMs: 50, factor: 1, maxMs: 50 };

/** `n` sessions connected to the portal, session i with server_data `data(i)` (set on the portal's copy). */
function connectSessions(h: Harness, n: number, data: (i: number) => Record<string, unknown>): RecordingSession[] {
  return Array.from({ length: n }, (_, i) => {
    const s = connectSession(h);
    s.server_data = data(i);
    return s;
  });
}

function pending(h: Harness): { n: number; bytes: number } {
  const st = h.portal.status();
  return { n: st.pending_inputs as number, bytes: st.pending_input_bytes as number };
}

function inputsOf(rec: GameRecord, sessid: string): string[] {
  return rec.inputs.filter((i) => i.sessid === sessid && i.name === "text").map((i) => String(i.args[0]));
}

const dropped = (line: string) => DEFAULT_CONFIG.messages.inputDropped.replace("{line}", line);

// ---------------------------------------------------------------------------------------------

describe("lossless link v2 (integration, real TCP on 127.0.0.1)", function () {
  this.timeout(20_000);

  closeTrackedAfterEach(15_000);

  // -------------------------------------------------------------------------------------------
  describe("1. SDK dial window: hello first, nothing before the portal-sync ends", () => {
    it("against a portal the test controls: msg() is false until portal-sync-end, the first frame is the hello alone", async () => {
      const received = new FrameSink();
      const firstChunks: Buffer[] = [];
      let portalSide: Socket | undefined;
      const server = createServer((sock) => {
        portalSide = sock;
        tracked.sockets.push(sock);
        sock.on("error", () => undefined);
        sock.on("data", (chunk: Buffer) => {
          firstChunks.push(chunk);
          received.push(chunk);
        });
      });
      tracked.servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const port = (server.address() as { port: number }).port;
      const sessid = "portal:1:1";

      const { game, rec } = startGame({ port, secret: "the-secret" }, GAME);
      // Right after start(), in the same tick: nothing can be sent.
      expect(game.msg(sessid, "too early (same tick)")).to.equal(false);
      expect(game.ready).to.equal(false);
      const statusErr = await game.status().then(() => undefined, (e: unknown) => e);
      expect((statusErr as PortalError).code).to.equal(ErrorCodes.LINK_DOWN);
      // ... and on every tick until the portal answers, even once the TCP connection is up.
      for (let i = 0; i < 30; i++) {
        expect(game.msg(sessid, `too early ${i}`), `msg() #${i} in the dial window`).to.equal(false);
        await new Promise((resolve) => setImmediate(resolve));
      }
      await waitFor(() => received.frames.length >= 1, 2000, "first frame at the fake portal");
      expect(received.frames[0]!.startsWith("["), "a JSON array frame").to.equal(true);
      const first = JSON.parse(received.frames[0]!) as Json[];
      expect(first, "the first frame carries the hello and nothing else").to.have.length(1);
      expect(first[0]).to.deep.include({ op: "hello", version: LINK_VERSION, secret: "the-secret" });
      // The very first bytes on the wire are that frame's header.
      expect(Buffer.concat(firstChunks).readUInt32BE(0)).to.equal(Buffer.byteLength(received.frames[0]!));

      // The portal's sync begins: still nothing may be sent until it ends.
      const send = (...msgs: unknown[]) => portalSide!.write(encodeFrame(JSON.stringify(msgs)));
      send(
        { op: "portal-sync", version: LINK_VERSION, mode: "cold", portal_id: "portal", portal_run: 1, portal_start_time: 0, gen: 1, total: 1, limits: { max_frame_bytes: 1024 * 1024, max_server_data_bytes: 64 * 1024 } },
        { op: "portal-sync-sessions", sessions: [{ sessid, csessid: null, protocol_key: "test", address: null, uid: null, uname: null, logged_in: false, puid: null, conn_time: 0, cmd_last: 0, cmd_last_visible: 0, cmd_total: 0, protocol_flags: {}, server_data: {}, input_seq: 1 }], fresh: [sessid] },
      );
      await sleep(100);
      expect(game.msg(sessid, "too early (mid-sync)")).to.equal(false);
      expect(game.ready).to.equal(false);
      expect(rec.syncs).to.have.length(0);

      send({ op: "portal-sync-end", gen: 1 });
      await waitFor(() => game.ready, 2000, "SDK ready after portal-sync-end");
      expect(rec.syncs).to.have.length(1);
      expect(game.msg(sessid, "now")).to.equal(true);
      const out = await waitFor(() => received.messages.find((m) => m.op === "data-out"), 2000, "data-out at the fake portal");
      expect(out.sessid).to.equal(sessid);
      expect(out.cmds).to.have.length(1);
      expect(out.cmds[0].slice(0, 2)).to.deep.equal(["text", ["now"]]);
      // Nothing written in the window ever reached the wire.
      const ops = received.messages.map((m) => m.op).filter((op) => op !== "ping" && op !== "pong");
      expect(ops).to.deep.equal(["hello", "data-out"]);
    });

    it("the SDK acknowledges a frame's input (one ack, written to the socket) before it runs any callback of that frame", async () => {
      const h = await startPortal();
      const s = connectSession(h);
      const order: string[] = [];
      const { game } = startGame(h, {
        ...GAME,
        dial: (host, port) => {
          const sock = netConnect({ host, port });
          const write = sock.write.bind(sock) as (chunk: Buffer) => boolean;
          // Every frame the SDK writes, in order with the callbacks below.
          (sock as unknown as { write: (chunk: Buffer) => boolean }).write = (chunk: Buffer) => {
            const msgs = JSON.parse(chunk.toString("utf8", 4)) as Json[];
            for (const m of msgs) if (m.op === "ack") order.push(`ack:${JSON.stringify(m.seqs)}`);
            return write(chunk);
          };
          return sock;
        },
      }, { onInput: (_gs, _name, args) => void order.push(`input:${String(args[0])}`) });
      await waitFor(() => game.ready && game.get(s.sessid) !== undefined, 3000, "game synced with the session");
      s.input("one");
      s.input("two");
      await waitFor(() => order.length >= 3, 2000, "ack and inputs");
      expect(order).to.deep.equal([`ack:${JSON.stringify({ [s.sessid]: 2 })}`, "input:one", "input:two"]);
      await waitFor(() => pending(h).n === 0, 2000, "the portal released the acknowledged input");
    });

    it("against the real portal: msg() on every tick of the dial window is false, no PORTAL_ERR_LINK_AUTH; after ready it is true and arrives", async () => {
      const h = await startPortal();
      const s = connectSession(h);
      const { game } = startGame(h, GAME);
      const results: { ready: boolean; sent: boolean }[] = [];
      results.push({ ready: game.ready, sent: game.msg(s.sessid, "early") });
      while (!game.ready && results.length < 5000) {
        await new Promise((resolve) => setImmediate(resolve));
        results.push({ ready: game.ready, sent: game.msg(s.sessid, "early") });
      }
      expect(game.ready, "SDK became ready").to.equal(true);
      const window = results.filter((r) => !r.ready);
      expect(window.length, "some calls fell in the dial window").to.be.greaterThan(0);
      expect(window.every((r) => !r.sent), "msg() in the window returns false").to.equal(true);
      expect(game.msg(s.sessid, "late")).to.equal(true);
      await waitFor(() => s.texts.includes("late"), 2000, "output after ready");
      await sleep(50);
      // Calls while ready (the last probe) did go out; none from the window did, and the link was never refused.
      expect(s.texts.filter((t) => t === "early")).to.have.length(results.filter((r) => r.ready && r.sent).length);
      expect(h.logger.codes()).to.not.include(ErrorCodes.LINK_AUTH);
      expect(h.logger.codes()).to.not.include(ErrorCodes.LINK_FRAME);
      expect(linkConnected(h)).to.equal(true);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe("2. server_data over the cap", () => {
    it("handBack() with a 20 MB server_data on one session rejects naming it; the others are handed back; link and session stay", async () => {
      const h = await startPortal();
      const { game, rec } = startGame(h, GAME);
      await waitFor(() => game.ready, 3000, "game synced");
      const a = connectSession(h);
      const b = connectSession(h);
      const big = connectSession(h);
      await waitFor(() => game.sessions.size === 3, 2000, "three sessions announced");
      const ga = game.get(a.sessid)!;
      const gb = game.get(b.sessid)!;
      const gbig = game.get(big.sessid)!;

      gbig.server_data = { v: "big1" };
      expect(game.syncSession(gbig)).to.equal(true);
      await waitFor(() => big.server_data.v === "big1", 2000, "first server_data of the big session at the portal");

      ga.server_data = { v: "a2" };
      gb.server_data = { v: "b2" };
      gbig.server_data = { v: "big2", blob: "x".repeat(20 * 1024 * 1024) };
      expect(game.syncSession(gbig), "syncSession of an oversized server_data sends nothing").to.equal(false);

      const err = await game.handBack().then(() => undefined, (e: unknown) => e);
      expect(err, "handBack must reject").to.be.instanceOf(PortalError);
      expect((err as PortalError).code).to.equal(ErrorCodes.SERVER_DATA_TOO_LARGE);
      expect((err as PortalError).message).to.include(big.sessid);
      expect((err as PortalError).message).to.not.include(a.sessid);
      expect((err as PortalError).message).to.not.include(b.sessid);

      // The others were handed back; the big one keeps its previous server_data and its connection.
      expect(a.server_data).to.deep.equal({ v: "a2" });
      expect(b.server_data).to.deep.equal({ v: "b2" });
      expect(big.server_data).to.deep.equal({ v: "big1" });
      expect(h.portal.handler.get(big.sessid)).to.equal(big);
      expect(big.closeReasons).to.deep.equal([]);
      expect(h.portal.handler.all()).to.have.length(3);

      // The link is up: output still flows.
      expect(game.ready).to.equal(true);
      expect(rec.linkDowns).to.equal(0);
      expect(linkConnected(h)).to.equal(true);
      expect(game.msg(gbig, "still linked")).to.equal(true);
      await waitFor(() => big.texts.includes("still linked"), 2000, "output after the refused hand-back");
      expect(h.logger.codes()).to.not.include(ErrorCodes.LINK_FRAME);
    });

    it("a raw session-sync whose entry has a 2 MB server_data: error + reply ok:false with PORTAL_ERR_SERVER_DATA_TOO_LARGE; other fields taken; link stays up", async () => {
      const h = await startPortal();
      const s = connectSession(h);
      s.server_data = { keep: true };
      const peer = await authenticatedPeer(h, SYNCED);
      const blob = "y".repeat(2 * 1024 * 1024);
      peer.send({ op: "session-sync", clean: false, id: 5, sessions: [{ sessid: s.sessid, puid: 77, server_data: { blob } }] });
      const reply = await peer.waitOp("reply", (m) => m.id === 5, 5000);
      expect(reply.ok).to.equal(false);
      expect(reply.error.code).to.equal(ErrorCodes.SERVER_DATA_TOO_LARGE);
      expect(reply.error.message).to.include(s.sessid);
      const errs = peer.ofOp("error");
      expect(errs).to.have.length(1);
      expect(errs[0]).to.include({ code: ErrorCodes.SERVER_DATA_TOO_LARGE, ref_op: "session-sync" });
      expect(errs[0]!.message).to.include(s.sessid);

      expect(s.server_data).to.deep.equal({ keep: true });
      expect(s.puid, "the entry's other fields are taken").to.equal(77);
      expect(s.closeReasons).to.deep.equal([]);

      // The link stays up and keeps working.
      expect(await peer.roundTrip()).to.deep.equal([]);
      peer.send({ op: "data-out", sessid: s.sessid, cmds: [["text", ["after the refusal"], {}]] });
      await waitFor(() => s.texts.includes("after the refusal"), 2000, "output after the refusal");
      expect(peer.closed).to.equal(false);
      expect(linkConnected(h)).to.equal(true);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe("3. a 5 000-session portal-sync in parts", () => {
    const MAX_FRAME = 256 * 1024;
    const link = { maxFrameBytes: MAX_FRAME, maxServerDataBytes: 64 * 1024 };

    it("is sent in many parts (each frame within maxFrameBytes); the SDK gets all sessions and server_data, one onSync; handBack of 5 000 resolves", async function () {
      this.timeout(30_000);
      const N = 5000;
      const h = await startPortal({ link });
      const sessions = connectSessions(h, N, (i) => ({ n: i, note: `session ${i}: ${"abcdefghij".repeat(28)}` })); // about 300 bytes each
      const ids = sessions.map((s) => s.sessid);

      // A raw peer counts the parts and measures every frame.
      const peer = await authenticatedPeer(h, { ...SYNCED, waitMs: 10_000 });
      const end = peer.ofOp("portal-sync-end")[0]!;
      const header = peer.ofOp("portal-sync")[0]!;
      expect(header.total).to.equal(N);
      expect(header.limits).to.deep.equal({ max_frame_bytes: MAX_FRAME, max_server_data_bytes: 64 * 1024 });
      expect(end.gen).to.equal(header.gen);
      const parts = peer.ofOp("portal-sync-sessions");
      expect(parts.length, "number of portal-sync-sessions parts").to.be.greaterThan(1);
      const sizes = peer.frames.map((f) => Buffer.byteLength(f));
      expect(Math.max(...sizes), "largest frame").to.be.at.most(MAX_FRAME);
      // header, parts, end: in that order.
      const order = peer.messages.map((m) => m.op);
      expect(order[0]).to.equal("portal-sync");
      expect(order.indexOf("portal-sync-end")).to.equal(parts.length + 1);
      const listed = parts.flatMap((p) => p.sessions as Json[]);
      expect(listed.map((e) => e.sessid)).to.deep.equal(ids);
      expect(parts.flatMap((p) => p.fresh as string[])).to.deep.equal(ids);
      expect(listed.every((e, i) => e.input_seq === 1 && e.server_data.n === i && e.server_data.note === sessions[i]!.server_data.note)).to.equal(true);
      peer.socket.destroy();
      await waitFor(() => !linkConnected(h), 2000, "raw peer gone");

      // The real SDK.
      const { game, rec } = startGame(h, GAME);
      await waitFor(() => game.ready, 10_000, "SDK synced with 5 000 sessions");
      await sleep(100);
      expect(rec.syncs, "onSync fires once").to.have.length(1);
      const sync = rec.syncs[0]!;
      expect(sync.restored.length + sync.fresh.length).to.equal(N);
      expect(sync.restored.map((x) => x.sessid)).to.deep.equal(ids); // announced to the raw peer already
      expect(game.sessions.size).to.equal(N);
      const mismatched = sessions.filter((s) => JSON.stringify(game.get(s.sessid)?.server_data) !== JSON.stringify(s.server_data));
      expect(mismatched.map((s) => s.sessid), "sessions whose server_data did not arrive intact").to.deep.equal([]);

      // Hand everything back in parts, with a change per session.
      for (const gs of game.sessions.values()) gs.server_data = { ...gs.server_data, handed: true };
      await game.handBack();
      expect(sessions.filter((s) => s.server_data.handed !== true).length, "sessions whose handed-back server_data is missing").to.equal(0);
      expect(h.portal.handler.all()).to.have.length(N);
      expect(sessions.filter((s) => s.closeReasons.length > 0).length, "sessions disconnected").to.equal(0);
      expect(game.ready).to.equal(true);
      expect(h.logger.codes()).to.not.include(ErrorCodes.LINK_FRAME);
      expect(h.logger.codes()).to.not.include(ErrorCodes.LINK_SYNC);
    });

    // Regression: the SDK once batched by its own 16 MiB default instead of the max_frame_bytes the
    // portal announced in portal-sync, so several handBack() parts shared one oversized frame and the
    // portal dropped the link. The SDK now adopts the portal's limit (LinkConnection.raiseFrameLimit).
    it("handBack() with non-ASCII server_data under a 256 KiB portal frame cap stays within the cap (both directions)", async function () {
      this.timeout(20_000);
      const N = 400;
      const h = await startPortal({ link });
      const sessions = connectSessions(h, N, (i) => ({ n: i, desc: "Ærøskøbing café € ".repeat(50) })); // ~900 UTF-16 units, ~1 300 bytes
      const peer = await authenticatedPeer(h, { ...SYNCED, waitMs: 5000 });
      expect(Math.max(...peer.frames.map((f) => Buffer.byteLength(f))), "largest portal→game frame").to.be.at.most(MAX_FRAME);
      peer.socket.destroy();
      await waitFor(() => !linkConnected(h), 2000, "raw peer gone");

      const { game, rec } = startGame(h, GAME);
      await waitFor(() => game.ready, 5000, "SDK synced");
      expect(game.get(sessions[7]!.sessid)!.server_data).to.deep.equal(sessions[7]!.server_data);
      for (const gs of game.sessions.values()) gs.server_data = { ...gs.server_data, handed: true };
      const err = await game.handBack().then(() => undefined, (e: unknown) => e);
      const refusal = h.logger.entries.find((e) => e.fields.code === ErrorCodes.LINK_FRAME);
      expect(h.logger.codes(), `the portal refused an over-size frame from the SDK: ${refusal?.msg}`).to.not.include(ErrorCodes.LINK_FRAME);
      expect(err, `handBack rejected: ${(err as Error | undefined)?.message}`).to.equal(undefined);
      expect(rec.linkDowns).to.equal(0);
      expect(sessions.every((s) => s.server_data.handed === true)).to.equal(true);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe("4. sync generations and parts", () => {
    it("a clean sync naming generation g does not close a session announced at g+1; one naming g+1 does", async () => {
      const h = await startPortal();
      const a = connectSession(h);
      const b = connectSession(h);
      const peer = await authenticatedPeer(h, SYNCED);
      const g = peer.ofOp("portal-sync")[0]!.gen as number;
      expect(g).to.be.a("number");
      expect(peer.ofOp("portal-sync-end")[0]!.gen).to.equal(g);

      // c connects; the game's clean sync (written from its view at g) crosses its session-connect.
      const c = connectSession(h);
      peer.send({ op: "session-sync", clean: true, gen: g, sessions: [{ sessid: a.sessid }], id: 1 });
      const announced = await peer.waitOp("session-connect", (m) => m.session.sessid === c.sessid);
      expect(announced.gen).to.equal(g + 1);
      const r1 = await peer.waitOp("reply", (m) => m.id === 1);
      expect(r1.ok).to.equal(true);
      // b was announced at g and is not listed: closed. c was announced after g: kept.
      expect(r1.result).to.deep.equal({ applied: 1, closed: 1 });
      expect(b.closeReasons).to.have.length(1);
      expect(h.portal.handler.get(b.sessid)).to.equal(undefined);
      expect(c.closeReasons, "the session whose connect was in flight").to.deep.equal([]);
      expect(h.portal.handler.get(c.sessid)).to.equal(c);
      expect(a.closeReasons).to.deep.equal([]);

      // Once the game's view includes g+1, a clean sync without c closes it.
      peer.send({ op: "session-sync", clean: true, gen: g + 1, sessions: [{ sessid: a.sessid }], id: 2 });
      const r2 = await peer.waitOp("reply", (m) => m.id === 2);
      expect(r2.ok).to.equal(true);
      expect(r2.result).to.deep.equal({ applied: 1, closed: 1 });
      expect(c.closeReasons).to.have.length(1);
      expect(h.portal.handler.get(c.sessid)).to.equal(undefined);
      expect(a.closeReasons).to.deep.equal([]);
      expect(peer.ofOp("error")).to.deep.equal([]);
    });

    it("a clean sync in parts (more:true): nobody is closed before the last part; sessions listed only in earlier parts are kept", async () => {
      const h = await startPortal();
      const [a, b, c, d] = [connectSession(h), connectSession(h), connectSession(h), connectSession(h)];
      const peer = await authenticatedPeer(h, SYNCED);
      const g = peer.ofOp("portal-sync")[0]!.gen as number;

      expect(await peer.roundTrip({ op: "session-sync", clean: true, gen: g, more: true, sessions: [{ sessid: a.sessid, uname: "A" }] })).to.deep.equal([]);
      expect(peer.ofOp("reply").filter((r) => r.id < 1000), "no reply for a part without id").to.deep.equal([]);
      for (const s of [a, b, c, d]) expect(s.closeReasons, `${s.sessid} after part 1`).to.deep.equal([]);
      expect(h.portal.handler.all()).to.have.length(4);

      peer.send({ op: "session-sync", clean: true, gen: g, more: true, sessions: [{ sessid: b.sessid }] });
      peer.send({ op: "session-sync", clean: true, gen: g, sessions: [{ sessid: c.sessid }], id: 2 });
      const reply = await peer.waitOp("reply", (m) => m.id === 2);
      expect(reply.ok).to.equal(true);
      expect(reply.result).to.deep.equal({ applied: 3, closed: 1 });
      expect(a.closeReasons, "listed only in part 1").to.deep.equal([]);
      expect(b.closeReasons, "listed only in part 2").to.deep.equal([]);
      expect(c.closeReasons).to.deep.equal([]);
      expect(d.closeReasons, "listed in no part").to.have.length(1);
      expect(a.uname).to.equal("A");
      expect(peer.ofOp("error")).to.deep.equal([]);
    });

    it("a clean:false part while a clean sync is open: PORTAL_ERR_LINK_SYNC, nobody closed, the link stays consistent", async () => {
      const h = await startPortal();
      const [a, b, c] = [connectSession(h), connectSession(h), connectSession(h)];
      const peer = await authenticatedPeer(h, SYNCED);
      const g = peer.ofOp("portal-sync")[0]!.gen as number;

      const errs = await peer.roundTrip(
        { op: "session-sync", clean: true, gen: g, more: true, sessions: [{ sessid: a.sessid }] },
        { op: "session-sync", clean: false, sessions: [{ sessid: b.sessid }], id: 3 },
      );
      expect(errs).to.have.length(1);
      expect(errs[0]).to.include({ code: ErrorCodes.LINK_SYNC, ref_op: "session-sync" });
      const r3 = peer.ofOp("reply").find((m) => m.id === 3);
      expect(r3, "the refused part's id is answered").to.not.equal(undefined);
      expect(r3!.ok).to.equal(false);
      expect(r3!.error.code).to.equal(ErrorCodes.LINK_SYNC);
      for (const s of [a, b, c]) expect(s.closeReasons, s.sessid).to.deep.equal([]);
      expect(h.portal.handler.all()).to.have.length(3);
      expect(h.logger.codes()).to.include(ErrorCodes.LINK_SYNC);

      // The abandoned sync leaves nothing open: a whole clean sync afterwards works normally.
      peer.send({ op: "session-sync", clean: true, gen: g, sessions: [a, b, c].map((s) => ({ sessid: s.sessid })), id: 4 });
      const r4 = await peer.waitOp("reply", (m) => m.id === 4);
      expect(r4.ok).to.equal(true);
      expect(r4.result).to.deep.equal({ applied: 3, closed: 0 });
      for (const s of [a, b, c]) expect(s.closeReasons, s.sessid).to.deep.equal([]);
      expect(peer.closed).to.equal(false);
      expect(linkConnected(h)).to.equal(true);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe("5. acknowledgements", () => {
    it("refuses acks beyond what was sent, twice, backwards or zero, each with PORTAL_ERR_LINK_ACK and nothing released; valid ones release exactly what they cover", async () => {
      const h = await startPortal();
      const s = connectSession(h);
      const t = connectSession(h);
      const peer = await authenticatedPeer(h, SYNCED);
      for (let i = 1; i <= 5; i++) s.input(`s${i}`);
      for (let i = 1; i <= 3; i++) t.input(`t${i}`);
      await waitFor(() => peer.inputsOf(s.sessid).length === 5 && peer.inputsOf(t.sessid).length === 3, 2000, "inputs at the peer");
      expect(peer.inputsOf(s.sessid)).to.deep.equal([1, 2, 3, 4, 5].map((n) => [n, `s${n}`]));
      expect(peer.inputsOf(t.sessid)).to.deep.equal([1, 2, 3].map((n) => [n, `t${n}`]));
      expect(pending(h).n).to.equal(8);

      const refused = async (seqs: Record<string, number>, what: string) => {
        const before = pending(h);
        const errs = await peer.roundTrip({ op: "ack", seqs });
        expect(errs, what).to.have.length(1);
        expect(errs[0], what).to.include({ code: ErrorCodes.LINK_ACK, ref_op: "ack" });
        expect(errs[0]!.message, what).to.include(s.sessid);
        expect(pending(h), `${what}: nothing released`).to.deep.equal(before);
      };
      const accepted = async (seqs: Record<string, number>, releases: number, what: string) => {
        const before = pending(h);
        const errs = await peer.roundTrip({ op: "ack", seqs });
        expect(errs, what).to.deep.equal([]);
        expect(pending(h).n, `${what}: released`).to.equal(before.n - releases);
        if (releases > 0) expect(pending(h).bytes, `${what}: bytes released`).to.be.below(before.bytes);
      };

      await refused({ [s.sessid]: 6 }, "ack beyond the last seq sent");
      await refused({ [s.sessid]: 1_000_000 }, "ack far beyond");
      await accepted({ [s.sessid]: 3 }, 3, "valid ack of 1..3");
      await refused({ [s.sessid]: 3 }, "the same ack twice");
      await refused({ [s.sessid]: 2 }, "a lower ack after a higher one");
      await refused({ [s.sessid]: 0 }, "ack of zero");
      // Refused per entry: the bad entry changes nothing, the good one in the same message is applied.
      const before = pending(h).n;
      const errs = await peer.roundTrip({ op: "ack", seqs: { [s.sessid]: 9, [t.sessid]: 2 } });
      expect(errs).to.have.length(1);
      expect(errs[0]!.code).to.equal(ErrorCodes.LINK_ACK);
      expect(errs[0]!.message).to.include(s.sessid);
      expect(errs[0]!.message).to.not.include(t.sessid);
      expect(pending(h).n).to.equal(before - 2);
      // Unknown sessions are skipped silently.
      await accepted({ "portal:1:999999": 4 }, 0, "unknown session");
      await accepted({ [s.sessid]: 4 }, 1, "valid ack of 4");
      expect(pending(h).n).to.equal(2); // s5 and t3
      expect(peer.closed).to.equal(false);
      expect(linkConnected(h)).to.equal(true);
      expect(h.logger.codes()).to.include(ErrorCodes.LINK_ACK);

      // Nothing lost, nothing acknowledged comes back: the next game gets exactly s5 and t3.
      peer.socket.destroy();
      await waitFor(() => !linkConnected(h), 2000, "peer gone");
      const next = await authenticatedPeer(h, SYNCED);
      await waitFor(() => next.ofOp("data-in").length === 2, 2000, "replay");
      await sleep(50);
      expect(next.ofOp("data-in")).to.deep.equal([
        { op: "data-in", sessid: s.sessid, seq: 5, cmds: [["text", ["s5"], {}]] },
        { op: "data-in", sessid: t.sessid, seq: 3, cmds: [["text", ["t3"], {}]] },
      ]);
    });

    it("a game that never acks: the per-session bound is hit, the player is told which line was not kept; the next game gets exactly the unacknowledged input", async () => {
      const h = await startPortal({ limits: { pendingInputMax: 5 } });
      const s = connectSession(h);
      const t = connectSession(h);
      const peer = await authenticatedPeer(h, SYNCED);

      // s: five lines, two acknowledged, then more until the bound.
      for (let i = 1; i <= 5; i++) s.input(`s${i}`);
      await waitFor(() => peer.inputsOf(s.sessid).length === 5, 2000, "s1..s5 at the peer");
      expect(await peer.roundTrip({ op: "ack", seqs: { [s.sessid]: 2 } })).to.deep.equal([]);
      for (let i = 6; i <= 8; i++) s.input(`s${i}`);
      // t: never acknowledged.
      for (let i = 1; i <= 9; i++) t.input(`t${i}`);
      await sleep(50);

      expect(s.texts.filter((x) => x.includes("not kept"))).to.deep.equal([dropped("s8")]);
      expect(t.texts.filter((x) => x.includes("not kept"))).to.deep.equal(["t6", "t7", "t8", "t9"].map(dropped));
      expect(pending(h).n, "bounded: 5 per session").to.equal(10);
      expect(h.logger.codes()).to.include(ErrorCodes.INPUT_QUEUE_FULL);
      // Lines not kept were not sent either, and they used no sequence number.
      await peer.roundTrip();
      expect(peer.inputsOf(s.sessid).map((x) => x[1])).to.deep.equal(["s1", "s2", "s3", "s4", "s5", "s6", "s7"]);
      expect(peer.inputsOf(t.sessid)).to.deep.equal([1, 2, 3, 4, 5].map((n) => [n, `t${n}`]));

      // More typing while still full stays bounded.
      for (let i = 10; i <= 30; i++) t.input(`t${i}`);
      expect(pending(h).n).to.equal(10);
      expect(t.texts.at(-1)).to.equal(dropped("t30"));

      // The game goes; the next one gets the unacknowledged input, in order, with the right numbers.
      peer.socket.destroy();
      await waitFor(() => !linkConnected(h), 2000, "peer gone");
      const next = await authenticatedPeer(h, SYNCED);
      await waitFor(() => next.ofOp("data-in").length === 2, 2000, "replay");
      await sleep(50);
      const ops = next.messages.map((m) => m.op).filter((op) => op !== "ping");
      const endAt = ops.indexOf("portal-sync-end");
      expect(ops.slice(endAt + 1), "replay comes right after the sync").to.deep.equal(["data-in", "data-in"]);
      const entries = next.ofOp("portal-sync-sessions").flatMap((p) => p.sessions as Json[]);
      expect(entries.find((e) => e.sessid === s.sessid)!.input_seq).to.equal(3);
      expect(entries.find((e) => e.sessid === t.sessid)!.input_seq).to.equal(1);
      const replay = next.ofOp("data-in");
      expect(replay.find((m) => m.sessid === s.sessid)).to.deep.equal({ op: "data-in", sessid: s.sessid, seq: 3, cmds: ["s3", "s4", "s5", "s6", "s7"].map((l) => ["text", [l], {}]) });
      expect(replay.find((m) => m.sessid === t.sessid)).to.deep.equal({ op: "data-in", sessid: t.sessid, seq: 1, cmds: ["t1", "t2", "t3", "t4", "t5"].map((l) => ["text", [l], {}]) });

      // Acknowledged, the room is back; the next line continues the numbering.
      expect(await next.roundTrip({ op: "ack", seqs: { [s.sessid]: 7, [t.sessid]: 5 } })).to.deep.equal([]);
      expect(pending(h).n).to.equal(0);
      t.input("t-after");
      const after = await next.waitOp("data-in", (m) => m.cmds[0][1][0] === "t-after");
      expect(after.seq).to.equal(6);
    });

    // Regression: the replay was once one data-in per session; over maxFrameBytes it was refused after
    // being counted as sent, and a later ack released it unseen. data-in is now split into frame-sized
    // parts with consecutive seq ranges.
    it("held input larger than one link frame is still replayed whole, in order (link.maxFrameBytes 64 KiB)", async () => {
      const h = await startPortal({ link: { maxFrameBytes: 64 * 1024, maxServerDataBytes: 16 * 1024 } });
      const s = connectSession(h);
      const lines = Array.from({ length: 40 }, (_, i) => `line ${i} ${"z".repeat(3000)}`);
      for (const l of lines) s.input(l); // the game is away: about 120 KB held, within limits.inputRetainBytes
      expect(pending(h).n).to.equal(40);
      expect(s.texts.filter((x) => x.includes("not kept"))).to.deep.equal([]);

      const { game, rec } = startGame(h, GAME);
      await waitFor(() => game.ready, 3000, "game synced");
      await waitFor(() => inputsOf(rec, s.sessid).length === 40, 3000, () =>
        `the 40 held lines at the game (got ${inputsOf(rec, s.sessid).length}; portal log: ${h.logger.entries.filter((e) => e.fields.code === ErrorCodes.LINK_FRAME).map((e) => e.msg).join(" | ")})`);
      expect(inputsOf(rec, s.sessid)).to.deep.equal(lines);
      await waitFor(() => pending(h).n === 0, 2000, "replay acknowledged");
      s.input("after");
      await waitFor(() => inputsOf(rec, s.sessid).length === 41, 2000, "input after the replay");
      expect(inputsOf(rec, s.sessid)).to.deep.equal([...lines, "after"]);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe("6. same-process reconnect", () => {
    it("input taken in whose ack was lost with the link is replayed by the portal and dropped by the SDK: onInput sees each once", async () => {
      const h = await startPortal();
      const s = connectSession(h);
      // What the portal sent on each proxied connection, in accept order, so the test can see the replay.
      const downstream: FrameSink[] = [];
      const proxy = await startProxy(h.port, {
        tap: (direction, chunk, connection) => {
          if (direction !== "toClient") return;
          try {
            (downstream[connection] ??= new FrameSink()).push(chunk);
          } catch {
            // only for inspection
          }
        },
      });
      const { game, rec } = startGame({ port: proxy.port, secret: h.secret }, { ...GAME, backoff: FAST_REDIAL });
      await waitFor(() => game.ready, 3000, "game synced");
      await waitFor(() => game.get(s.sessid), 2000, "session known to the game");

      s.input("a1");
      await waitFor(() => inputsOf(rec, s.sessid).length === 1, 2000, "a1 taken in");
      await waitFor(() => pending(h).n === 0, 2000, "a1 acknowledged");

      // The game→portal path goes silent: the game takes in b1, b2 but its ack never arrives.
      proxy.hold("toTarget");
      s.input("b1");
      s.input("b2");
      await waitFor(() => inputsOf(rec, s.sessid).length === 3, 2000, "b1, b2 taken in");
      await waitFor(() => proxy.dropped.toTarget > 0, 2000, "the ack was lost");
      await sleep(50);
      expect(pending(h).n, "the portal never got the ack").to.equal(2);

      // The connection dies; the same SDK redials and is synced again.
      proxy.cut();
      proxy.hold("toTarget", false);
      await waitFor(() => rec.syncs.length === 2 && game.ready, 5000, "resynced after the cut");
      await waitFor(() => pending(h).n === 0, 2000, "replayed input acknowledged");
      await sleep(100);

      // The portal did replay b1, b2 on the new connection...
      const second = downstream.at(-1)!;
      const entry = second.messages.filter((m) => m.op === "portal-sync-sessions").flatMap((p) => p.sessions as Json[]).find((e) => e.sessid === s.sessid);
      expect(entry!.input_seq).to.equal(2);
      expect(second.messages.filter((m) => m.op === "data-in")).to.deep.equal([{ op: "data-in", sessid: s.sessid, seq: 2, cmds: [["text", ["b1"], {}], ["text", ["b2"], {}]] }]);
      // ... and the SDK ran each input once.
      expect(inputsOf(rec, s.sessid)).to.deep.equal(["a1", "b1", "b2"]);
      expect(rec.syncs[1]!.mode).to.equal("crash");

      s.input("c1");
      await waitFor(() => inputsOf(rec, s.sessid).length === 4, 2000, "c1 taken in");
      await sleep(50);
      expect(inputsOf(rec, s.sessid)).to.deep.equal(["a1", "b1", "b2", "c1"]);
      expect(s.closeReasons).to.deep.equal([]);
    });

    it("input the game never received (portal→game path stalled) is replayed after the redial and runs once", async () => {
      const h = await startPortal();
      const s = connectSession(h);
      const proxy = await startProxy(h.port);
      const { game, rec } = startGame({ port: proxy.port, secret: h.secret }, { ...GAME, backoff: FAST_REDIAL });
      await waitFor(() => game.ready && game.get(s.sessid), 3000, "game synced");
      s.input("one");
      await waitFor(() => inputsOf(rec, s.sessid).length === 1 && pending(h).n === 0, 2000, "one taken in and acknowledged");

      proxy.hold("toClient");
      s.input("two");
      s.input("three");
      await waitFor(() => proxy.dropped.toClient > 0, 2000, "input lost on the way");
      await sleep(50);
      expect(inputsOf(rec, s.sessid)).to.deep.equal(["one"]);
      expect(pending(h).n).to.equal(2);

      proxy.cut();
      proxy.hold("toClient", false);
      await waitFor(() => inputsOf(rec, s.sessid).length === 3, 5000, "replayed input taken in");
      await waitFor(() => pending(h).n === 0, 2000, "and acknowledged");
      await sleep(100);
      expect(inputsOf(rec, s.sessid)).to.deep.equal(["one", "two", "three"]);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe("7. planned reload across two game processes", () => {
    it("A takes some input, pauses, hands back and stops; B gets exactly the rest, in order; together each input once", async () => {
      const h = await startPortal();
      const s = connectSession(h);
      const u = connectSession(h);
      const A = startGame(h, GAME);
      await waitFor(() => A.game.ready && A.game.sessions.size === 2, 3000, "A synced");

      for (const n of [1, 2, 3]) s.input(`s${n}`);
      u.input("u1");
      await waitFor(() => A.rec.inputs.length === 4, 2000, "A took 4 inputs");
      await waitFor(() => pending(h).n === 0, 2000, "A acknowledged them");

      A.game.pauseInput();
      for (const n of [4, 5, 6]) s.input(`s${n}`);
      u.input("u2");
      await sleep(150);
      expect(A.rec.inputs, "paused: nothing more delivered to A").to.have.length(4);
      expect(pending(h).n, "paused: nothing acknowledged").to.equal(4);

      expect(A.game.msg(A.game.get(s.sessid)!, "saving the world")).to.equal(true);
      A.game.announceStop("reload");
      await A.game.handBack();
      // handBack resolves only after everything sent before it reached the portal.
      expect(s.texts).to.include("saving the world");
      await A.game.stop();
      await waitFor(() => !linkConnected(h), 2000, "A gone");
      s.input("s7"); // typed while no game is connected
      expect(s.texts).to.include(DEFAULT_CONFIG.messages.gameRestarting);

      const B = startGame(h, GAME);
      await waitFor(() => B.rec.inputs.length === 5, 3000, "B got the rest");
      await waitFor(() => pending(h).n === 0, 2000, "B acknowledged it");
      await sleep(100);
      expect(B.rec.syncs.map((x) => x.mode)).to.deep.equal(["reload"]);
      expect(inputsOf(B.rec, s.sessid)).to.deep.equal(["s4", "s5", "s6", "s7"]);
      expect(inputsOf(B.rec, u.sessid)).to.deep.equal(["u2"]);
      expect([...inputsOf(A.rec, s.sessid), ...inputsOf(B.rec, s.sessid)]).to.deep.equal(["s1", "s2", "s3", "s4", "s5", "s6", "s7"]);
      expect([...inputsOf(A.rec, u.sessid), ...inputsOf(B.rec, u.sessid)]).to.deep.equal(["u1", "u2"]);
      expect(s.closeReasons).to.deep.equal([]);
      expect(u.closeReasons).to.deep.equal([]);
    });
  });
});
