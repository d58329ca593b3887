import { expect } from "chai";
import { connect, type Socket } from "node:net";
import { ErrorCodes, LINK_VERSION, PortalError } from "../../core/index.js";
import { FRAME_HEADER_BYTES, FrameDecoder, encodeFrame } from "../../core/link/frame-codec.js";
import { LinkConnection } from "../../core/link/link-connection.js";
import { parseGameMessage } from "../../core/link/link-messages.js";
import { LineClient } from "../../core/testing/line-client.js";
import { sleep, waitFor } from "../../core/testing/wait-for.js";
import { NASTY_STRINGS, mutateBytes, mutateJson, mutateText, randomJson, randomText, splitChunks } from "../support/fuzz/mutate.js";
import { Rng } from "../support/prng.js";
import { Canary, LONG, MemoryWatch, Rig, TortureReport, caseCount, expectUnharmed, fuzzSeed, pick, replayHint } from "../support/torture.js";

/**
 * Fuzzing of the game link: FrameDecoder against a reference reading of random and mutated frame
 * streams in random chunks; then a raw game peer, authenticated with hello, that serves a canary and
 * a few other players on a real portal while it sends mutated game messages (well framed: each is
 * judged by parseGameMessage and the portal's handling), now and then breaks the framing itself (the
 * portal must drop it; it reconnects, and the canary's input is replayed), and strangers that never
 * authenticate send mutated hellos and garbage. Short form in `npm test`; PORTICO_TORTURE=long runs
 * >= 100 000 cases per part.
 */
const SEED = fuzzSeed(20261204);

// ---------------------------------------------------------------------------------------------
// FrameDecoder against a reference reading.
// ---------------------------------------------------------------------------------------------

interface Reference {
  frames: string[];
  /** A complete header with a length outside 1..max was met (after `frames`). */
  bad: boolean;
  /** Bytes of an unfinished frame at the end. */
  tail: number;
}

/** The stream read whole: frames until the first bad length, or until the bytes run out. */
function reference(stream: Buffer, max: number): Reference {
  const frames: string[] = [];
  let at = 0;
  while (stream.length - at >= FRAME_HEADER_BYTES) {
    const length = stream.readUInt32BE(at);
    if (length === 0 || length > max) return { frames, bad: true, tail: 0 };
    if (stream.length - at - FRAME_HEADER_BYTES < length) break;
    frames.push(stream.toString("utf8", at + FRAME_HEADER_BYTES, at + FRAME_HEADER_BYTES + length));
    at += FRAME_HEADER_BYTES + length;
  }
  return { frames, bad: false, tail: stream.length - at };
}

/** A frame body: JSON game messages, arbitrary UTF-8 (split multi-byte characters included) or raw bytes. */
function frameBody(rng: Rng, max: number): Buffer {
  switch (rng.int(5)) {
    case 0: return Buffer.from(JSON.stringify([{ op: "data-out", sessid: "p-1-1", cmds: [["text", [randomText(rng, rng.int(60))], {}]] }]), "utf8");
    case 1: return Buffer.from(randomText(rng, rng.range(1, 200)), "utf8");
    case 2: return rng.bytes(rng.range(1, 300));
    case 3: return Buffer.alloc(Math.min(max, rng.range(1, 3 * max)), rng.pick([0x7b, 0xe2, 0x20])).subarray(0, Math.min(max, rng.range(1, max)));
    default: return Buffer.from("😀é日".repeat(rng.range(1, 40)), "utf8");
  }
}

/** Frames (most valid, some with a zero or over-cap length, some cut short), then byte-level mutation. */
function frameStream(rng: Rng, max: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = rng.range(1, 12); i > 0; i--) {
    const body = frameBody(rng, max);
    const header = Buffer.alloc(FRAME_HEADER_BYTES);
    const r = rng.int(40);
    header.writeUInt32BE(r === 0 ? 0 : r === 1 ? max + rng.range(1, 1000) : r === 2 ? 0xffffffff : r === 3 ? rng.int(0x100000000) : body.length);
    parts.push(header, r === 4 ? body.subarray(0, rng.int(body.length)) : body);
  }
  const whole = Buffer.concat(parts);
  return rng.chance(0.3) ? mutateBytes(rng, whole, [0, 0xff, 0x7b, 0x5b]) : whole;
}

describe("torture: link frame fuzz (FrameDecoder)", function () {
  this.timeout(LONG ? 600_000 : 30_000);

  it("random and mutated frame streams in random chunks: the reference's frames, then a coded error exactly at a bad length, nothing held past a frame", async () => {
    const rng = new Rng(SEED);
    const report = new TortureReport("link/decoder", SEED, new MemoryWatch());
    const cases = caseCount(3000, 100_000);
    let frames = 0;
    let bad = 0;
    for (let i = 1; i <= cases; i++) {
      const max = rng.pick([16, 300, 4096, 64 * 1024]);
      const stream = frameStream(rng, max);
      const want = reference(stream, max);
      const where = `case ${i} (seed ${SEED}; replay: ${replayHint(SEED)}), max ${max}, ${stream.length} bytes`;
      const decoder = new FrameDecoder(max);
      const got: string[] = [];
      let threw: unknown;
      // The last, empty push judges a length held back behind complete frames.
      for (const chunk of [...splitChunks(rng, stream), Buffer.alloc(0)]) {
        try {
          got.push(...decoder.push(chunk));
        } catch (err) {
          threw = err;
          break;
        }
        // At most a frame in progress, or the rest of this chunk behind a length not judged yet.
        if (decoder.pendingBytes > FRAME_HEADER_BYTES + max + chunk.length) expect.fail(`${where}: ${decoder.pendingBytes} bytes held`);
      }
      if (threw !== undefined) {
        bad += 1;
        expect(threw, where).to.be.instanceOf(PortalError);
        expect((threw as PortalError).code, where).to.equal(ErrorCodes.LINK_FRAME);
        expect(want.bad, `${where}: threw on a stream the reference reads`).to.equal(true);
        // Every complete frame before the bad length came first, in order, however the stream was cut.
        expect(got, where).to.deep.equal(want.frames);
        expect(decoder.push(Buffer.from([0, 0, 0, 1, 0x7b])), `${where}: usable after the error`).to.deep.equal([]);
        expect(decoder.pendingBytes, where).to.equal(0);
      } else {
        expect(want.bad, `${where}: a bad length went unnoticed`).to.equal(false);
        expect(got, where).to.deep.equal(want.frames);
        expect(decoder.pendingBytes, where).to.equal(want.tail);
      }
      frames += got.length;
      if (i % 2000 === 0) await sleep(0);
    }
    report.count("streams", cases);
    Object.assign(report.notes, { frames, badLengths: bad });
    await report.memory.finish();
    await report.finish();
    expect(bad, "streams with a bad length").to.be.greaterThan(cases / 10);
    expect(frames).to.be.greaterThan(cases);
  });
});

// ---------------------------------------------------------------------------------------------
// A raw game peer on a real portal.
// ---------------------------------------------------------------------------------------------

const MAX_FRAME = 256 * 1024;

/**
 * The game side, written out here (not the SDK): hello, the portal's sync, sessions, input (each
 * input taken once by sequence number, acknowledged after it is answered): `login <name>` logs in,
 * anything else is echoed. `sendRaw` puts bytes on the link socket between whole frames.
 */
class FuzzGame {
  conn: LinkConnection | undefined;
  readonly sessions = new Set<string>();
  private readonly seen = new Map<string, number>();
  readonly errorCodes = new Map<string, number>();
  linked = false;
  connects = 0;

  constructor(private readonly port: number, private readonly secret: string) {}

  async connect(): Promise<void> {
    const socket = connect({ host: "127.0.0.1", port: this.port });
    const conn: LinkConnection = new LinkConnection(socket, { maxFrameBytes: MAX_FRAME, batchMaxBytes: 64 * 1024, heartbeatMs: 1000, heartbeatTimeoutMs: 10_000, maxBufferedBytes: 64 * 1024 * 1024 }, {
      message: (raw) => this.onMessage(conn, raw as Record<string, unknown>),
      fault: () => undefined,
      closed: () => {
        if (this.conn !== conn) return;
        this.conn = undefined;
        this.linked = false;
      },
    });
    this.conn = conn;
    this.linked = false;
    conn.send({ op: "hello", version: LINK_VERSION, secret: this.secret, info: { name: "fuzz-game" } });
    await waitFor(() => this.linked || conn.closed, 5000, "portal-sync-end");
    if (!this.linked) throw new Error("the portal closed the fuzz game's link during the handshake");
    this.connects += 1;
  }

  /** Whole frames only: what is queued goes first, then `bytes`. */
  sendRaw(bytes: Buffer): boolean {
    const conn = this.conn;
    if (!conn || conn.closed) return true;
    conn.flush();
    return conn.socket.write(bytes);
  }

  /**
   * Writes what is queued, then `bytes` that break the framing, and lets go of the connection at once:
   * nothing arriving on it afterwards is taken in (an answer would be lost in the broken stream, and
   * the portal replays unacknowledged input to the next connection). Resolves once it is closed.
   */
  async breakLink(bytes: Buffer): Promise<void> {
    const conn = this.conn;
    if (!conn) return;
    conn.flush();
    conn.socket.write(bytes);
    this.conn = undefined;
    this.linked = false;
    await waitFor(() => conn.closed, 150, "link closed").catch(() => conn.destroy());
  }

  private send(msg: Record<string, unknown>): void {
    this.conn?.send(msg);
  }

  private onMessage(conn: LinkConnection, m: Record<string, unknown>): void {
    if (conn !== this.conn) return;
    switch (m.op) {
      case "portal-sync":
        this.sessions.clear();
        this.linked = false;
        return;
      case "portal-sync-sessions":
        for (const s of m.sessions as { sessid: string }[]) this.sessions.add(s.sessid);
        return;
      case "portal-sync-end":
        this.linked = true;
        return;
      case "session-connect": {
        const sessid = (m.session as { sessid: string }).sessid;
        this.sessions.add(sessid);
        this.send({ op: "data-out", sessid, cmds: [["text", ["Welcome. Type: login <name>"], {}]] });
        return;
      }
      case "session-disconnect":
        this.sessions.delete(m.sessid as string);
        return;
      case "data-in": {
        const sessid = m.sessid as string;
        const cmds = m.cmds as [string, unknown[], Record<string, unknown>][];
        const first = m.seq as number;
        const last = first + cmds.length - 1;
        const done = this.seen.get(sessid) ?? -1;
        cmds.forEach(([name, args], i) => {
          if (first + i > done && name === "text") this.text(sessid, String(args[0] ?? ""));
        });
        if (last > done) this.seen.set(sessid, last);
        this.send({ op: "ack", seqs: { [sessid]: last } });
        return;
      }
      case "error":
        this.errorCodes.set(String(m.code), (this.errorCodes.get(String(m.code)) ?? 0) + 1);
        return;
      default:
        return;
    }
  }

  private text(sessid: string, text: string): void {
    const [word, name] = text.trim().split(/\s+/);
    if (word === "login" && name) {
      this.send({ op: "login", sessid, uid: name, uname: name });
      this.send({ op: "data-out", sessid, cmds: [["text", [`Logged in as ${name}.`], {}]] });
    } else {
      this.send({ op: "data-out", sessid, cmds: [["text", [`echo: ${text}`], {}]] });
    }
  }
}

const OUT_NAMES = ["text", "prompt", "options", "logged_in", "client_options", "Char.Vitals", "gmcp", "msdp", "__proto__", "constructor", "", " ", "MSSP", "mxp", "portico_resume"];

function tuple(rng: Rng): unknown {
  const name = rng.chance(0.8) ? rng.pick(OUT_NAMES) : randomText(rng, rng.range(0, 12));
  const options = rng.chance(0.4) ? { options: { echo: rng.chance(0.5), raw: rng.chance(0.2), nocolor: rng.chance(0.2), screenreader: rng.chance(0.2), [rng.pick(NASTY_STRINGS)]: randomJson(rng, 1) } } : {};
  const args = rng.chance(0.7) ? [rng.chance(0.5) ? rng.pick(NASTY_STRINGS) : randomText(rng, rng.int(200))] : (randomJson(rng, 2) as unknown[]);
  return [name, args, { ...options, ...(rng.chance(0.3) ? (randomJson(rng, 2) as object) : {}) }];
}

/** One message a (broken) game could send: every op, real and made-up session ids, odd values. */
function gameMessage(rng: Rng, sessids: readonly string[]): unknown {
  const sid = () => (rng.chance(0.6) && sessids.length > 0 ? rng.pick(sessids) : rng.pick(["", "nope-1-1", "__proto__", "constructor", "x".repeat(201), randomText(rng, 8), 7]));
  switch (rng.int(16)) {
    case 0: case 1: case 2: case 3:
      return { op: "data-out", sessid: sid(), cmds: Array.from({ length: rng.range(0, 4) }, () => tuple(rng)) };
    case 4: return { op: "login", sessid: sid(), uid: rng.chance(0.5) ? rng.int(1e6) : randomText(rng, 8), uname: rng.chance(0.8) ? rng.pick(NASTY_STRINGS) : null };
    case 5: return { op: "disconnect", sessid: rng.chance(0.2) ? sid() : "nope-2-2", reason: rng.pick(NASTY_STRINGS) };
    case 6: return {
      op: "session-sync", clean: false,
      sessions: Array.from({ length: rng.range(0, 3) }, () => ({ sessid: sid(), ...(randomJson(rng, 2) as object), ...(rng.chance(0.5) ? { protocol_flags: randomJson(rng, 2), server_data: randomJson(rng, 3), uname: randomJson(rng, 0), logged_in: randomJson(rng, 0) } : {}) })),
      ...(rng.chance(0.3) ? { more: rng.chance(0.5) } : {}), ...(rng.chance(0.3) ? { id: rng.int(1000) } : {}), ...(rng.chance(0.3) ? { gen: randomJson(rng, 0) } : {}),
    };
    case 7: return { op: "ack", seqs: Object.fromEntries(Array.from({ length: rng.range(0, 3) }, () => [sid(), rng.pick([0, 1, -1, 2 ** 53, rng.int(100), 1.5])])) };
    case 8: return { op: "server-connect", id: rng.int(1e6), path: rng.pick(["plugins.nope.NopeFactory", "", "__proto__", "constructor", "plugins.telnet", "plugins.telnet.TelnetFactory.x", "../../etc/passwd", "node:fs", randomText(rng, 12)]), config: randomJson(rng, 2) };
    case 9: return { op: "status", id: rng.chance(0.8) ? rng.int(1e6) : randomJson(rng, 0) };
    case 10: return { op: rng.pick(["ping", "pong", "hello"]), version: LINK_VERSION, secret: "not the secret" };
    case 11: return { op: rng.chance(0.5) ? rng.pick(NASTY_STRINGS) : randomText(rng, 10), sessid: sid() };
    case 12: return { op: rng.pick(["reload", "shutdown", "disconnect-all"]), mode: randomJson(rng, 0), scope: randomJson(rng, 0) };
    default: return randomJson(rng, 3);
  }
}

/** A message the portal would act on in a way that ends the test's own premises (stop, kick everyone, touch the canary, start a plugin). */
function destructive(raw: unknown, canary: string, registered: (path: string) => boolean): boolean {
  // Quoted, so that portal:1:10 is not taken for portal:1:1.
  if (JSON.stringify(raw)?.includes(JSON.stringify(canary))) return true;
  const parsed = parseGameMessage(raw);
  if (!parsed.ok) return false;
  const m = parsed.msg;
  return m.op === "reload" || m.op === "shutdown" || m.op === "disconnect-all" || (m.op === "session-sync" && m.clean) || (m.op === "server-connect" && registered(m.path));
}

/** A well-framed frame of 1-4 mutated messages, or undefined when it would be destructive or over the cap. */
function fuzzFrame(rng: Rng, sessids: readonly string[], canary: string, registered: (path: string) => boolean): Buffer | undefined {
  const msgs = Array.from({ length: rng.range(1, 4) }, () => (rng.chance(0.5) ? mutateJson(rng, gameMessage(rng, sessids)) : gameMessage(rng, sessids)));
  let text = JSON.stringify(rng.chance(0.8) ? msgs : msgs[0]) ?? "null";
  if (rng.chance(0.2)) text = mutateText(rng, text);
  if (text === "" || text.includes(JSON.stringify(canary))) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (parsed !== undefined && (Array.isArray(parsed) ? parsed : [parsed]).some((m) => destructive(m, canary, registered))) return undefined;
  const frame = encodeFrame(text);
  return frame.length - FRAME_HEADER_BYTES > MAX_FRAME ? undefined : frame;
}

/** Bytes that break the framing itself: the portal must drop the link. */
function brokenFraming(rng: Rng): { bytes: Buffer; kind: string } {
  const header = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n >>> 0);
    return b;
  };
  switch (rng.int(5)) {
    case 0: return { kind: "zero length", bytes: header(0) };
    case 1: return { kind: "over the cap", bytes: Buffer.concat([header(MAX_FRAME + rng.range(1, 1 << 20)), rng.bytes(rng.int(100))]) };
    case 2: return { kind: "cut short", bytes: Buffer.concat([header(rng.range(100, 5000)), Buffer.from('[{"op":"data-out"')]) };
    case 3: return { kind: "random bytes", bytes: rng.bytes(rng.range(1, 64)) };
    default: return { kind: "0xffffffff", bytes: header(0xffffffff) };
  }
}

/** Someone who is not the game: mutated hellos (never the secret), garbage, HTTP, an over-long first frame. */
function stranger(rng: Rng): Buffer {
  const hello = { op: "hello", version: rng.pick([LINK_VERSION, 1, 3, -1, "2"]), secret: rng.pick(["", "wrong", "x".repeat(5000), "__proto__"]), pid: 1, info: randomJson(rng, 2) };
  switch (rng.int(6)) {
    case 0: case 1: {
      const text = JSON.stringify(rng.chance(0.5) ? mutateJson(rng, hello) : hello) ?? "null";
      return encodeFrame(rng.chance(0.3) ? mutateText(rng, text) || "{}" : text);
    }
    case 2: return Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    case 3: return rng.bytes(rng.range(1, 200));
    case 4: return Buffer.concat([encodeFrame(JSON.stringify({ op: "data-out", sessid: "x", cmds: [] })), encodeFrame(JSON.stringify(hello))]);
    default: return mutateBytes(rng, encodeFrame(JSON.stringify(hello)), [0, 0xff, 0x7b]);
  }
}

describe("torture: link fuzz against a real portal (a raw game peer after hello)", function () {
  this.timeout(LONG ? 600_000 : 60_000);
  let rig: Rig;
  let game: FuzzGame;
  let canary: Canary | undefined;
  const victims = new Set<LineClient>();
  const strangers = new Set<Socket>();
  let stop = true;

  beforeEach(async () => {
    rig = await Rig.start({ game: false, portal: { link: { maxFrameBytes: MAX_FRAME, maxServerDataBytes: 64 * 1024 } } });
    game = new FuzzGame(rig.portal.linkAddress!.port, rig.portal.linkSecret);
    await game.connect();
  });

  afterEach(async () => {
    stop = true;
    canary?.close();
    canary = undefined;
    for (const v of victims) v.close();
    victims.clear();
    for (const s of strangers) s.destroy();
    game.conn?.destroy();
    await rig.stop();
  });

  async function victim(port: number): Promise<void> {
    const v = await LineClient.open(port);
    v.lines.length = 0;
    v.socket.on("data", () => void (v.lines.length = 0));
    victims.add(v);
    v.socket.once("close", () => victims.delete(v));
  }

  /** Strangers, one at a time: connect, say something, wait a little, hang up. */
  async function strangerLoop(rng: Rng, count: { n: number }): Promise<void> {
    const port = rig.portal.linkAddress!.port;
    while (!stop) {
      const s = connect({ host: "127.0.0.1", port });
      strangers.add(s);
      s.on("error", () => undefined);
      s.on("data", () => undefined);
      s.once("close", () => strangers.delete(s));
      for (const chunk of splitChunks(rng, stranger(rng))) s.write(chunk);
      count.n += 1;
      await sleep(rng.range(1, 20));
      s.destroy();
    }
  }

  it("mutated game messages, broken framing and strangers: no crash, the portal drops only what it must, the canary is answered throughout", async () => {
    const rng = new Rng(SEED ^ 0x5151);
    const port = rig.port();
    const registered = (path: string) => rig.portal.registry.get(path) !== undefined;
    canary = await Canary.telnet(port, "canary");
    const canarySessid = rig.portal.handler.all().find((s) => s.uname === "canary")!.sessid;
    for (let i = 0; i < 4; i++) await victim(port);
    await waitFor(() => game.sessions.size === 5, 5000, "victims known to the game");

    const report = new TortureReport("link/live", SEED, new MemoryWatch());
    const target = caseCount(3000, 100_000);
    const maxMs = pick(30_000, 170_000);
    const breakEvery = pick(1000, 2500);
    const strangerCount = { n: 0 };
    const breaks = new Map<string, number>();
    let frames = 0;
    let skipped = 0;
    let bytes = 0;
    stop = false;
    const strangersDone = strangerLoop(rng.fork(), strangerCount);
    canary.start(50, 5000);
    const started = Date.now();
    try {
      while (frames < target && Date.now() - started < maxMs) {
        if (!game.linked) await game.connect();
        while (victims.size < 4) await victim(port);
        const sessids = [...game.sessions].filter((s) => s !== canarySessid);
        const batch: Buffer[] = [];
        for (let i = 0; i < 20; i++) {
          const f = fuzzFrame(rng, sessids, canarySessid, registered);
          if (f) batch.push(f);
          else skipped += 1;
        }
        frames += batch.length;
        const chunk = Buffer.concat(batch);
        bytes += chunk.length;
        if (!game.sendRaw(chunk)) await Promise.race([new Promise((r) => game.conn?.socket.once("drain", r)), sleep(200)]);
        if (Math.floor(frames / breakEvery) !== Math.floor((frames - batch.length) / breakEvery)) {
          // Break the framing: the portal must close the link; the game comes back and the canary's input is replayed.
          const broken = brokenFraming(rng);
          breaks.set(broken.kind, (breaks.get(broken.kind) ?? 0) + 1);
          await game.breakLink(broken.bytes);
          await game.connect();
        }
        await sleep(rng.int(3));
      }
    } finally {
      stop = true;
    }
    await strangersDone;
    const canaryResult = await canary.stop();
    report.count("frames", frames);
    report.count("strangers", strangerCount.n);
    Object.assign(report.notes, {
      skippedDestructive: skipped, megabytes: Math.round(bytes / 1048576), framingBreaks: Object.fromEntries(breaks), gameConnects: game.connects,
      errorsToGame: Object.fromEntries([...game.errorCodes].sort((a, b) => b[1] - a[1]).slice(0, 8)), traffic: rig.traffic, log: rig.logger.counts, topWarnings: rig.logger.top(),
    });

    // Everyone who was not disconnected by a (fuzzed) disconnect is still there; the canary is logged in and answered.
    for (const s of strangers) s.destroy();
    await waitFor(() => strangers.size === 0, 5000, "strangers gone");
    await sleep(200);
    for (const v of victims) v.close();
    await rig.settleSessions(1);
    const left = rig.portal.handler.all()[0]!;
    expect(left.sessid).to.equal(canarySessid);
    expect(left.logged_in, "canary still logged in").to.equal(true);
    expect(rig.portal.gameConnected, "the fuzz game is the connected game").to.equal(true);
    expect(rig.portal.handler.pendingInputs, "unacknowledged input left").to.be.at.most(1);
    expect(({} as Record<string, unknown>).polluted, "Object.prototype polluted").to.equal(undefined);
    await report.memory.finish();
    await report.finish([canaryResult]);

    await expectUnharmed(rig, [canary], report.memory);
    expect(frames, `frames sent within ${maxMs} ms`).to.be.at.least(target);
    expect(game.connects, "reconnects after broken framing").to.be.greaterThan(1);
  });
});
