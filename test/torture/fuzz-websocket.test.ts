import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { request } from "node:http";
import { connect, type Socket } from "node:net";
import { WebSocket } from "ws";
import { defaultProtocolFlags, isCommandTuple, type ProtocolFlags } from "../../core/index.js";
import { sleep, waitFor } from "../../core/testing/wait-for.js";
import { SUBPROTOCOLS, codecFor, type Decoded, type WireCodec } from "../../plugins/websocket/codecs/index.js";
import { NASTY_STRINGS, mutateBytes, mutateJson, mutateText, randomJson, randomText, splitChunks } from "../support/fuzz/mutate.js";
import { Rng } from "../support/prng.js";
import { Canary, LONG, MemoryWatch, Rig, TortureReport, caseCount, expectUnharmed, fuzzSeed, pick, replayHint } from "../support/torture.js";

/**
 * Fuzzing of the websocket plugin: every wire format's decoder and encoders with random and
 * mutated frames and output; then a live listener hammered by `ws` clients (every subprotocol,
 * none, bogus ones, garbage resume tokens) sending mutated JSON, GMCP and text frames, by raw TCP
 * clients sending hand-made websocket frames (bad opcodes, reserved bits, unmasked, fragments,
 * huge lengths, bad UTF-8, odd close codes) and mutated upgrade requests, and by odd HTTP paths,
 * while a telnet canary and a websocket canary keep getting answers. Short form in `npm test`;
 * PORTICO_TORTURE=long runs >= 100 000 cases per part.
 */
const SEED = fuzzSeed(20261205);
const WS_PLUGIN = "plugins.websocket.WebsocketFactory";
const MAX_FRAME = 64 * 1024;

const asText = (v: unknown): string => (typeof v === "string" ? v : JSON.stringify(v) ?? "");

/** A frame a client of `codec` might send: well-formed for the format, then often mutated. */
function clientFrame(rng: Rng, codec: string): { data: Buffer; binary: boolean } {
  const name = rng.chance(0.7) ? rng.pick(["text", "text", "login", "idle", "websocket_close", "client_options", "get_inputfuncs", "Core.Hello", "__proto__", ""]) : randomText(rng, rng.range(0, 10));
  const args = rng.chance(0.7) ? [rng.chance(0.5) ? rng.pick(["look", "say hi", "login fuzz", "whoami", ...NASTY_STRINGS]) : randomText(rng, rng.int(100))] : randomJson(rng, 2);
  const kwargs = rng.chance(0.7) ? {} : randomJson(rng, 2);
  let value: unknown;
  let binary = false;
  switch (codec) {
    case "json.mudstandards.org":
      if (rng.chance(0.25)) {
        binary = true;
        value = `${asText(args instanceof Array ? args[0] : "look")}\r\n${randomText(rng, rng.int(20))}`;
      } else value = { proto: rng.pick(["text", "gmcp", "websocket_close", "custom", "", name]), id: rng.chance(0.8) ? name : randomJson(rng, 1), data: rng.chance(0.5) ? randomText(rng, 30) : randomJson(rng, 2) };
      break;
    case "gmcp.mudstandards.org":
      binary = rng.chance(0.3);
      value = binary ? randomText(rng, rng.int(80)) : `${rng.pick(["Core.Hello", "Core.Supports.Set", "Char.Login", "Core.Ping", name, "Core.__proto__"])} ${JSON.stringify(randomJson(rng, 2)) ?? ""}`;
      break;
    case "terminal.mudstandards.org":
      binary = rng.chance(0.5);
      value = rng.chance(0.5) ? `${asText(args instanceof Array ? args[0] : "look")}\n` : randomText(rng, rng.int(120));
      break;
    default:
      value = [name, args, kwargs];
  }
  if (typeof value !== "string") {
    let text = JSON.stringify(rng.chance(0.4) ? mutateJson(rng, value) : value) ?? "null";
    if (rng.chance(0.2)) text = mutateText(rng, text);
    value = text;
  }
  let data: Buffer = Buffer.from(value as string, "utf8");
  if (rng.chance(0.1)) data = mutateBytes(rng, data, [0x7b, 0x5b, 0x22, 0xff, 0xc3, 0]);
  if (rng.chance(0.01)) data = Buffer.concat([Buffer.from("[".repeat(rng.range(30, 5000))), data]);
  return { data: data.subarray(0, MAX_FRAME), binary };
}

function flags(rng: Rng): ProtocolFlags {
  return { ...defaultProtocolFlags(), ANSI: rng.chance(0.5), XTERM256: rng.chance(0.5), TRUECOLOR: rng.chance(0.3), SCREENREADER: rng.chance(0.1), NOCOLOR: rng.chance(0.1), RAW: rng.chance(0.1) };
}

describe("torture: websocket codec fuzz (decoders and encoders of every subprotocol)", function () {
  this.timeout(LONG ? 600_000 : 30_000);

  for (const name of SUBPROTOCOLS) {
    it(`${name}: decoding never throws and gives valid command tuples, a close or a reason; encoding any output never throws`, async () => {
      const codec: WireCodec = codecFor(name);
      const rng = new Rng(SEED ^ name.length * 7919);
      const report = new TortureReport(`websocket/codec ${name}`, SEED, new MemoryWatch());
      const cases = caseCount(2000, 100_000);
      const kinds = { input: 0, close: 0, ignored: 0 };
      for (let i = 1; i <= cases; i++) {
        const where = `${name} case ${i} (seed ${SEED}; replay: ${replayHint(SEED)})`;
        const frame = rng.chance(0.9) ? clientFrame(rng, name) : { data: rng.bytes(rng.int(300)), binary: rng.chance(0.5) };
        const depth = rng.pick([1, 4, 32, 1000]);
        let decoded: Decoded;
        try {
          decoded = codec.decode(frame.data, frame.binary, { maxJsonDepth: depth });
        } catch (err) {
          expect.fail(`${where}: decode threw ${(err as Error).stack} on ${JSON.stringify(frame.data.toString("latin1").slice(0, 200))}`);
        }
        kinds[decoded.kind] += 1;
        if (decoded.kind === "input") {
          expect(decoded.commands.length, where).to.be.greaterThan(0);
          for (const c of decoded.commands) expect(isCommandTuple(c), `${where}: ${JSON.stringify(c)?.slice(0, 200)}`).to.equal(true);
        } else if (decoded.kind === "ignored") expect(decoded.why, where).to.be.a("string").and.not.equal("");

        // Output the game could send, through every encoder.
        const outName = rng.chance(0.5) ? rng.pick(["text", "prompt", "options", "logged_in", "portico_resume", "Char.Vitals", "client_options"]) : randomText(rng, rng.int(12));
        // Output tuples reach a codec only after prepareTuples (args an array, kwargs an object).
        const someArgs = randomJson(rng, 2);
        const outArgs = rng.chance(0.6) ? [rng.chance(0.5) ? rng.pick(NASTY_STRINGS) : randomText(rng, rng.int(200))] : Array.isArray(someArgs) ? someArgs : [someArgs];
        const someKwargs = randomJson(rng, 2);
        const outKwargs = { ...(rng.chance(0.3) ? { options: { raw: rng.chance(0.5), nocolor: rng.chance(0.5), screenreader: rng.chance(0.3), echo: rng.chance(0.5) } } : {}), ...(rng.chance(0.2) && typeof someKwargs === "object" && someKwargs !== null && !Array.isArray(someKwargs) ? someKwargs : {}) };
        const text = rng.chance(0.5) ? `|r${randomText(rng, 40)}|n |[#ff0000x|u|*${rng.pick(NASTY_STRINGS)}` : asText(outArgs[0]);
        try {
          for (const f of [codec.text(text, outKwargs, flags(rng)), codec.prompt(text, outKwargs, flags(rng)), codec.oob(outName, outArgs, outKwargs)]) {
            if (!f) continue;
            expect(typeof f.data === "string" || Buffer.isBuffer(f.data), where).to.equal(true);
            if (!f.binary && name === "v1.evennia.com") expect(() => JSON.parse(f.data as string), where).to.not.throw();
          }
        } catch (err) {
          expect.fail(`${where}: encoding threw ${(err as Error).stack}`);
        }
        if (i % 2000 === 0) await sleep(0);
      }
      report.count("frames", cases);
      Object.assign(report.notes, kinds);
      await report.memory.finish();
      await report.finish();
      expect(kinds.input, "inputs").to.be.greaterThan(cases / 20);
      expect(kinds.ignored, "ignored frames").to.be.greaterThan(cases / 50);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Raw websocket frames.
// ---------------------------------------------------------------------------------------------

/** A client frame: FIN, RSV bits, opcode, masking and the length encoding all chosen by the caller. */
function wsFrame(opcode: number, payload: Buffer, o: { fin?: boolean; rsv?: number; mask?: boolean; longLength?: boolean } = {}): Buffer {
  const fin = o.fin ?? true;
  const mask = o.mask ?? true;
  const len = payload.length;
  const head: number[] = [(fin ? 0x80 : 0) | ((o.rsv ?? 0) << 4) | (opcode & 0x0f)];
  const m = mask ? 0x80 : 0;
  if (o.longLength || len > 0xffff) head.push(m | 127, 0, 0, 0, 0, (len >>> 24) & 255, (len >>> 16) & 255, (len >>> 8) & 255, len & 255);
  else if (len >= 126) head.push(m | 126, (len >>> 8) & 255, len & 255);
  else head.push(m | len);
  if (!mask) return Buffer.concat([Buffer.from(head), payload]);
  const key = randomBytes(4);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i]! ^= key[i & 3]!;
  return Buffer.concat([Buffer.from(head), key, body]);
}

/** A burst of raw frames: mostly valid text/binary/ping, plus every kind of protocol violation. */
function rawFrames(rng: Rng): Buffer {
  const parts: Buffer[] = [];
  for (let i = rng.range(1, 8); i > 0; i--) {
    const text = Buffer.from(JSON.stringify(["text", [rng.chance(0.5) ? "look" : randomText(rng, 20)], {}]), "utf8");
    switch (rng.int(14)) {
      case 0: case 1: case 2: parts.push(wsFrame(1, text)); break;
      case 3: parts.push(wsFrame(2, rng.bytes(rng.int(100)))); break;
      case 4: parts.push(wsFrame(9, rng.bytes(rng.int(125)))); break;
      case 5: parts.push(wsFrame(1, text.subarray(0, 5), { fin: false }), wsFrame(0, text.subarray(5))); break;
      case 6: parts.push(wsFrame(rng.pick([3, 4, 5, 6, 7, 11, 12, 13, 14, 15]), rng.bytes(rng.int(20)))); break;
      case 7: parts.push(wsFrame(1, text, { rsv: rng.range(1, 7) })); break;
      case 8: parts.push(wsFrame(1, text, { mask: false })); break;
      case 9: parts.push(wsFrame(9, rng.bytes(rng.range(126, 300)))); break;
      case 10: parts.push(wsFrame(1, Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0xed, 0xa0, 0x80]))); break;
      case 11: parts.push(wsFrame(8, Buffer.concat([Buffer.from([rng.int(256), rng.int(256)]), rng.bytes(rng.int(10))]))); break;
      case 12: parts.push(wsFrame(1, text, { longLength: true })); break;
      default: parts.push(rng.chance(0.5) ? wsFrame(0, text) : mutateBytes(rng, wsFrame(1, text), [0x80, 0x81, 0x88, 0xff, 0x7f, 0]));
    }
  }
  if (rng.chance(0.05)) {
    // A length far over maxFrameBytes (ws closes with 1009 on the header alone).
    parts.push(Buffer.from([0x81, 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4]));
  }
  return Buffer.concat(parts);
}

function upgradeRequest(rng: Rng, path: string): string {
  const protocols = rng.chance(0.7) ? `Sec-WebSocket-Protocol: ${rng.pick([...SUBPROTOCOLS, "bogus", "v1.evennia.com, json.mudstandards.org", ""])}\r\n` : "";
  return `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n${protocols}\r\n`;
}

describe("torture: websocket fuzz against a live listener", function () {
  this.timeout(LONG ? 600_000 : 60_000);
  let rig: Rig;
  const canaries: Canary[] = [];
  const sockets = new Set<{ destroy(): void }>();
  let stop = true;

  beforeEach(async () => {
    rig = await Rig.start({
      listeners: [{ plugin: WS_PLUGIN, config: { maxFrameBytes: MAX_FRAME, maxFramesPerSecond: 100_000, resumeGraceMs: 300, pingIntervalMs: 5000, maxBufferedBytes: 256 * 1024 } }],
    });
  });

  afterEach(async () => {
    stop = true;
    for (const c of canaries.splice(0)) c.close();
    for (const s of sockets) s.destroy();
    sockets.clear();
    await rig.stop();
  });

  /** `ws` clients: a random subprotocol offer and query, then mutated frames of that format; some never read. */
  async function wsClient(rng: Rng, port: number, stats: Record<string, number>): Promise<void> {
    const offer = rng.chance(0.85) ? [rng.pick(SUBPROTOCOLS)] : rng.pick([[], ["bogus"], [...SUBPROTOCOLS].reverse()]);
    const query = rng.chance(0.1) ? `?resume=${encodeURIComponent(rng.pick(["", "x", randomText(rng, 40)]))}&received=${rng.pick(["1", "-1", "999999999", "1e9", "x"])}`
      : rng.chance(0.1) ? `?client=${encodeURIComponent(randomText(rng, rng.int(80)))}` : "";
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws${query}`, offer, { perMessageDeflate: false });
    // Kept until the socket is closed: one that closed without reading waits for ws's close timeout, unless the test ends it.
    const handle = { destroy: () => ws.terminate() };
    sockets.add(handle);
    ws.once("close", () => sockets.delete(handle));
    ws.on("error", () => undefined);
    const opened = await new Promise<boolean>((resolve) => {
      ws.once("open", () => resolve(true));
      ws.once("close", () => resolve(false));
      ws.once("unexpected-response", () => resolve(false));
    });
    stats.wsConnections = (stats.wsConnections ?? 0) + 1;
    if (!opened) {
      ws.terminate();
      return;
    }
    if (rng.chance(0.3)) (ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const codec = ws.protocol || "v1.evennia.com";
    for (let i = rng.range(5, 200); i > 0 && !stop && ws.readyState === WebSocket.OPEN; i--) {
      const f = clientFrame(rng, codec);
      ws.send(f.data, { binary: f.binary });
      stats.frames = (stats.frames ?? 0) + 1;
      if (i % 25 === 0) await sleep(rng.int(2));
    }
    await sleep(rng.int(10));
    if (rng.chance(0.5)) ws.terminate();
    else ws.close(rng.pick([1000, 1001, 4000, 3000]));
  }

  /** A raw TCP client: an upgrade request (sometimes mutated), then raw frames in random chunks. */
  async function rawClient(rng: Rng, port: number, stats: Record<string, number>): Promise<void> {
    const socket: Socket = connect({ host: "127.0.0.1", port });
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    let answer = "";
    socket.on("data", (d: Buffer) => {
      if (answer.length < 512) answer += d.toString("latin1");
    });
    let request = upgradeRequest(rng, rng.chance(0.95) ? "/ws" : rng.pick(["/", "/nope", "/ws/../ws", "/WS"]));
    if (rng.chance(0.15)) request = mutateText(rng, request);
    socket.write(request);
    stats.rawConnections = (stats.rawConnections ?? 0) + 1;
    await waitFor(() => answer.includes("\r\n\r\n") || socket.destroyed, 300, "upgrade answer").catch(() => undefined);
    if (answer.startsWith("HTTP/1.1 101")) {
      for (let i = rng.range(1, 6); i > 0 && !socket.destroyed && !stop; i--) {
        for (const chunk of splitChunks(rng, rawFrames(rng))) socket.write(chunk);
        stats.frames = (stats.frames ?? 0) + 1;
        await sleep(rng.int(3));
      }
    }
    await sleep(rng.int(10));
    socket.destroy();
  }

  /** Plain HTTP for odd paths: nothing outside the web client's files is served. */
  async function httpProbe(rng: Rng, port: number, stats: Record<string, number>, problems: string[]): Promise<void> {
    const path = rng.pick(["/../../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2fpackage.json", "/static/../../package.json", "//etc/passwd", "/index.html%00.js", "/portico.json", "/markup.css", `/${encodeURIComponent(randomText(rng, 20))}`, "/ws", "/"]);
    await new Promise<void>((resolve) => {
      const req = request({ host: "127.0.0.1", port, path, method: rng.pick(["GET", "HEAD", "POST", "PUT"]) }, (res) => {
        let body = "";
        res.on("data", (d: Buffer) => void (body.length < 100_000 && (body += d.toString("utf8"))));
        res.on("end", () => {
          if (body.includes("root:x:0:0") || body.includes('"name": "portico"')) problems.push(`${path} served a file outside the web root`);
          resolve();
        });
        res.on("error", () => resolve());
      });
      req.on("error", () => resolve());
      req.setTimeout(2000, () => req.destroy());
      req.end();
    });
    stats.http = (stats.http ?? 0) + 1;
  }

  it("ws clients, raw frames, mutated upgrades and odd paths: no crash, sessions and buffers bounded, both canaries answered throughout", async () => {
    const rng = new Rng(SEED ^ 0x7777);
    const wsPort = rig.port(WS_PLUGIN);
    canaries.push(await Canary.telnet(rig.port(), "canary"));
    canaries.push(await Canary.websocket(`ws://127.0.0.1:${wsPort}/ws`, "webcanary"));
    const report = new TortureReport("websocket/live", SEED, new MemoryWatch());
    const target = caseCount(3000, 300_000);
    const maxMs = pick(30_000, 170_000);
    const stats: Record<string, number> = {};
    const problems: string[] = [];
    let peakSessions = 0;
    const sampler = setInterval(() => {
      peakSessions = Math.max(peakSessions, rig.sessions);
      for (const s of rig.portal.handler.all()) {
        const ws = (s as unknown as { ws?: WebSocket }).ws;
        if (ws && ws.bufferedAmount > 256 * 1024 + 2 * MAX_FRAME + 1024 * 1024) problems.push(`${s.sessid}: ${ws.bufferedAmount} bytes queued for a client`);
      }
    }, 100);
    stop = false;
    for (const c of canaries) c.start(50, 5000);
    const started = Date.now();
    const worker = async (r: Rng) => {
      while (!stop && (stats.frames ?? 0) < target && Date.now() - started < maxMs) {
        const k = r.int(20);
        if (k < 13) await wsClient(r, wsPort, stats);
        else if (k < 19) await rawClient(r, wsPort, stats);
        else await httpProbe(r, wsPort, stats, problems);
      }
    };
    try {
      await Promise.all(Array.from({ length: 6 }, () => worker(rng.fork())));
    } finally {
      stop = true;
      clearInterval(sampler);
    }
    const results = [];
    for (const c of canaries) results.push(await c.stop());
    const lingering = sockets.size;
    for (const s of sockets) s.destroy();
    report.count("frames", stats.frames ?? 0);
    report.count("http", stats.http ?? 0);
    Object.assign(report.notes, { ...stats, peakSessions, lingeringClientSockets: lingering, traffic: rig.traffic, log: rig.logger.counts, topWarnings: rig.logger.top() });

    // Only the two canaries are left once every fuzz session's resume grace has run out.
    await rig.settleSessions(2, 10_000);
    const status = rig.portal.launcher.list().find((p) => p.path === WS_PLUGIN)!.status;
    expect(status.sessions, "websocket sessions").to.equal(1);
    expect(rig.portal.handler.all().every((s) => s.logged_in), "both canaries still logged in").to.equal(true);
    await report.memory.finish();
    await report.finish(results);

    expect(problems.slice(0, 10), "bounded buffers, web root").to.deep.equal([]);
    await expectUnharmed(rig, canaries, report.memory);
    expect(stats.frames ?? 0, `frames sent within ${maxMs} ms`).to.be.at.least(target);
  });
});
