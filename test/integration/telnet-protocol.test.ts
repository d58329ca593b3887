import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { X509Certificate } from "node:crypto";
import type { TLSSocket } from "node:tls";
import { Portal } from "../../core/portal.js";
import { GameSessionHandler, readLinkSecret, type GameSession } from "../../core/game/index.js";
import { FakeClock, MemoryLogger } from "../../core/testing/index.js";
import type { Kwargs } from "../../core/index.js";
import { bundledPlugins } from "../../plugins/index.js";
import { T, TelnetProtocolClient as TelnetTestClient, naws, neg, sb, type Answers } from "../support/telnet-protocol-client.js";
import { sleep, waitFor } from "../../core/testing/wait-for.js";

// ---------------------------------------------------------------------------------------------
// Harness: a portal with one telnet listener and a game SDK that records what it sees. Every
// portal, SDK, socket and temp dir made here is torn down in afterEach.
// ---------------------------------------------------------------------------------------------

interface GameRecord {
  sdk: GameSessionHandler;
  connects: GameSession[];
  disconnects: string[];
  inputs: { sessid: string; name: string; args: unknown[]; kwargs: Kwargs }[];
  updates: { sessid: string; flags: Record<string, unknown> }[];
}

interface Harness {
  portal: Portal;
  logger: MemoryLogger;
  dataDir: string;
  port: number;
  game: GameRecord;
  clock: FakeClock | undefined;
}

interface BootOptions {
  clock?: FakeClock;
  limits?: Record<string, unknown>;
  onConnect?: (session: GameSession, sdk: GameSessionHandler) => void;
}

const portals: Portal[] = [];
const sdks: GameSessionHandler[] = [];
const clients: TelnetTestClient[] = [];
const dirs: string[] = [];

function tempDir(prefix = "portico-telnet-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

async function boot(listener: Record<string, unknown> = {}, opts: BootOptions = {}): Promise<Harness> {
  const dataDir = tempDir();
  const logger = new MemoryLogger();
  const portal = new Portal({
    config: {
      dataDir,
      link: { port: 0 },
      limits: { maxConnectionRate: 0, ...opts.limits },
      listeners: [{
        plugin: "plugins.telnet.TelnetFactory",
        config: { host: "127.0.0.1", port: 0, handshakeTimeoutMs: 5000, nawsDebounceMs: 0, ...listener },
      }],
    },
    plugins: bundledPlugins,
    logger,
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  portals.push(portal);
  await portal.start();
  const port = Number(portal.launcher.list()[0]!.status.port);
  expect(port).to.be.greaterThan(0);

  const game: GameRecord = { sdk: undefined as unknown as GameSessionHandler, connects: [], disconnects: [], inputs: [], updates: [] };
  const sdk = new GameSessionHandler({
    host: "127.0.0.1",
    port: portal.linkAddress!.port,
    secret: readLinkSecret(dataDir),
    callbacks: {
      onConnect: (s) => {
        game.connects.push(s);
        opts.onConnect?.(s, sdk);
      },
      onDisconnect: (s) => game.disconnects.push(s.sessid),
      onInput: (s, name, args, kwargs) => game.inputs.push({ sessid: s.sessid, name, args, kwargs }),
      onSessionUpdate: (s) => game.updates.push({ sessid: s.sessid, flags: structuredClone(s.protocol_flags) }),
    },
  });
  game.sdk = sdk;
  sdks.push(sdk);
  sdk.start();
  await waitFor(() => sdk.ready, 3000, "game SDK synced");
  return { portal, logger, dataDir, port, game, clock: opts.clock };
}

/** Opens a client and waits until the game has the new session. */
async function open(h: Harness, answers: Answers = {}): Promise<{ c: TelnetTestClient; sessid: string }> {
  const known = new Set(h.game.connects.map((s) => s.sessid));
  const c = await TelnetTestClient.open(h.port, answers);
  clients.push(c);
  const s = await waitFor(() => h.game.connects.find((x) => !known.has(x.sessid)), 2000, "game sees the new session");
  return { c, sessid: s.sessid };
}

function flagsOf(h: Harness, sessid: string): Record<string, unknown> {
  const s = h.portal.handler.get(sessid);
  if (!s) throw new Error(`no portal session ${sessid}`);
  return s.protocol_flags;
}

async function waitFlag(h: Harness, sessid: string, key: string, value: unknown, timeoutMs = 2000): Promise<void> {
  await waitFor(() => JSON.stringify(flagsOf(h, sessid)[key]) === JSON.stringify(value), timeoutMs, () => `flag ${key} = ${JSON.stringify(value)} (now ${JSON.stringify(flagsOf(h, sessid)[key])})`);
}

function out(h: Harness, sessid: string, ...cmds: [string, unknown[], Record<string, unknown>][]): void {
  h.portal.handler.data_out(sessid, cmds);
}

function textInputs(h: Harness, sessid: string): string[] {
  return h.game.inputs.filter((i) => i.sessid === sessid && i.name === "text").map((i) => String(i.args[0]));
}

function updatesFor(h: Harness, sessid: string): Record<string, unknown>[] {
  return h.game.updates.filter((u) => u.sessid === sessid).map((u) => u.flags);
}

/** The logical stream from the first occurrence of `marker` on. */
function streamFrom(c: TelnetTestClient, marker: string | Buffer): Buffer {
  const all = c.streamBytes();
  const at = all.indexOf(typeof marker === "string" ? Buffer.from(marker, "utf8") : marker);
  if (at < 0) throw new Error(`marker ${String(marker)} not in the stream: ${JSON.stringify(all.toString("latin1").slice(-200))}`);
  return all.subarray(at);
}

const bytes = (...parts: (number | string | Buffer)[]): Buffer =>
  Buffer.concat(parts.map((p) => (typeof p === "number" ? Buffer.from([p]) : typeof p === "string" ? Buffer.from(p, "latin1") : p)));

/** A client answering every offer, like a full-featured MUD client (no MCCP, so the stream stays readable). */
const FULL: Answers = {
  will: { [T.SGA]: true, [T.MCCP2]: false, [T.MSSP]: false, [T.MSDP]: false, [T.GMCP]: true, [T.MXP]: false, [T.EOR_OPT]: true, [T.CHARSET]: false, [T.ECHO]: true },
  do: { [T.NAWS]: true, [T.TTYPE]: true },
  ttype: ["MUDLET", "XTERM", "MTTS 137"],
  naws: [100, 30],
};

/** Refuses everything (answers every offer with DONT / WONT). */
const REFUSE_ALL: Answers = {
  will: { [T.SGA]: false, [T.MCCP2]: false, [T.MSSP]: false, [T.MSDP]: false, [T.GMCP]: false, [T.MXP]: false, [T.EOR_OPT]: false, [T.CHARSET]: false },
  do: { [T.NAWS]: false, [T.TTYPE]: false },
};

function withAnswers(base: Answers, extra: Answers): Answers {
  return { ...base, ...extra, will: { ...base.will, ...extra.will }, do: { ...base.do, ...extra.do } };
}

afterEach(async function () {
  this.timeout(15000);
  for (const c of clients.splice(0)) c.destroy();
  for (const s of sdks.splice(0)) await s.stop().catch(() => undefined);
  for (const p of portals.splice(0)) await p.stop().catch(() => undefined);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------

describe("telnet protocol (live listener)", () => {
  describe("connection and handshake", () => {
    it("T01: offers SGA, NAWS, TTYPE, MCCP2, MSSP, MSDP, GMCP, MXP, EOR, CHARSET in that order, and no LINEMODE", async () => {
      const h = await boot();
      const { c } = await open(h);
      const expected = bytes(
        T.IAC, T.WILL, T.SGA, T.IAC, T.DO, T.NAWS, T.IAC, T.DO, T.TTYPE, T.IAC, T.WILL, T.MCCP2, T.IAC, T.WILL, T.MSSP,
        T.IAC, T.WILL, T.MSDP, T.IAC, T.WILL, T.GMCP, T.IAC, T.WILL, T.MXP, T.IAC, T.WILL, T.EOR_OPT, T.IAC, T.WILL, T.CHARSET,
      );
      await waitFor(() => c.rawBytes().length >= expected.length, 2000, "offers");
      await sleep(50);
      expect(c.rawBytes().toString("hex")).to.equal(expected.toString("hex"));
      expect(c.negotiations(undefined, T.LINEMODE)).to.deep.equal([]);
      expect(c.negotiations(T.WILL, T.ECHO)).to.deep.equal([]);
    });

    it("T01: disabled options are not offered (mccp, oob, mxp, mssp off)", async () => {
      const h = await boot({ mccp: false, oob: false, mxp: false, mssp: false });
      const { c } = await open(h);
      await waitFor(() => c.negotiations().length >= 5, 2000, "offers");
      await sleep(50);
      expect(c.negotiations().map((n) => `${n.verb}:${n.opt}`)).to.deep.equal(
        [[T.WILL, T.SGA], [T.DO, T.NAWS], [T.DO, T.TTYPE], [T.WILL, T.EOR_OPT], [T.WILL, T.CHARSET]].map(([v, o]) => `${v}:${o}`),
      );
      // A client asking for a disabled option is refused.
      c.send(bytes(neg(T.DO, T.MCCP2), neg(T.DO, T.GMCP)));
      await c.waitNeg(T.WONT, T.MCCP2);
      await c.waitNeg(T.WONT, T.GMCP);
    });

    it("T02: one resync reaches the game once every offer is answered (well before the timeout)", async () => {
      const h = await boot({ handshakeTimeoutMs: 5000 });
      const started = Date.now();
      const { c, sessid } = await open(h, FULL);
      await waitFor(() => updatesFor(h, sessid).length >= 1, 2000, "handshake resync");
      expect(Date.now() - started).to.be.lessThan(2500);
      await sleep(400);
      const updates = updatesFor(h, sessid);
      expect(updates, `exactly one resync: ${JSON.stringify(updates)}`).to.have.length(1);
      expect(updates[0]).to.include({ CLIENTNAME: "MUDLET", TTYPE: true, XTERM256: true, NOGOAHEAD: true, EOR: true, GMCP: true, OOB: true });
      expect(updates[0]!.SCREENWIDTH).to.deep.equal({ 0: 100 });
      expect(updates[0]!.SCREENHEIGHT).to.deep.equal({ 0: 30 });
      expect(c.subnegotiations(T.TTYPE)).to.have.length(3);
    });

    it("T02: a silent client is resynced once, after handshakeTimeoutMs (fake clock)", async () => {
      const clock = new FakeClock();
      const h = await boot({ handshakeTimeoutMs: 2000 }, { clock });
      const { sessid } = await open(h);
      clock.advance(1999);
      await sleep(100);
      expect(updatesFor(h, sessid)).to.have.length(0);
      clock.advance(1);
      await waitFor(() => updatesFor(h, sessid).length === 1, 2000, "timeout resync");
      clock.advance(10_000);
      await sleep(100);
      expect(updatesFor(h, sessid)).to.have.length(1);
    });

    it("the banner (game's onConnect text) arrives without waiting for the handshake", async () => {
      const h = await boot({ handshakeTimeoutMs: 10_000 }, { onConnect: (s, sdk) => sdk.msg(s, "Welcome to the test game!") });
      const started = Date.now();
      const { c } = await open(h);
      await c.waitText("Welcome to the test game!", 1500);
      expect(Date.now() - started).to.be.lessThan(1500);
    });

    it("input typed before negotiation ends is kept, in order (also interleaved with answers)", async () => {
      const h = await boot({ handshakeTimeoutMs: 10_000 });
      const { c, sessid } = await open(h);
      c.send("connect bob secret\r\nlook\r\n");
      await waitFor(() => textInputs(h, sessid).length === 2, 2000, "early input");
      c.send(bytes(neg(T.DO, T.SGA), "first\r\n", neg(T.WILL, T.NAWS), naws(90, 20), "sec", neg(T.WONT, T.TTYPE), "ond\r\n", neg(T.DONT, T.MCCP2), "third\n"));
      await waitFor(() => textInputs(h, sessid).length === 5, 2000, "interleaved input");
      expect(textInputs(h, sessid)).to.deep.equal(["connect bob secret", "look", "first", "second", "third"]);
      await waitFlag(h, sessid, "SCREENWIDTH", { 0: 90 });
    });

    it("queued connections get the core notice and are negotiated like any other", async () => {
      const h = await boot({}, { limits: { maxConnectionRate: 2 } });
      const a = await TelnetTestClient.open(h.port);
      clients.push(a);
      const b = await TelnetTestClient.open(h.port);
      clients.push(b);
      await b.waitText("DoS protection is active", 2000);
      await b.waitNeg(T.DO, T.NAWS);
      await waitFor(() => h.game.connects.length === 2, 3000, "both announced");
    });
  });

  describe("SGA, GA, EOR and prompts", () => {
    it("T04: DONT SGA ⇒ every text line ends CR LF IAC GA; DO SGA ⇒ no GA", async () => {
      const h = await boot();
      const refused = await open(h, { will: { [T.SGA]: false } });
      await waitFlag(h, refused.sessid, "NOGOAHEAD", false);
      out(h, refused.sessid, ["text", ["first line"], {}], ["text", ["second|/line"], {}]);
      await refused.c.waitText("second");
      await waitFor(() => refused.c.commands(T.GA).length === 2, 2000, "two GAs");
      const tail = streamFrom(refused.c, "first line");
      expect(tail.toString("latin1")).to.equal("first line\x1b[0m\r\n\xff\xf9second\r\nline\x1b[0m\r\n\xff\xf9");

      const accepted = await open(h, { will: { [T.SGA]: true } });
      await waitFor(() => accepted.c.rawBytes().length > 0 && h.portal.handler.get(accepted.sessid) !== undefined, 2000, "connected");
      await sleep(50);
      out(h, accepted.sessid, ["text", ["hello"], {}]);
      await accepted.c.waitText("hello");
      await sleep(50);
      expect(accepted.c.commands(T.GA)).to.deep.equal([]);
      expect(streamFrom(accepted.c, "hello").toString("latin1")).to.equal("hello\x1b[0m\r\n");
    });

    it("T05: TTYPE MUDLET after DONT SGA ⇒ GA only after prompts", async () => {
      const h = await boot();
      const { c, sessid } = await open(h, { will: { [T.SGA]: false, [T.EOR_OPT]: false }, do: { [T.TTYPE]: true }, ttype: ["MUDLET", "XTERM", "MTTS 137"] });
      await waitFlag(h, sessid, "TTYPE", true);
      expect(flagsOf(h, sessid)).to.include({ NOGOAHEAD: true, NOPROMPTGOAHEAD: false });
      out(h, sessid, ["text", ["a line"], {}], ["prompt", ["HP 10> "], {}]);
      await waitFor(() => c.commands(T.GA).length === 1, 2000, "GA after the prompt");
      await sleep(50);
      expect(streamFrom(c, "a line").toString("latin1")).to.equal("a line\x1b[0m\r\nHP 10> \x1b[0m\xff\xf9");
    });

    it("T15: prompts get IAC EOR when EOR is on (no line ending added), nothing when SGA is on and EOR off", async () => {
      const h = await boot();
      const eor = await open(h, { will: { [T.SGA]: true, [T.EOR_OPT]: true } });
      await waitFlag(h, eor.sessid, "EOR", true);
      out(h, eor.sessid, ["prompt", ["> "], {}]);
      await waitFor(() => eor.c.commands(T.EOR).length === 1, 2000, "IAC EOR");
      expect(streamFrom(eor.c, "> ").toString("latin1")).to.equal("> \x1b[0m\xff\xef");
      expect(eor.c.commands(T.GA)).to.deep.equal([]);

      const plain = await open(h, { will: { [T.SGA]: true, [T.EOR_OPT]: false } });
      await plain.c.waitNeg(T.WILL, T.CHARSET);
      await sleep(50);
      out(h, plain.sessid, ["prompt", ["> "], { options: { nocolor: true } }]);
      out(h, plain.sessid, ["text", ["after"], { options: { nocolor: true } }]);
      await plain.c.waitText("after");
      expect(streamFrom(plain.c, "> ").toString("latin1")).to.equal("> after\r\n");

      const ga = await open(h, { will: { [T.SGA]: false, [T.EOR_OPT]: false } });
      await waitFlag(h, ga.sessid, "NOGOAHEAD", false);
      out(h, ga.sessid, ["prompt", ["> "], { options: { nocolor: true } }]);
      await waitFor(() => ga.c.commands(T.GA).length === 1, 2000, "IAC GA");
      expect(streamFrom(ga.c, "> ").toString("latin1")).to.equal("> \xff\xf9");
    });
  });

  describe("NAWS", () => {
    it("T06: size, 255-wide (escaped 0xFF), coalesced with a command, 0 ignored, clamped, resized after the handshake", async () => {
      const h = await boot({ maxWidth: 300, maxHeight: 200 });
      const { c, sessid } = await open(h, withAnswers(FULL, { naws: [120, 40] }));
      await waitFor(() => updatesFor(h, sessid).length === 1, 2000, "handshake");
      expect(updatesFor(h, sessid)[0]!.SCREENWIDTH).to.deep.equal({ 0: 120 });
      expect(updatesFor(h, sessid)[0]!.SCREENHEIGHT).to.deep.equal({ 0: 40 });
      expect(updatesFor(h, sessid)[0]!.AUTORESIZE).to.equal(true);

      const resize = naws(255, 50);
      expect(resize.toString("hex")).to.equal("fffa1f00ffff0032fff0");
      c.send(resize);
      await waitFor(() => updatesFor(h, sessid).some((f) => JSON.stringify(f.SCREENWIDTH) === '{"0":255}'), 2000, "255-wide resync");
      expect(h.game.sdk.get(sessid)!.protocol_flags.SCREENWIDTH).to.deep.equal({ 0: 255 });

      c.send(Buffer.concat([Buffer.from("look\r\n"), naws(132, 50), Buffer.from("inv\r\n")]));
      await waitFor(() => updatesFor(h, sessid).some((f) => JSON.stringify(f.SCREENWIDTH) === '{"0":132}'), 2000, "coalesced resync");
      await waitFor(() => textInputs(h, sessid).length === 2, 2000, "commands around the resize");
      expect(textInputs(h, sessid)).to.deep.equal(["look", "inv"]);

      const before = updatesFor(h, sessid).length;
      c.send(naws(0, 60));
      await waitFlag(h, sessid, "SCREENHEIGHT", { 0: 60 });
      expect(flagsOf(h, sessid).SCREENWIDTH).to.deep.equal({ 0: 132 });
      c.send(naws(0, 0));
      await sleep(100);
      expect(flagsOf(h, sessid).SCREENWIDTH).to.deep.equal({ 0: 132 });
      expect(flagsOf(h, sessid).SCREENHEIGHT).to.deep.equal({ 0: 60 });

      c.send(naws(5000, 5000));
      await waitFlag(h, sessid, "SCREENWIDTH", { 0: 300 });
      expect(flagsOf(h, sessid).SCREENHEIGHT).to.deep.equal({ 0: 200 });
      await waitFor(() => updatesFor(h, sessid).length >= before + 2, 2000, "later resyncs");
      expect(h.game.sdk.get(sessid)!.protocol_flags.SCREENWIDTH).to.deep.equal({ 0: 300 });
    });

    it("T06: NAWS split into single bytes still resizes", async () => {
      const h = await boot();
      const { c, sessid } = await open(h, withAnswers(FULL, { naws: [80, 24] }));
      await waitFor(() => updatesFor(h, sessid).length === 1, 2000, "handshake");
      for (const byte of naws(255, 255)) {
        c.send(Buffer.from([byte]));
        await sleep(2);
      }
      await waitFor(() => updatesFor(h, sessid).some((f) => JSON.stringify(f.SCREENWIDTH) === '{"0":255}' && JSON.stringify(f.SCREENHEIGHT) === '{"0":255}'), 2000, "split resize");
    });

    it("T06: quick resizes after the handshake are debounced into one resync with the last size (fake clock)", async () => {
      const clock = new FakeClock();
      const h = await boot({ nawsDebounceMs: 250, handshakeTimeoutMs: 2000 }, { clock });
      const { c, sessid } = await open(h, { do: { [T.NAWS]: true }, naws: [80, 24] });
      await waitFlag(h, sessid, "SCREENWIDTH", { 0: 80 });
      clock.advance(2000);
      await waitFor(() => updatesFor(h, sessid).length === 1, 2000, "handshake resync");
      for (const w of [81, 90, 100, 110]) c.send(naws(w, 30));
      await waitFlag(h, sessid, "SCREENWIDTH", { 0: 110 });
      clock.advance(249);
      await sleep(50);
      expect(updatesFor(h, sessid)).to.have.length(1);
      clock.advance(1);
      await waitFor(() => updatesFor(h, sessid).length === 2, 2000, "debounced resync");
      expect(updatesFor(h, sessid)[1]!.SCREENWIDTH).to.deep.equal({ 0: 110 });
      clock.advance(5000);
      await sleep(50);
      expect(updatesFor(h, sessid)).to.have.length(2);
    });

    it("T06: WONT NAWS ⇒ 78×45 and AUTORESIZE false", async () => {
      const h = await boot();
      const { sessid } = await open(h, { do: { [T.NAWS]: false } });
      await sleep(100);
      expect(flagsOf(h, sessid)).to.deep.include({ SCREENWIDTH: { 0: 78 }, SCREENHEIGHT: { 0: 45 }, AUTORESIZE: false });
    });
  });

  describe("TTYPE and colour", () => {
    it("T07: MUDLET / XTERM / MTTS 137 ⇒ CLIENTNAME, TERM, XTERM256, PROXY, ANSI, TTYPE at the game", async () => {
      const h = await boot();
      const { c, sessid } = await open(h, withAnswers(REFUSE_ALL, { do: { [T.TTYPE]: true }, ttype: ["Mudlet", "XTERM", "MTTS 137"] }));
      await waitFor(() => updatesFor(h, sessid).length === 1, 2000, "resync");
      expect(updatesFor(h, sessid)[0]).to.include({ CLIENTNAME: "MUDLET", TERM: "XTERM", XTERM256: true, PROXY: true, ANSI: true, TTYPE: true });
      const sends = c.subnegotiations(T.TTYPE);
      expect(sends.map((p) => p.toString("hex"))).to.deep.equal(["01", "01", "01"]);
    });

    it("T08: MTTS 64 ⇒ screen-reader output (no colour, decoration removed)", async () => {
      const h = await boot();
      const { c, sessid } = await open(h, withAnswers(REFUSE_ALL, { do: { [T.TTYPE]: true }, ttype: ["SOMECLIENT", "VT100", "MTTS 64"] }));
      await waitFlag(h, sessid, "SCREENREADER", true);
      out(h, sessid, ["text", ["+----+|/|rRed|n text ====|/done"], {}]);
      await c.waitText("done");
      const text = c.text();
      expect(text).to.not.include("\x1b");
      expect(text).to.not.include("+--");
      expect(text).to.not.include("==");
      expect(text).to.include("Red text");
    });

    it("T09: without TTYPE full colour is assumed; after TTYPE ANSI×3, xterm colours become 16-colour ANSI", async () => {
      const h = await boot();
      const noTtype = await open(h, REFUSE_ALL);
      await waitFlag(h, noTtype.sessid, "TTYPE", false);
      out(h, noTtype.sessid, ["text", ["|#ff0000x|500y"], {}]);
      await noTtype.c.waitText("y");
      expect(noTtype.c.text()).to.include("\x1b[38;2;255;0;0mx\x1b[38;5;196my");

      const ansi = await open(h, withAnswers(REFUSE_ALL, { do: { [T.TTYPE]: true }, ttype: ["ANSI"] }));
      await waitFlag(h, ansi.sessid, "TTYPE", true);
      expect(flagsOf(h, ansi.sessid)).to.include({ XTERM256: false, TRUECOLOR: false });
      out(h, ansi.sessid, ["text", ["|500x"], {}]);
      await ansi.c.waitText("x");
      expect(ansi.c.text()).to.include("\x1b[1m\x1b[31mx");
      expect(ansi.c.text()).to.not.include("38;5");
    });
  });

  describe("MCCP2", () => {
    it("T10: compresses after DO (sync-flushed), ends the stream cleanly on DONT, then plain", async () => {
      const h = await boot();
      const { c, sessid } = await open(h, { will: { [T.MCCP2]: true } });
      await waitFor(() => c.mccpStarts === 1, 2000, "MCCP2 start");
      await waitFlag(h, sessid, "MCCP", true);
      // The start marker went out uncompressed.
      expect(c.rawBytes().includes(bytes(T.IAC, T.SB, T.MCCP2, T.IAC, T.SE))).to.equal(true);

      out(h, sessid, ["text", ["compressed hello"], {}]);
      await c.waitText("compressed hello");
      out(h, sessid, ["text", ["second compressed line"], {}]);
      await c.waitText("second compressed line");
      expect(c.rawBytes().includes(Buffer.from("compressed hello"))).to.equal(false);
      expect(c.inflateError).to.equal(undefined);

      c.send(neg(T.DONT, T.MCCP2));
      out(h, sessid, ["text", ["written while finishing"], {}]);
      await waitFor(() => c.mccpEnds === 1, 2000, "the deflate stream ends (Z_FINISH)");
      await waitFlag(h, sessid, "MCCP", false);
      await c.waitText("written while finishing");
      out(h, sessid, ["text", ["plain after"], {}]);
      await c.waitText("plain after");
      expect(c.rawBytes().includes(Buffer.from("plain after"))).to.equal(true);
      await c.waitNeg(T.WONT, T.MCCP2);
      expect(c.inflateError).to.equal(undefined);
      expect(c.mccpStarts).to.equal(1);
      // Text, in order, with nothing lost.
      expect(c.text().indexOf("compressed hello")).to.be.lessThan(c.text().indexOf("written while finishing"));
      expect(c.text().indexOf("written while finishing")).to.be.lessThan(c.text().indexOf("plain after"));
    });

    it("T10: compression can be turned on again after DONT (a new stream, nothing lost)", async () => {
      const h = await boot();
      const { c, sessid } = await open(h, { will: { [T.MCCP2]: true } });
      await waitFor(() => c.mccpStarts === 1, 2000, "first stream");
      out(h, sessid, ["text", ["one"], {}]);
      await c.waitText("one");
      c.send(neg(T.DONT, T.MCCP2));
      await waitFor(() => c.mccpEnds === 1, 2000, "first stream ends");
      c.send(neg(T.DO, T.MCCP2));
      await waitFor(() => c.mccpStarts === 2, 2000, "second stream");
      out(h, sessid, ["text", ["two"], {}]);
      await c.waitText("two");
      expect(c.rawBytes().includes(Buffer.from("two"))).to.equal(false);
      expect(c.inflateError).to.equal(undefined);
      await waitFlag(h, sessid, "MCCP", true);
    });

    it("T10: MCCP2 switched off in config is refused", async () => {
      const h = await boot({ mccp: false });
      const { c } = await open(h);
      c.send(neg(T.DO, T.MCCP2));
      await c.waitNeg(T.WONT, T.MCCP2);
      expect(c.mccpStarts).to.equal(0);
    });
  });

  describe("MSSP", () => {
    function parseMssp(payload: Buffer): Record<string, string[]> {
      const outTable: Record<string, string[]> = {};
      let name = "";
      let i = 0;
      while (i < payload.length) {
        const kind = payload[i]!;
        let end = i + 1;
        while (end < payload.length && payload[end]! > 2) end++;
        const text = payload.toString("utf8", i + 1, end);
        if (kind === 1) outTable[(name = text)] ??= [];
        else if (kind === 2) outTable[name]?.push(text);
        i = end;
      }
      return outTable;
    }

    it("T11: NAME, PLAYERS (logged-in count), UPTIME (integer epoch), PORT; plaintext MSSP-REQUEST reply", async () => {
      const h = await boot();
      const player = await open(h);
      h.game.sdk.login(h.game.sdk.get(player.sessid)!, 42, "bob");
      await waitFor(() => h.portal.handler.get(player.sessid)?.logged_in === true, 2000, "login reaches the portal");

      const { c } = await open(h, { will: { [T.MSSP]: true } });
      const payload = await c.waitSb(T.MSSP);
      const table = parseMssp(payload);
      expect(table.NAME).to.deep.equal(["Portico"]);
      expect(table.PLAYERS).to.deep.equal(["1"]);
      expect(table.UPTIME).to.have.length(1);
      expect(table.UPTIME![0]).to.match(/^\d+$/);
      expect(Number(table.UPTIME![0])).to.equal(Math.floor(h.portal.startTime / 1000));
      expect(table.PORT).to.deep.equal([String(h.port)]);
      expect(table["CRAWL DELAY"]).to.deep.equal(["-1"]);

      const crawler = await TelnetTestClient.open(h.port);
      clients.push(crawler);
      crawler.send("MSSP-REQUEST\r\n");
      await crawler.waitText("MSSP-REPLY-END");
      const lines = crawler.text().split("\r\n");
      expect(lines).to.include("MSSP-REPLY-START");
      expect(lines).to.include("PLAYERS\t1");
      expect(lines).to.include(`PORT\t${h.port}`);
      expect(lines).to.include("NAME\tPortico");
      await crawler.waitClosed();
    });

    it("T11: a crawler's lower-case `mssp-request` line (Grapevine) gets the plaintext reply too", async () => {
      const h = await boot();
      const crawler = await TelnetTestClient.open(h.port);
      clients.push(crawler);
      crawler.send("mssp-request\n");
      await crawler.waitText("MSSP-REPLY-END");
      expect(crawler.text()).to.include("MSSP-REPLY-START");
      await crawler.waitClosed();
      expect(h.game.inputs.filter((i) => i.name === "text")).to.deep.equal([]);
    });

    it("with mssp off, a plaintext MSSP-REQUEST is an ordinary line (no table)", async () => {
      const h = await boot({ mssp: false });
      const { c, sessid } = await open(h);
      c.send("MSSP-REQUEST\r\n");
      await waitFor(() => textInputs(h, sessid).includes("MSSP-REQUEST"), 2000, "the line reaches the game");
      expect(c.text()).to.not.include("MSSP-REPLY-START");
    });

    it("T11: DONT MSSP ⇒ nothing sent", async () => {
      const h = await boot();
      const { c } = await open(h, { will: { [T.MSSP]: false } });
      await c.waitNeg(T.WILL, T.CHARSET);
      await sleep(100);
      expect(c.subnegotiations(T.MSSP)).to.deep.equal([]);
    });
  });

  describe("MXP", () => {
    it("T12: DO MXP ⇒ SB MXP + ESC[7z; links become MXP tags with exact escaping", async () => {
      const h = await boot();
      const { c, sessid } = await open(h, { will: { [T.MXP]: true } });
      await c.waitSb(T.MXP);
      await c.waitText("\x1b[7z\r\n");
      await waitFlag(h, sessid, "MXP", true);
      out(h, sessid, ["text", ["|lclook|ltLook|le here, |lusay <b>&\"|lt<b>|le."], { options: { nocolor: true } }]);
      await c.waitText("here");
      await c.waitText(".\r\n");
      expect(c.text()).to.include("\x1b[4z<SEND HREF=\"look\">Look\x1b[4z</SEND> here, \x1b[4z<A HREF=\"say &lt;b&gt;&amp;&quot;\">&lt;b&gt;\x1b[4z</A>.\r\n");
      // Prompts never carry MXP links.
      out(h, sessid, ["prompt", ["|lcsc|ltScore|le> "], { options: { nocolor: true } }]);
      await c.waitText("Score> ");
      expect(c.text()).to.not.include("HREF=\"sc\"");
    });

    it("T12: without MXP a link is just its label", async () => {
      const h = await boot();
      const { c, sessid } = await open(h, { will: { [T.MXP]: false } });
      await c.waitNeg(T.WILL, T.CHARSET);
      await sleep(50);
      out(h, sessid, ["text", ["|lclook|ltLook|le here"], { options: { nocolor: true } }]);
      await c.waitText("here");
      expect(streamFrom(c, "Look").toString("latin1")).to.equal("Look here\r\n");
      expect(c.text()).to.not.include("\x1b[7z");
    });
  });

  describe("ECHO", () => {
    it("T13: echo false ⇒ IAC WILL ECHO before the text; echo true ⇒ IAC WONT ECHO; masked input is not logged", async () => {
      const h = await boot();
      const { c, sessid } = await open(h, { will: { [T.ECHO]: true } });
      await c.waitNeg(T.WILL, T.CHARSET);
      await sleep(50);
      expect(c.negotiations(undefined, T.ECHO)).to.deep.equal([]);
      out(h, sessid, ["text", ["Password:"], { options: { echo: false } }]);
      await c.waitText("Password:");
      const stream = c.streamBytes().toString("latin1");
      expect(stream.indexOf("\xff\xfb\x01")).to.be.greaterThan(-1);
      expect(stream.indexOf("\xff\xfb\x01")).to.be.lessThan(stream.indexOf("Password:"));
      c.send("hunter2secret\r\n");
      await waitFor(() => textInputs(h, sessid).includes("hunter2secret"), 2000, "password reaches the game");
      expect(JSON.stringify(h.logger.entries)).to.not.include("hunter2secret");
      out(h, sessid, ["text", ["Welcome back."], { options: { echo: true } }]);
      await c.waitText("Welcome back.");
      const s2 = c.streamBytes().toString("latin1");
      expect(s2.indexOf("\xff\xfc\x01")).to.be.greaterThan(-1);
      expect(s2.indexOf("\xff\xfc\x01")).to.be.lessThan(s2.indexOf("Welcome back."));
      expect(c.negotiations(undefined, T.ECHO).map((n) => n.verb)).to.deep.equal([T.WILL, T.WONT]);
    });

    it("T13: echo turned off again before the client's DONT arrives still ends with WILL ECHO (no password in clear)", async () => {
      const h = await boot();
      const { c, sessid } = await open(h, { will: { [T.ECHO]: true } });
      await c.waitNeg(T.WILL, T.CHARSET);
      out(h, sessid, ["text", ["Password:"], { options: { echo: false } }]);
      await c.waitNeg(T.WILL, T.ECHO);
      await sleep(50);
      // echo on, then straight off again (e.g. "Confirm password:"), faster than the client answers.
      out(h, sessid, ["text", ["ok"], { options: { echo: true } }], ["text", ["Confirm password:"], { options: { echo: false } }]);
      await c.waitText("Confirm password:");
      await waitFor(() => c.negotiations(undefined, T.ECHO).length >= 3, 2000, "WILL ECHO again");
      await sleep(100);
      const verbs = c.negotiations(undefined, T.ECHO).map((n) => n.verb);
      expect(verbs[verbs.length - 1], `server ECHO commands: ${verbs.join(",")}`).to.equal(T.WILL);
    });

    it("T13: echo turned back on before the client answered WILL ECHO still ends with WONT ECHO", async () => {
      const h = await boot();
      const { c, sessid } = await open(h); // does not answer ECHO at first
      await c.waitNeg(T.WILL, T.CHARSET);
      out(h, sessid, ["text", ["Password:"], { options: { echo: false } }]);
      await c.waitNeg(T.WILL, T.ECHO);
      out(h, sessid, ["text", ["ok"], { options: { echo: true } }]);
      await c.waitText("ok");
      c.send(neg(T.DO, T.ECHO)); // the late answer to WILL ECHO
      await c.waitNeg(T.WONT, T.ECHO);
    });

    it("a client's own DO ECHO is refused while the game has not asked for masking", async () => {
      const h = await boot();
      const { c } = await open(h);
      c.send(neg(T.DO, T.ECHO));
      await c.waitNeg(T.WONT, T.ECHO);
    });
  });

  describe("text output", () => {
    it("T14: markup rendered, exactly one CR before each LF, line ends ESC[0m CR LF", async () => {
      const h = await boot();
      const { c, sessid } = await open(h, REFUSE_ALL);
      await waitFlag(h, sessid, "NOGOAHEAD", false);
      h.portal.handler.get(sessid)!.protocol_flags.NOGOAHEAD = true; // keep GA out of this check
      out(h, sessid, ["text", ["|rone\ntwo\r\nthree|/four\n\rfive\r\r\nsix"], {}]);
      await c.waitText("six");
      await sleep(30);
      const s = streamFrom(c, "\x1b[1m\x1b[31mone").toString("latin1");
      expect(s).to.equal("\x1b[1m\x1b[31mone\r\ntwo\r\nthree\r\nfour\r\nfive\r\n\r\nsix\x1b[0m\r\n");
      expect(s).to.not.match(/\r\r|[^\r]\n/);
    });

    it("T14: latin-1 ÿ is sent as IAC IAC", async () => {
      const h = await boot();
      const { c, sessid } = await open(h);
      const game = h.game.sdk.get(sessid)!;
      game.protocol_flags.ENCODING = "latin-1";
      h.game.sdk.syncSession(game);
      await waitFlag(h, sessid, "ENCODING", "latin-1");
      out(h, sessid, ["text", ["ÿes ÿ"], { options: { nocolor: true } }]);
      await c.waitText("es", 2000, "latin1");
      await sleep(30);
      expect(c.rawBytes().includes(bytes(0xff, 0xff, "es ", 0xff, 0xff, "\r\n"))).to.equal(true);
      expect(c.text("latin1")).to.include("ÿes ÿ\r\n");
    });

    it("T16: raw passes markup through; nocolor strips colour; screenreader strips colour and decoration", async () => {
      const h = await boot();
      const { c, sessid } = await open(h);
      await c.waitNeg(T.WILL, T.CHARSET);
      out(h, sessid, ["text", ["A |rred|n +--+ line"], { options: { raw: true } }]);
      out(h, sessid, ["text", ["B |rred|n +--+ line"], { options: { nocolor: true } }]);
      out(h, sessid, ["text", ["C |rred|n +--+ line"], { options: { screenreader: true } }]);
      await c.waitText("C ");
      await c.waitText(/C [^\n]*\n/);
      const text = c.text();
      expect(text).to.include("A |rred|n +--+ line\r\n");
      expect(text).to.include("B red +--+ line\r\n");
      // The screen-reader filter removes "+--" (SCREENREADER_REGEX_STRIP), leaving a lone "+".
      expect(text).to.include("C red + line\r\n");
      expect(text.slice(text.indexOf("A |r"))).to.not.include("\x1b");

      // The NOCOLOR flag, set by the game through session-sync, works like the option.
      const game = h.game.sdk.get(sessid)!;
      game.protocol_flags.NOCOLOR = true;
      h.game.sdk.syncSession(game);
      await waitFlag(h, sessid, "NOCOLOR", true);
      out(h, sessid, ["text", ["D |gok"], {}]);
      await c.waitText("D ok\r\n");
    });

    it("OOB never arrives as text for a client without GMCP/MSDP (O07)", async () => {
      const h = await boot();
      const { c, sessid } = await open(h, REFUSE_ALL);
      await waitFlag(h, sessid, "TTYPE", false);
      await sleep(50);
      const before = c.rawBytes().length;
      out(h, sessid, ["char_vitals", [], { hp: 10 }], ["Room.Info", [{ name: "Hall" }], {}]);
      await sleep(150);
      expect(c.rawBytes().length).to.equal(before);
    });
  });

  describe("input", () => {
    it("T17: lines end on CR LF, LF, CR, LF CR, CR NUL; partial lines are buffered; stacked commands keep their order", async () => {
      const h = await boot();
      const { c, sessid } = await open(h);
      c.send("lo");
      await sleep(50);
      expect(textInputs(h, sessid)).to.deep.equal([]);
      c.send("ok\r\n");
      await waitFor(() => textInputs(h, sessid).length === 1, 2000, "look");
      c.send("wave\r\nsay hi\r\n");
      c.send("a\nb\rc\n\rd\r\0e\r");
      c.send("\nf\r\n");
      await waitFor(() => textInputs(h, sessid).length === 9, 2000, "all lines");
      expect(textInputs(h, sessid)).to.deep.equal(["look", "wave", "say hi", "a", "b", "c", "d", "e", "f"]);
    });

    it("T18: a lone NUL is an idle keep-alive for the game", async () => {
      const h = await boot();
      const { c, sessid } = await open(h);
      c.send(Buffer.from([0]));
      await waitFor(() => h.game.inputs.some((i) => i.sessid === sessid && i.name === "idle"), 2000, "idle input");
      const idle = h.game.inputs.find((i) => i.sessid === sessid && i.name === "idle")!;
      expect(idle.args).to.deep.equal([]);
      expect(idle.kwargs).to.deep.equal({});
      expect(textInputs(h, sessid)).to.deep.equal([]);
    });

    it("T18: an HTTP request gets a short explanation and is closed; nothing reaches the game", async () => {
      const h = await boot();
      const { c, sessid } = await open(h);
      c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      await c.waitText(/HTTP\/1\.1 400/);
      await c.waitClosed();
      expect(c.text()).to.match(/telnet/i);
      await waitFor(() => h.game.disconnects.includes(sessid), 2000, "game told");
      expect(h.game.inputs.filter((i) => i.sessid === sessid)).to.deep.equal([]);
    });

    it("T19: ENCODING latin-1 both ways", async () => {
      const h = await boot();
      const { c, sessid } = await open(h);
      const game = h.game.sdk.get(sessid)!;
      game.protocol_flags.ENCODING = "latin-1";
      h.game.sdk.syncSession(game);
      await waitFlag(h, sessid, "ENCODING", "latin-1");
      c.send(Buffer.from("caf\xe9\r\n", "latin1"));
      await waitFor(() => textInputs(h, sessid).length === 1, 2000, "latin-1 input");
      expect(textInputs(h, sessid)).to.deep.equal(["café"]);
      c.send(Buffer.from("\xff\xffes\r\n", "latin1")); // ÿ arrives as IAC IAC
      await waitFor(() => textInputs(h, sessid).length === 2, 2000, "latin-1 ÿ input");
      expect(textInputs(h, sessid)[1]).to.equal("ÿes");
      out(h, sessid, ["text", ["é€"], { options: { nocolor: true } }]);
      await c.waitText("?", 2000, "latin1");
      expect(c.rawBytes().includes(Buffer.from("\xe9?\r\n", "latin1"))).to.equal(true);
      expect(c.rawBytes().includes(Buffer.from("é", "utf8"))).to.equal(false);
    });

    it("H18: invalid UTF-8 ⇒ the spec's message and nothing reaches the game", async () => {
      const h = await boot();
      const { c, sessid } = await open(h);
      c.send(Buffer.from([0xc3, 0x28, 0x0d, 0x0a]));
      await c.waitText("Your client sent an incorrect UTF-8 sequence.");
      c.send("ok\r\n");
      await waitFor(() => textInputs(h, sessid).length >= 1, 2000, "next line");
      await sleep(50);
      expect(h.game.inputs.filter((i) => i.sessid === sessid).map((i) => [i.name, i.args])).to.deep.equal([["text", ["ok"]]]);
    });

    it("a line over maxLineBytes is discarded with a notice; the next line works", async () => {
      const h = await boot({ maxLineBytes: 1024 });
      const { c, sessid } = await open(h);
      c.send("x".repeat(3000));
      c.send("y".repeat(3000) + "\r\nafter\r\n");
      await c.waitText("was discarded");
      await waitFor(() => textInputs(h, sessid).length === 1, 2000, "after");
      expect(textInputs(h, sessid)).to.deep.equal(["after"]);
    });
  });

  describe("bad telnet input", () => {
    it("T20: garbage subnegotiations keep the session alive and send nothing odd to the game", async () => {
      const h = await boot();
      const { c, sessid } = await open(h, { will: { [T.GMCP]: true, [T.MSDP]: true, [T.CHARSET]: true }, do: { [T.NAWS]: true, [T.TTYPE]: true } });
      await waitFlag(h, sessid, "GMCP", true);
      c.send(bytes(
        sb(T.NAWS, Buffer.from([1])),
        sb(T.NAWS, Buffer.alloc(9, 1)),
        sb(T.GMCP, ""),
        sb(T.GMCP, "Core.Hello {"),
        sb(T.GMCP, "   "),
        sb(T.MSDP, Buffer.from([5, 5, 3, 2])),
        sb(T.MSDP, Buffer.alloc(0)),
        sb(T.MSDP, Buffer.from("\x01\x02orphan value\x01 \x02x", "latin1")),
        sb(T.TTYPE, Buffer.alloc(0)),
        sb(T.CHARSET, Buffer.from([2])),
        sb(T.CHARSET, Buffer.alloc(0)),
        sb(200, "xx"),
        bytes(T.IAC, T.SB, T.NAWS, 1, 2, T.IAC, T.WILL, 77),
        bytes(T.IAC, T.SE),
        bytes(T.IAC, 0x00),
        "look\r\n",
      ));
      await waitFor(() => textInputs(h, sessid).length === 1, 2000, "look after the garbage");
      await c.waitNeg(T.DONT, 77);
      expect(c.closed).to.equal(false);
      expect(h.portal.handler.get(sessid)).to.not.equal(undefined);
      for (const i of h.game.inputs.filter((x) => x.sessid === sessid)) expect(i.name.trim(), JSON.stringify(i)).to.not.equal("");
      // Still fully working.
      out(h, sessid, ["text", ["still here"], {}]);
      await c.waitText("still here");
    });

    it("T20: an oversized subnegotiation is dropped and the session carries on", async () => {
      const h = await boot({ maxSubnegotiationBytes: 8192 });
      const { c, sessid } = await open(h, { will: { [T.GMCP]: true } });
      await waitFlag(h, sessid, "GMCP", true);
      c.send(sb(T.GMCP, `Core.Supports.Set ${JSON.stringify(Array.from({ length: 2000 }, (_, i) => `Pkg${i} 1`))}`));
      c.send(sb(T.GMCP, 'Core.Supports.Set ["Char 1"]'));
      c.send("look\r\n");
      await waitFor(() => textInputs(h, sessid).length === 1, 2000, "look");
      await waitFlag(h, sessid, "GMCP_SUPPORTS", ["Char"]);
    });

    it("T21: unsupported options are refused (WILL 39 ⇒ DONT 39, DO 39 ⇒ WONT 39, WILL EOR ⇒ DONT EOR, WILL LINEMODE ⇒ DONT)", async () => {
      const h = await boot();
      const { c } = await open(h);
      c.send(bytes(neg(T.WILL, T.NEW_ENVIRON), neg(T.DO, T.NEW_ENVIRON), neg(T.WILL, T.EOR_OPT), neg(T.WILL, T.LINEMODE), neg(T.DO, 200)));
      await c.waitNeg(T.DONT, T.NEW_ENVIRON);
      await c.waitNeg(T.WONT, T.NEW_ENVIRON);
      await c.waitNeg(T.DONT, T.EOR_OPT);
      await c.waitNeg(T.DONT, T.LINEMODE);
      await c.waitNeg(T.WONT, 200);
      // Refusals are not repeated for a repeated offer... but each offer is answered.
      await sleep(50);
      expect(c.negotiations(T.DONT, T.NEW_ENVIRON)).to.have.length(1);
    });

    it("a client RST crashes nothing and the game sees one disconnect", async () => {
      const h = await boot();
      const a = await open(h, { will: { [T.MCCP2]: true } });
      await waitFor(() => a.c.mccpStarts === 1, 2000, "compressing");
      const b = await open(h);
      (a.c.socket as import("node:net").Socket).resetAndDestroy();
      await waitFor(() => h.game.disconnects.includes(a.sessid), 2000, "disconnect");
      out(h, b.sessid, ["text", ["others fine"], {}]);
      await b.c.waitText("others fine");
      await sleep(100);
      expect(h.game.disconnects.filter((s) => s === a.sessid)).to.have.length(1);
      expect(h.portal.handler.get(a.sessid)).to.equal(undefined);
      const c3 = await open(h);
      c3.c.send("hello\r\n");
      await waitFor(() => textInputs(h, c3.sessid).length === 1, 2000, "new connection works");
    });
  });

  describe("CHARSET", () => {
    it("server REQUEST ⇒ client ACCEPTED ISO-8859-1 ⇒ ENCODING latin-1 (also at the game)", async () => {
      const h = await boot();
      const { c, sessid } = await open(h, withAnswers(REFUSE_ALL, { will: { [T.CHARSET]: true } }));
      const request = await c.waitSb(T.CHARSET);
      expect(request[0]).to.equal(1);
      expect(request.subarray(1).toString("latin1")).to.equal(";UTF-8;ISO-8859-1");
      await waitFor(() => updatesFor(h, sessid).length === 1, 2000, "handshake (CHARSET does not hold it)");
      c.send(sb(T.CHARSET, Buffer.concat([Buffer.from([2]), Buffer.from("ISO-8859-1")])));
      await waitFlag(h, sessid, "ENCODING", "latin-1");
      await waitFor(() => updatesFor(h, sessid).some((f) => f.ENCODING === "latin-1"), 2000, "game sees ENCODING");
      c.send(Buffer.from("na\xefve\r\n", "latin1"));
      await waitFor(() => textInputs(h, sessid).length === 1, 2000, "input");
      expect(textInputs(h, sessid)).to.deep.equal(["naïve"]);
    });

    it("CHARSET REJECTED keeps UTF-8 and never blocks the handshake", async () => {
      const h = await boot();
      const { c, sessid } = await open(h, withAnswers(REFUSE_ALL, { will: { [T.CHARSET]: true } }));
      await c.waitSb(T.CHARSET);
      c.send(sb(T.CHARSET, Buffer.from([3])));
      await waitFor(() => updatesFor(h, sessid).length === 1, 2000, "handshake");
      expect(flagsOf(h, sessid).ENCODING).to.equal("utf-8");
    });

    it("a client's own REQUEST is answered with ACCEPTED for a charset we speak", async () => {
      const h = await boot();
      const { c, sessid } = await open(h);
      c.send(neg(T.WILL, T.CHARSET));
      await c.waitNeg(T.DO, T.CHARSET);
      c.send(sb(T.CHARSET, Buffer.concat([Buffer.from([1]), Buffer.from(";KOI8-R;ISO-8859-1;UTF-8")])));
      const accepted = await c.waitSb(T.CHARSET, (p) => p[0] === 2);
      expect(accepted.subarray(1).toString("latin1")).to.equal("ISO-8859-1");
      await waitFlag(h, sessid, "ENCODING", "latin-1");
    });
  });

  describe("GMCP and MSDP", () => {
    it("Core.Hello ⇒ CLIENTNAME; Core.Supports.Set/Add/Remove; Core.Ping answered; all reach the game", async () => {
      const h = await boot();
      const { c, sessid } = await open(h, withAnswers(REFUSE_ALL, { will: { [T.GMCP]: true } }));
      await waitFlag(h, sessid, "GMCP", true);
      c.send(sb(T.GMCP, 'Core.Hello {"client":"Mudlet","version":"4.17"}'));
      c.send(sb(T.GMCP, 'Core.Supports.Set ["Char 1", "Room 1", "IRE.Rift 1"]'));
      c.send(sb(T.GMCP, 'core.supports.add ["Comm.Channel 1"]'));
      c.send(sb(T.GMCP, 'Core.Supports.Remove ["Room"]'));
      c.send(sb(T.GMCP, "Core.Ping"));
      await c.waitSb(T.GMCP, (p) => p.toString() === "Core.Ping");
      await waitFlag(h, sessid, "CLIENTNAME", "Mudlet 4.17");
      await waitFlag(h, sessid, "GMCP_SUPPORTS", ["Char", "IRE.Rift", "Comm.Channel"]);
      await waitFor(() => h.game.inputs.filter((i) => i.sessid === sessid).length === 5, 2000, "five OOB inputs");
      const inputs = h.game.inputs.filter((i) => i.sessid === sessid);
      expect(inputs.map((i) => i.name)).to.deep.equal(["hello", "supports_set", "supports_add", "supports_remove", "ping"]);
      expect(inputs[0]!.kwargs).to.deep.include({ client: "Mudlet", version: "4.17" });
      expect(inputs[1]!.args).to.deep.equal(["Char 1", "Room 1", "IRE.Rift 1"]);
      await waitFor(() => updatesFor(h, sessid).some((f) => f.CLIENTNAME === "Mudlet 4.17"), 2000, "game sees CLIENTNAME");
    });

    it("GMCP agreed only after the handshake still reaches the game's flags (late DO ⇒ resync)", async () => {
      const h = await boot({ handshakeTimeoutMs: 5000 });
      const { c, sessid } = await open(h, withAnswers(REFUSE_ALL, { will: {} })); // a copy: the answers change below
      await waitFor(() => updatesFor(h, sessid).length > 0, 2000, "the handshake's sync");
      expect(updatesFor(h, sessid).at(-1)!.GMCP).to.not.equal(true);
      c.answers.will![T.GMCP] = true; // the player turns GMCP on in the client
      c.send(neg(T.DO, T.GMCP));
      await waitFor(() => updatesFor(h, sessid).some((f) => f.GMCP === true && f.OOB === true), 2000, "the game sees GMCP on");
      c.send(neg(T.DONT, T.GMCP));
      await waitFor(() => updatesFor(h, sessid).at(-1)!.GMCP === false, 2000, "the game sees GMCP off again");
    });

    it("a long Core.Supports.Set (> 6 KiB, split over many writes) is accepted with the default buffer", async () => {
      const h = await boot();
      const { c, sessid } = await open(h, withAnswers(REFUSE_ALL, { will: { [T.GMCP]: true } }));
      await waitFlag(h, sessid, "GMCP", true);
      const modules = Array.from({ length: 200 }, (_, i) => `Package.Number${String(i).padStart(3, "0")}.SomeModuleName 1`);
      const msg = sb(T.GMCP, `Core.Supports.Set ${JSON.stringify(modules)}`);
      expect(msg.length).to.be.greaterThan(6 * 1024);
      for (let i = 0; i < msg.length; i += 1000) c.send(msg.subarray(i, i + 1000));
      await waitFor(() => (flagsOf(h, sessid).GMCP_SUPPORTS as unknown[] | undefined)?.length === 200, 2000, "200 supported modules");
      expect((flagsOf(h, sessid).GMCP_SUPPORTS as string[])[199]).to.equal("Package.Number199.SomeModuleName");
    });

    it("Core.Hello with title-case keys (Blightmud) still sets CLIENTNAME", async () => {
      const h = await boot();
      const { c, sessid } = await open(h, withAnswers(REFUSE_ALL, { will: { [T.GMCP]: true } }));
      await waitFlag(h, sessid, "GMCP", true);
      c.send(sb(T.GMCP, 'core.hello {"Client":"Blightmud","Version":"5.3.0"}'));
      await waitFlag(h, sessid, "CLIENTNAME", "Blightmud 5.3.0");
    });

    it("game OOB reaches a GMCP client as `Package.Name json` with the package case kept (O07: never MSDP, never text)", async () => {
      const h = await boot();
      const { c, sessid } = await open(h, withAnswers(REFUSE_ALL, { will: { [T.GMCP]: true, [T.MSDP]: false } }));
      await waitFlag(h, sessid, "GMCP", true);
      await waitFlag(h, sessid, "TTYPE", false);
      await sleep(50);
      const textBefore = c.text();
      h.game.sdk.msg(sessid, [["Client.GUI", ["v1", "http://example.org/gui.mpackage"], {}], ["char_vitals", [], { hp: 10, mp: 5 }], ["IRE.Rift.List", [], {}]]);
      await waitFor(() => c.subnegotiations(T.GMCP).length === 3, 2000, "three GMCP messages");
      const msgs = c.subnegotiations(T.GMCP).map((p) => p.toString("utf8"));
      expect(msgs[0]!.startsWith("Client.GUI ")).to.equal(true);
      expect(JSON.parse(msgs[0]!.slice("Client.GUI ".length))).to.deep.equal(["v1", "http://example.org/gui.mpackage"]);
      expect(msgs[1]!.startsWith("Char.Vitals ")).to.equal(true);
      expect(JSON.parse(msgs[1]!.slice("Char.Vitals ".length))).to.deep.equal({ hp: 10, mp: 5 });
      expect(msgs[2]).to.equal("IRE.Rift.List");
      await sleep(50);
      expect(c.subnegotiations(T.MSDP)).to.deep.equal([]);
      expect(c.text()).to.equal(textBefore);
    });

    it("MSDP LIST ⇒ msdp_list at the game; game OOB reaches an MSDP client in MSDP form", async () => {
      const h = await boot();
      const { c, sessid } = await open(h, withAnswers(REFUSE_ALL, { will: { [T.MSDP]: true, [T.GMCP]: false } }));
      await waitFlag(h, sessid, "MSDP", true);
      c.send(sb(T.MSDP, Buffer.from("\x01LIST\x02COMMANDS", "latin1")));
      c.send(sb(T.MSDP, Buffer.from("\x01REPORT\x02HEALTH\x02MANA", "latin1")));
      await waitFor(() => h.game.inputs.filter((i) => i.sessid === sessid).length === 2, 2000, "MSDP inputs");
      expect(h.game.inputs.filter((i) => i.sessid === sessid).map((i) => [i.name, i.args])).to.deep.equal([
        ["msdp_list", ["COMMANDS"]],
        ["msdp_report", ["HEALTH", "MANA"]],
      ]);
      h.game.sdk.msg(sessid, [["HEALTH", ["100"], {}], ["ROOM", [], { name: "Hall" }]]);
      await waitFor(() => c.subnegotiations(T.MSDP).length === 2, 2000, "MSDP out");
      expect(c.subnegotiations(T.MSDP).map((p) => p.toString("latin1"))).to.deep.equal(["\x01HEALTH\x02100", "\x01ROOM\x02\x03\x01name\x02Hall\x04"]);
      expect(c.subnegotiations(T.GMCP)).to.deep.equal([]);
    });

    it("a client with both GMCP and MSDP gets both", async () => {
      const h = await boot();
      const { c, sessid } = await open(h, withAnswers(REFUSE_ALL, { will: { [T.MSDP]: true, [T.GMCP]: true } }));
      await waitFlag(h, sessid, "MSDP", true);
      await waitFlag(h, sessid, "GMCP", true);
      out(h, sessid, ["ping", [], {}]);
      await c.waitSb(T.GMCP, (p) => p.toString() === "Core.Ping");
      await c.waitSb(T.MSDP, (p) => p.toString("latin1") === "\x01ping\x02");
    });
  });

  describe("keep-alive", () => {
    it("T03: IAC NOP every keepaliveMs; none after the game sets NOPKEEPALIVE false (fake clock)", async () => {
      const clock = new FakeClock();
      const h = await boot({ keepaliveMs: 30_000, handshakeTimeoutMs: 2000 }, { clock });
      const { c, sessid } = await open(h);
      clock.advance(29_999);
      await sleep(50);
      expect(c.commands(T.NOP)).to.have.length(0);
      clock.advance(95_001 - 29_999);
      await waitFor(() => c.commands(T.NOP).length === 3, 2000, "three NOPs");
      await waitFor(() => updatesFor(h, sessid).length === 1, 2000, "handshake timeout resync");
      const game = h.game.sdk.get(sessid)!;
      expect(game.protocol_flags.NOPKEEPALIVE).to.equal(true);
      game.protocol_flags.NOPKEEPALIVE = false;
      h.game.sdk.syncSession(game);
      await waitFlag(h, sessid, "NOPKEEPALIVE", false);
      clock.advance(95_000);
      await sleep(100);
      expect(c.commands(T.NOP)).to.have.length(3);
      // And back on.
      game.protocol_flags.NOPKEEPALIVE = true;
      h.game.sdk.syncSession(game);
      await waitFlag(h, sessid, "NOPKEEPALIVE", true);
      clock.advance(30_000);
      await waitFor(() => c.commands(T.NOP).length === 4, 2000, "NOPs resume");
    });

    it("keepaliveMs 0 sends no NOPs (real clock)", async () => {
      const h = await boot({ keepaliveMs: 0 });
      const { c, sessid } = await open(h);
      await sleep(150);
      expect(c.commands(T.NOP)).to.deep.equal([]);
      expect(flagsOf(h, sessid).NOPKEEPALIVE).to.equal(false);
    });

    it("with a short keepaliveMs, NOPs arrive in real time too", async () => {
      const h = await boot({ keepaliveMs: 100 });
      const { c } = await open(h);
      await waitFor(() => c.commands(T.NOP).length >= 2, 2000, "NOPs");
    });
  });

  describe("shutdown", () => {
    it("stop() closes every socket (after telling the players)", async () => {
      const h = await boot();
      const a = await open(h);
      const b = await open(h, { will: { [T.MCCP2]: true } });
      await waitFor(() => b.c.mccpStarts === 1, 2000, "compressing");
      await h.portal.stop();
      await a.c.waitClosed(3000);
      await b.c.waitClosed(3000);
      await a.c.waitText("The portal is shutting down.");
      // The compressed farewell is inflated asynchronously on our side; the stream must also end cleanly.
      await b.c.waitText("The portal is shutting down.");
      await waitFor(() => b.c.mccpEnds === 1, 2000, "MCCP stream finished before the close");
      expect(b.c.inflateError).to.equal(undefined);
    });

    it("the game disconnecting a session delivers the reason, then closes", async () => {
      const h = await boot();
      const { c, sessid } = await open(h);
      h.game.sdk.disconnect(h.game.sdk.get(sessid)!, "Goodbye!");
      await c.waitText("Goodbye!");
      await c.waitClosed();
    });
  });

  describe("TLS", () => {
    function makeCert(dir: string, cn: string): { certFile: string; keyFile: string } {
      const keyFile = join(dir, "k.pem");
      const certFile = join(dir, "c.pem");
      const tmpKey = join(dir, `k-${cn}.pem`);
      const tmpCert = join(dir, `c-${cn}.pem`);
      execFileSync("/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", `/CN=${cn}`, "-days", "1", "-keyout", tmpKey, "-out", tmpCert], { stdio: "ignore" });
      writeFileSync(keyFile, readFileSync(tmpKey));
      writeFileSync(certFile, readFileSync(tmpCert));
      return { certFile, keyFile };
    }

    function fingerprint(c: TelnetTestClient): string {
      return (c.socket as TLSSocket).getPeerCertificate().fingerprint256;
    }

    it("speaks telnet over TLS as telnet/ssl, and a reload serves the new certificate without dropping players", async function () {
      this.timeout(20000);
      const dir = tempDir("portico-tls-");
      const files = makeCert(dir, "localhost");
      const firstFp = new X509Certificate(readFileSync(files.certFile)).fingerprint256;
      const h = await boot({ tls: files });
      expect(h.portal.launcher.list()[0]!.status.tls).to.equal(true);

      const known = new Set(h.game.connects.map((s) => s.sessid));
      const old = await TelnetTestClient.openTls(h.port, withAnswers(FULL, { will: { [T.MSSP]: true } }));
      clients.push(old);
      const oldSession = await waitFor(() => h.game.connects.find((s) => !known.has(s.sessid)), 2000, "TLS session");
      expect(oldSession.protocol_key).to.equal("telnet/ssl");
      expect(fingerprint(old)).to.equal(firstFp);
      await old.waitNeg(T.WILL, T.SGA);
      const mssp = (await old.waitSb(T.MSSP)).toString("latin1");
      expect(mssp).to.include(`\x01SSL\x02${h.port}`);
      expect(mssp).to.include(`\x01TLS\x02${h.port}`);
      old.send("look\r\n");
      await waitFor(() => textInputs(h, oldSession.sessid).includes("look"), 2000, "TLS input");
      out(h, oldSession.sessid, ["text", ["over tls"], {}]);
      await old.waitText("over tls");

      // New certificate in the same files, then reload.
      makeCert(dir, "renewed.example");
      const secondFp = new X509Certificate(readFileSync(files.certFile)).fingerprint256;
      expect(secondFp).to.not.equal(firstFp);
      await h.portal.launcher.reloadAll();

      const fresh = await TelnetTestClient.openTls(h.port);
      clients.push(fresh);
      expect(fingerprint(fresh)).to.equal(secondFp);
      await fresh.waitNeg(T.WILL, T.SGA);

      expect(old.closed).to.equal(false);
      old.send("still here\r\n");
      await waitFor(() => textInputs(h, oldSession.sessid).includes("still here"), 2000, "old TLS connection still works");
      out(h, oldSession.sessid, ["text", ["after reload"], {}]);
      await old.waitText("after reload");
      expect(fingerprint(old)).to.equal(firstFp);
    });

    it("a broken certificate on reload keeps the old one serving", async function () {
      this.timeout(20000);
      const dir = tempDir("portico-tls-");
      const files = makeCert(dir, "localhost");
      const firstFp = new X509Certificate(readFileSync(files.certFile)).fingerprint256;
      const h = await boot({ tls: files });
      writeFileSync(files.certFile, "not a certificate");
      await h.portal.launcher.reloadAll();
      const c = await TelnetTestClient.openTls(h.port);
      clients.push(c);
      expect(fingerprint(c)).to.equal(firstFp);
      await c.waitNeg(T.WILL, T.SGA);
    });
  });
});
