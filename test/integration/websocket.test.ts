import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:https";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { WebSocket } from "ws";
import { PluginTestBed, sleep, waitFor, type LaunchedPlugin } from "../../core/testing/index.js";
import { websocketManifest } from "../../plugins/websocket/index.js";
import { WsTestClient } from "../support/ws-client.js";

// The websocket plugin through real sockets on 127.0.0.1, with a scripted fake game (PluginTestBed):
// every wire format, resume, heartbeat, limits and bad input.
describe("websocket plugin (ws clients)", function () {
  this.timeout(20_000);
  let bed: PluginTestBed;
  let plugin: LaunchedPlugin;
  const clients: WsTestClient[] = [];

  async function start(config: Record<string, unknown> = {}, limits: Record<string, number> = {}): Promise<void> {
    bed = new PluginTestBed({ plugins: [websocketManifest], limits });
    plugin = await bed.listen(websocketManifest, config);
  }

  const url = (query = "") => `ws://127.0.0.1:${plugin.port}/ws${query}`;

  /** Opens a client and waits for its session to reach the game. */
  async function open(protocols: string[] = [], query = "", headers: Record<string, string> = {}): Promise<{ c: WsTestClient; sessid: string }> {
    const known = bed.game.ofOp("session-connect").length;
    const c = await WsTestClient.open(url(query), protocols, headers);
    clients.push(c);
    const s = await bed.game.nextSession(3000, known);
    return { c, sessid: s.sessid };
  }

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await bed?.stop();
  });

  describe("v1.evennia.com (the default)", () => {
    it("a client offering no subprotocol gets v1: flags, input, HTML text, prompt, OOB both ways, logged_in, echo", async () => {
      await start();
      const { c, sessid } = await open();
      expect(c.protocol).to.equal("");
      const s = bed.game.sessions.find((x) => x.sessid === sessid)!;
      expect(s.protocol_key).to.equal("websocket");
      expect(s.protocol_flags).to.include({ CLIENTNAME: "websocket (v1.evennia.com)", "UTF-8": true, OOB: true, ANSI: true, XTERM256: true, TRUECOLOR: true });
      expect(bed.session(sessid)!.variant).to.equal("v1.evennia.com");
      await c.waitFor(() => c.token, "a resume token");

      c.sendV1("text", ["look"], { cmdid: 3 });
      c.sendV1("client_options", [], { screenwidth: 100 });
      await bed.game.nextInput("look");
      await waitFor(() => bed.game.inputs.some((i) => i.name === "client_options"));
      expect(bed.game.inputs.map((i) => [i.name, i.args, i.kwargs])).to.deep.equal([["text", ["look"], { cmdid: 3 }], ["client_options", [], { screenwidth: 100 }]]);

      bed.game.output(sessid, ["text", ["|rRed|n <b>&"], {}], ["prompt", ["HP 5> "], {}], ["char_vitals", [], { hp: 5, options: { x: 1 } }], ["options", [], {}]);
      await c.waitFor(() => c.v1.length >= 3, "three messages");
      expect(c.v1[0]![0]).to.equal("text");
      expect(c.v1[0]![1][0]).to.match(/^<span[^>]*style="color:#ff0000"[^>]*>Red<\/span> &lt;b&gt;&amp;$/);
      expect(c.v1[0]![2]).to.deep.equal({});
      expect(c.v1.slice(1)).to.deep.equal([["char_vitals", [], { hp: 5, options: { x: 1 } }], ["prompt", ["HP 5&gt; "], {}]]);

      bed.game.login(sessid, 7, "Alice");
      await c.waitFor(() => c.v1.some((m) => m[0] === "logged_in"), "logged_in");
      bed.game.output(sessid, ["text", ["Password:"], { options: { echo: false } }]);
      await c.waitFor(() => c.v1.some((m) => m[0] === "echo"), "the echo switch");
      const tail = c.v1.slice(-2);
      expect(tail[0]).to.deep.equal(["echo", [false], {}]);
      expect(tail[1]![0]).to.equal("text");
    });

    it("ignores invalid JSON, wrong shapes, non-string commands, deep nesting and non-UTF-8 frames; the session and others go on", async () => {
      await start({ maxJsonDepth: 8 });
      const { c, sessid } = await open();
      const other = await open();
      for (const bad of ["{not json", "[1,2,3]", '["x"]', '[1,[],{}]', '["text","look",{}]', '["text",[],[]]', "null", '"text"', `[${"[".repeat(50)}${"]".repeat(50)}, [], {}]`, `["text", [${"[".repeat(20)}1${"]".repeat(20)}], {}]`]) c.send(bad);
      c.send(Buffer.from([0xff, 0xfe, 0x00]), true);
      c.sendV1("text", ["still here"]);
      await bed.game.nextInput("still here");
      expect(bed.game.inputs.filter((i) => i.sessid === sessid).map((i) => i.args)).to.deep.equal([["still here"]]);
      other.c.sendV1("text", ["me too"]);
      await bed.game.nextInput("me too");
      expect(bed.errors).to.deep.equal([]);
    });

    it("a websocket_close message ends the session; the game is told", async () => {
      await start();
      const { c, sessid } = await open();
      c.sendV1("websocket_close");
      await bed.game.disconnected(sessid);
      await c.waitClosed();
      expect(bed.game.inputs).to.deep.equal([]);
    });

    it("text longer than limits.maxCharLimit is refused with the portal's message, like telnet", async () => {
      await start({}, { maxCharLimit: 10 });
      const { c } = await open();
      c.sendV1("text", ["x".repeat(11)]);
      await c.waitFor(() => c.text.includes("too long"), "the char-limit message");
      expect(bed.game.inputs).to.deep.equal([]);
    });
  });

  describe("mudstandards.org formats", () => {
    it("json: the server's preference wins; envelopes and BINARY text in, BINARY ANSI text, TEXT prompt and gmcp out", async () => {
      await start();
      const { c, sessid } = await open(["terminal.mudstandards.org", "json.mudstandards.org"]);
      expect(c.protocol).to.equal("json.mudstandards.org");
      expect(bed.session(sessid)!.variant).to.equal("json.mudstandards.org");
      c.send(Buffer.from("look\r\n"), true);
      c.send(JSON.stringify({ proto: "text", id: "", data: "say hi" }));
      c.send(JSON.stringify({ proto: "gmcp", id: "Core.Hello", data: { client: "Mudlet", version: "4" } }));
      c.send(JSON.stringify({ proto: "custom", id: "roll", data: [2, 6] }));
      c.send(JSON.stringify({ proto: 5 }));
      await waitFor(() => bed.game.inputs.length === 4, 3000, "four inputs");
      expect(bed.game.inputs.map((i) => [i.name, i.args, i.kwargs])).to.deep.equal([
        ["text", ["look"], {}], ["text", ["say hi"], {}], ["hello", [], { client: "Mudlet", version: "4" }], ["roll", [2, 6], {}],
      ]);
      bed.game.output(sessid, ["text", ["|gGreen"], {}], ["prompt", ["> "], {}], ["char_vitals", [], { hp: 5 }]);
      await c.waitFor(() => c.frames.filter((f) => !String(f.data).includes("Portico.Resume")).length >= 3, "three frames");
      const frames = c.frames.filter((f) => !String(f.data).includes("Portico.Resume"));
      expect(frames[0]!.binary).to.equal(true);
      expect((frames[0]!.data as Buffer).toString()).to.match(/\x1b\[[0-9;]*mGreen/);
      expect(JSON.parse(frames[1]!.data as string)).to.deep.equal({ proto: "gmcp", id: "Char.Vitals", data: '{"hp":5}' });
      expect(JSON.parse(frames[2]!.data as string)).to.deep.equal({ proto: "prompt", id: "", data: "> \x1b[0m" });
      c.send(JSON.stringify({ proto: "websocket_close" }));
      await bed.game.disconnected(sessid);
    });

    it("gmcp: TEXT frames are GMCP both ways, BINARY frames text", async () => {
      await start();
      const { c, sessid } = await open(["gmcp.mudstandards.org"]);
      c.send("Core.Ping");
      c.send(Buffer.from("north"), true);
      await waitFor(() => bed.game.inputs.length === 2, 3000, "two inputs");
      expect(bed.game.inputs.map((i) => i.name)).to.deep.equal(["ping", "text"]);
      bed.game.output(sessid, ["room_info", [], { name: "Hall" }]);
      await c.waitFor(() => c.frames.some((f) => f.data === 'Room.Info {"name":"Hall"}'), "the GMCP message");
    });

    it("terminal: every frame is text, OOB is dropped, no resume token (OOB false)", async () => {
      await start();
      const { c, sessid } = await open(["terminal.mudstandards.org"]);
      expect(bed.session(sessid)!.protocol_flags.OOB).to.equal(false);
      c.send("look\nsay hi");
      await waitFor(() => bed.game.inputs.length === 2, 3000, "two inputs");
      bed.game.output(sessid, ["char_vitals", [], { hp: 1 }], ["text", ["done"], {}]);
      await c.waitFor(() => c.text.includes("done"), "text");
      expect(c.frames).to.have.length(1);
    });

    it("a client offering only unknown subprotocols gets no Sec-WebSocket-Protocol and the v1 format", async () => {
      await start();
      const head = await rawUpgrade(plugin.port, "Sec-WebSocket-Protocol: made.up.example\r\n");
      expect(head).to.match(/^HTTP\/1\.1 101 /);
      expect(head.toLowerCase()).to.not.include("sec-websocket-protocol");
      const s = await bed.game.nextSession(3000, 0);
      expect(bed.session(s.sessid)!.variant).to.equal("v1.evennia.com");
    });
  });

  describe("resume", () => {
    it("a cut connection resumes within the window: same session, still logged in, no disconnect for the game, missed output replayed, the token rotated and single use", async () => {
      await start();
      const first = await open();
      bed.game.login(first.sessid, 1, "Alice");
      bed.game.msg(first.sessid, "one");
      await first.c.waitFor(() => first.c.text.includes("one"), "one");
      const token = await first.c.waitFor(() => first.c.token, "token");
      const seen = first.c.contentFrames;
      first.c.cut();
      await waitFor(() => bed.launcher.list()[0]!.status.detached === 1, 3000, "the session to wait for its tab");
      bed.game.msg(first.sessid, "two (while away)");

      const back = await WsTestClient.open(url(`?resume=${encodeURIComponent(token)}&received=${seen}`));
      clients.push(back);
      await back.waitFor(() => back.text.includes("two (while away)"), "the missed line");
      expect(back.text).to.not.include("one");
      expect(back.v1[0]).to.deep.equal(["logged_in", [], {}]);
      expect(bed.game.ofOp("session-connect")).to.have.length(1);
      expect(bed.game.ofOp("session-disconnect")).to.deep.equal([]);
      expect(bed.session(first.sessid)!.logged_in).to.equal(true);
      const newToken = await back.waitFor(() => back.token, "a new token");
      expect(newToken).to.not.equal(token);
      back.sendV1("text", ["after resume"]);
      const input = await bed.game.nextInput("after resume");
      expect(input.sessid).to.equal(first.sessid);

      const replayed = await WsTestClient.open(url(`?resume=${encodeURIComponent(token)}`));
      clients.push(replayed);
      expect((await replayed.waitClosed()).code).to.equal(4401);
      expect(back.closed).to.equal(false);
    });

    it("output sent into a connection that was already dead is replayed from the last frame the tab saw", async () => {
      await start();
      const { c, sessid } = await open();
      const token = await c.waitFor(() => c.token, "token");
      for (const line of ["a", "b", "c"]) bed.game.msg(sessid, line);
      await c.waitFor(() => c.text.includes("c"), "three lines");
      c.cut();
      // The tab says it saw only the first of the three.
      const back = await WsTestClient.open(url(`?resume=${encodeURIComponent(token)}&received=1`));
      clients.push(back);
      await back.waitFor(() => back.v1.length >= 2, "two replayed lines");
      expect(back.v1.map((m) => m[1][0])).to.deep.equal(["b", "c"]);
    });

    it("a resume while the old socket is still open takes the session over (the old one closed with 4409)", async () => {
      await start();
      const { c, sessid } = await open();
      const token = await c.waitFor(() => c.token, "token");
      const thief = await WsTestClient.open(url(`?resume=${encodeURIComponent(token)}`));
      clients.push(thief);
      expect((await c.waitClosed()).code).to.equal(4409);
      bed.game.msg(sessid, "for the new tab");
      await thief.waitFor(() => thief.text.includes("for the new tab"), "output on the new socket");
      expect(bed.game.ofOp("session-disconnect")).to.deep.equal([]);
    });

    it("after the window the session closes and the game is told; the token no longer works; a stolen made-up token is refused", async () => {
      await start({ resumeGraceMs: 300 });
      const { c, sessid } = await open();
      const token = await c.waitFor(() => c.token, "token");
      c.cut();
      await bed.game.disconnected(sessid, 3000);
      const late = await WsTestClient.open(url(`?resume=${encodeURIComponent(token)}`));
      clients.push(late);
      expect((await late.waitClosed()).code).to.equal(4401);
      const forged = await WsTestClient.open(url(`?resume=${"A".repeat(43)}`));
      clients.push(forged);
      expect(await forged.waitClosed()).to.deep.equal({ code: 4401, reason: "resume token invalid or expired" });
      expect(bed.game.ofOp("session-connect")).to.have.length(1);
    });

    it("with resumeGraceMs 0 a dropped socket ends its session at once", async () => {
      await start({ resumeGraceMs: 0 });
      const { c, sessid } = await open();
      await sleep(50);
      expect(c.token).to.equal(undefined);
      c.cut();
      await bed.game.disconnected(sessid, 3000);
    });
  });

  describe("heartbeat, backpressure and limits", () => {
    it("a client that stops answering pings has its socket dropped (the session then waits for a resume)", async () => {
      await start({ pingIntervalMs: 1000 });
      const { c, sessid } = await open();
      c.stopReading();
      await waitFor(() => bed.launcher.list()[0]!.status.detached === 1, 5000, "the dead socket to be dropped");
      expect(bed.session(sessid)).to.not.equal(undefined);
      expect(bed.logger.entries.some((e) => e.msg === "web client did not answer a ping; its socket is dropped")).to.equal(true);
    });

    it("a client that does not read its output is closed (1013) once maxBufferedBytes are queued; its session can resume", async () => {
      await start({ maxBufferedBytes: 16 * 1024 });
      const { c, sessid } = await open();
      const token = await c.waitFor(() => c.token, "token");
      c.stopReading();
      const line = "x".repeat(4000);
      for (let i = 0; i < 2000 && bed.launcher.list()[0]!.status.detached !== 1; i++) {
        bed.game.msg(sessid, line);
        if (i % 50 === 49) await sleep(5);
      }
      await waitFor(() => bed.launcher.list()[0]!.status.detached === 1, 5000, "the slow reader to be dropped");
      expect(bed.logger.entries.some((e) => e.msg === "web client is not reading its output; closed")).to.equal(true);
      const back = await WsTestClient.open(url(`?resume=${encodeURIComponent(token)}`));
      clients.push(back);
      await back.waitFor(() => back.v1.length > 0, "replayed output");
    });

    it("a frame over maxFrameBytes closes the socket (1009) and ends the session; a 100 MB frame header is refused without buffering it", async () => {
      await start({ maxFrameBytes: 1024 });
      const { c, sessid } = await open();
      c.send("x".repeat(5000));
      expect((await c.waitClosed()).code).to.equal(1009);
      await bed.game.disconnected(sessid);
      const raw = await rawUpgrade(plugin.port);
      expect(raw).to.match(/^HTTP\/1\.1 101 /);
      const socket = lastRawSocket!;
      const header = Buffer.alloc(14);
      header[0] = 0x81; // FIN + text
      header[1] = 0x80 | 127; // masked, 64-bit length
      header.writeBigUInt64BE(100n * 1024n * 1024n, 2);
      socket.write(Buffer.concat([header, Buffer.alloc(64)]));
      await waitFor(() => socket.destroyed || socket.readableEnded, 3000, "the server to close the raw socket");
    });

    it("a TEXT frame that is not UTF-8 is a protocol error: closed (1007) and the session ends", async () => {
      await start();
      const { c, sessid } = await open();
      c.send(Buffer.from([0x5b, 0xff, 0xfe, 0x5d]), false);
      expect((await c.waitClosed()).code).to.equal(1007);
      await bed.game.disconnected(sessid);
    });

    it("a flood of frames closes the socket (1008) and ends the session; other sessions are unaffected", async () => {
      await start({ maxFramesPerSecond: 20 });
      const { c, sessid } = await open();
      const other = await open();
      for (let i = 0; i < 100; i++) c.sendV1("idle");
      expect((await c.waitClosed()).code).to.equal(1008);
      await bed.game.disconnected(sessid);
      other.c.sendV1("text", ["fine"]);
      await bed.game.nextInput("fine");
    });

    it("new connections go through the connection throttle and its per-address cap, like telnet", async () => {
      await start({}, { maxConnectionRate: 1, connectionQueueMax: 1 });
      await open();
      const queued = await WsTestClient.open(url());
      clients.push(queued);
      const refused = await WsTestClient.open(url());
      clients.push(refused);
      await refused.waitFor(() => refused.text.includes("too many connections"), "the queue-full message");
      await refused.waitClosed();
      await queued.waitFor(() => queued.text.includes("queued"), "the queued notice");
    });
  });

  describe("client address", () => {
    it("X-Forwarded-For from a trusted proxy (127.0.0.1 by default) gives the player's address; Forwarded too", async () => {
      await start();
      const a = await open([], "", { "X-Forwarded-For": "203.0.113.9, 127.0.0.1" });
      expect(bed.session(a.sessid)!.address).to.equal("203.0.113.9");
      const b = await open([], "", { Forwarded: 'for="[2001:db8::7]:4711";proto=https' });
      expect(bed.session(b.sessid)!.address).to.equal("2001:db8::7");
    });

    it("without trusted proxies the header is ignored (no spoofing)", async () => {
      await start({ trustedProxies: [] });
      const a = await open([], "", { "X-Forwarded-For": "203.0.113.9" });
      expect(bed.session(a.sessid)!.address).to.equal("127.0.0.1");
    });
  });

  describe("Evennia's webclient URL and idle", () => {
    it("accepts Evennia's query (?csessid&cuid&browser) on the v1 format; its `idle` keep-alive becomes the idle input", async () => {
      await start();
      const { c } = await open(["v1.evennia.com"], "?false&k3j5h2l4k5j3h&chrome");
      expect(c.protocol).to.equal("v1.evennia.com");
      c.sendV1("text", ["idle"], { cmdid: 9 });
      c.sendV1("text", ["look"], { cmdid: 10 });
      await bed.game.nextInput("look");
      expect(bed.game.inputs.map((i) => [i.name, i.args])).to.deep.equal([["idle", []], ["text", ["look"]]]);
    });
  });

  describe("TLS", () => {
    let dir: string;
    beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "portico-wss-"))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    function certificate(cn: string): void {
      execFileSync("/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", `/CN=${cn}`, "-days", "1",
        "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")], { stdio: "ignore" });
    }

    function served(): Promise<{ status: number; cn: string }> {
      return new Promise((resolve, reject) => {
        const req = request({ host: "127.0.0.1", port: plugin.port, path: "/", rejectUnauthorized: false, agent: false }, (res) => {
          const cn = String((res.socket as TLSSocket).getPeerCertificate().subject.CN);
          res.resume();
          res.on("end", () => resolve({ status: res.statusCode ?? 0, cn }));
        });
        req.on("error", reject);
        req.end();
      });
    }

    it("with tls it serves https and wss; a reload serves the new certificate without dropping anyone", async () => {
      certificate("first");
      await start({ tls: { certFile: join(dir, "cert.pem"), keyFile: join(dir, "key.pem") } });
      expect(await served()).to.deep.equal({ status: 200, cn: "first" });
      const known = bed.game.ofOp("session-connect").length;
      const ws = new WebSocket(`wss://127.0.0.1:${plugin.port}/ws`, { rejectUnauthorized: false });
      ws.on("error", () => undefined);
      const frames: string[] = [];
      ws.on("message", (d: Buffer) => frames.push(d.toString()));
      await new Promise((resolve) => ws.once("open", resolve));
      const { sessid } = await bed.game.nextSession(3000, known);
      certificate("second");
      await plugin.factory.reload!();
      expect(await served()).to.deep.equal({ status: 200, cn: "second" });
      bed.game.msg(sessid, "still here");
      await waitFor(() => frames.some((f) => f.includes("still here")), 3000, "output on the old wss connection");
      ws.terminate();
    });
  });

  describe("HTTP", () => {
    it("serves the page, its script and styles with a content security policy; /ws without upgrade is 426", async () => {
      await start();
      const page = await fetch(`http://127.0.0.1:${plugin.port}/`);
      expect(page.status).to.equal(200);
      expect(page.headers.get("content-type")).to.equal("text/html; charset=utf-8");
      expect(page.headers.get("content-security-policy")).to.contain("default-src 'self'");
      expect(await page.text()).to.contain('<main id="output" role="log" aria-live="polite"');
      for (const [path, type] of [["/client.js", "text/javascript"], ["/style.css", "text/css"], ["/markup.css", "text/css"], ["/portico.json", "application/json"], ["/favicon.svg", "image/svg+xml"]]) {
        const r = await fetch(`http://127.0.0.1:${plugin.port}${path}`);
        expect(r.status, path).to.equal(200);
        expect(r.headers.get("content-type"), path).to.contain(type);
      }
      expect(await (await fetch(`http://127.0.0.1:${plugin.port}/portico.json`)).json()).to.deep.equal({ serverName: "Portico test bed", path: "/ws", subprotocol: "v1.evennia.com" });
      expect((await fetch(`http://127.0.0.1:${plugin.port}/ws`)).status).to.equal(426);
      expect((await fetch(`http://127.0.0.1:${plugin.port}/`, { method: "POST", body: "x" })).status).to.equal(405);
      const head = await fetch(`http://127.0.0.1:${plugin.port}/client.js`, { method: "HEAD" });
      expect([head.status, await head.text(), Number(head.headers.get("content-length"))]).to.deep.include.members([200, ""]);
      expect(Number(head.headers.get("content-length"))).to.be.greaterThan(1000);
    });

    it("never serves a file outside the static folder, however the path is written", async () => {
      await start();
      const paths = ["/../package.json", "/%2e%2e/package.json", "/..%2fpackage.json", "/%2e%2e%2f%2e%2e%2f%2e%2e%2fpackage.json", "/.%2e/.%2e/core/index.ts",
        "/..\\..\\package.json", "/%5c..%5cpackage.json", "/%00", "/index.html%00.js", "/%zz", "//etc/passwd", "/static/../../../../etc/passwd"];
      for (const path of paths) {
        const status = await rawGet(plugin.port, path);
        expect([400, 404], path).to.include(status.code);
        expect(status.body, path).to.not.contain('"name": "portico"');
        expect(status.body, path).to.not.contain("root:");
      }
    });

    it("with webclient false no page is served (404), but the websocket still works", async () => {
      await start({ webclient: false });
      for (const path of ["/", "/client.js", "/portico.json", "/markup.css"]) expect((await fetch(`http://127.0.0.1:${plugin.port}${path}`)).status, path).to.equal(404);
      const { c } = await open();
      c.sendV1("text", ["look"], {});
      await bed.game.nextInput("look");
    });

    it("an upgrade on another path is refused (404)", async () => {
      await start();
      let err: unknown;
      await WsTestClient.open(`ws://127.0.0.1:${plugin.port}/elsewhere`).catch((e: unknown) => (err = e));
      expect(String(err)).to.contain("HTTP 404");
    });
  });
});

let lastRawSocket: Socket | undefined;

/** A websocket upgrade over a raw TCP socket; resolves with the response head (the socket stays open in lastRawSocket). */
function rawUpgrade(port: number, extra = ""): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    lastRawSocket = socket;
    let head = "";
    socket.on("error", () => undefined);
    socket.on("data", (b: Buffer) => {
      head += b.toString("latin1");
      if (head.includes("\r\n\r\n")) resolve(head.slice(0, head.indexOf("\r\n\r\n")));
    });
    socket.on("close", () => reject(new Error(`closed before an answer: ${head}`)));
    socket.write(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`);
  });
}

/** A GET with the path sent exactly as given (fetch would normalise it). */
function rawGet(port: number, path: string): Promise<{ code: number; body: string }> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let data = "";
    socket.on("error", () => undefined);
    socket.on("data", (b: Buffer) => (data += b.toString("latin1")));
    socket.on("close", () => resolve({ code: Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0), body: data }));
    socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
  });
}
