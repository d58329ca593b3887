import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Portal, type PortalSession } from "../../core/index.js";
import { MemoryLogger } from "../../core/testing/index.js";
import { bundledPlugins } from "../../plugins/index.js";
import { GameProcess } from "../support/game-process.js";
import { PtyProcess } from "../support/pty-process.js";
import { waitFor } from "../../core/testing/wait-for.js";

const TINTIN = "/usr/games/tt++";
const TELNET = "/usr/bin/telnet";

/** A TCP relay in front of the telnet listener that records what the client sent, to see its line endings. */
class RecordingProxy {
  readonly fromClient: Buffer[] = [];
  private readonly sockets = new Set<Socket>();
  private constructor(readonly server: Server) {}

  static async start(targetPort: number): Promise<RecordingProxy> {
    const server = createServer();
    const proxy = new RecordingProxy(server);
    server.on("connection", (client) => {
      const upstream = connect({ host: "127.0.0.1", port: targetPort });
      for (const s of [client, upstream]) {
        proxy.sockets.add(s);
        s.on("error", () => undefined);
        s.on("close", () => {
          proxy.sockets.delete(s);
          client.destroy();
          upstream.destroy();
        });
      }
      client.on("data", (d: Buffer) => {
        proxy.fromClient.push(Buffer.from(d));
        upstream.write(d);
      });
      upstream.pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  /** Everything the client sent, as latin-1 (one char per byte). */
  get sent(): string {
    return Buffer.concat(this.fromClient).toString("latin1");
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

describe("integration: real telnet clients (tintin++, Debian telnet) against the telnet plugin", function () {
  this.timeout(40_000);
  let dataDir: string;
  let portal: Portal;
  let game: GameProcess;
  let telnetPort: number;
  let ptys: PtyProcess[];
  let proxies: RecordingProxy[];

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "portico-telnet-clients-"));
    ptys = [];
    proxies = [];
    portal = new Portal({
      config: {
        dataDir,
        link: { port: 0 },
        limits: { maxConnectionRate: 0 },
        listeners: [{ plugin: "plugins.telnet.TelnetFactory", config: { host: "127.0.0.1", port: 0 } }],
      },
      plugins: bundledPlugins,
      logger: new MemoryLogger(),
    });
    await portal.start();
    telnetPort = (portal.launcher.list()[0]!.status as { port: number }).port;
    game = GameProcess.start(portal.linkAddress!.port, dataDir);
    await game.waitForSync(1, 15_000);
  });

  afterEach(async () => {
    for (const p of ptys) await p.kill();
    for (const p of proxies) await p.stop();
    await game.kill();
    await portal.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  function telnetSessions(): PortalSession[] {
    return portal.handler.all().filter((s) => s.protocol_key === "telnet");
  }

  /** The one telnet session, once the portal has it. */
  function oneSession(): Promise<PortalSession> {
    return waitFor(() => (telnetSessions().length === 1 ? telnetSessions()[0] : undefined), 10_000, "a telnet session on the portal");
  }

  function describeFlags(s: PortalSession | undefined): string {
    return JSON.stringify(s?.protocol_flags ?? null);
  }

  it("tintin++: negotiates NAWS, TTYPE, MCCP2 and GMCP, logs in, runs commands and receives game GMCP", async () => {
    const script = join(dataDir, "client.tin");
    // The #send strings are tintin escapes: \xFF\xFD\xC9 is IAC DO GMCP; a trailing \ suppresses the line end.
    writeFileSync(
      script,
      [
        "#config {debug telnet} on",
        "#event {IAC WILL GMCP} {#send {\\xFF\\xFD\\xC9\\};#send {\\xFF\\xFA\\xC9Core.Supports.Set [\"Char 1\", \"Room 1\"]\\xFF\\xF0\\}}",
        "#event {IAC SB GMCP} {#showme GMCP-EVENT module=%0 data=%1}",
        `#session portico 127.0.0.1 ${telnetPort}`,
        "",
      ].join("\n"),
    );
    const tt = PtyProcess.start(`${TINTIN} -G -r ${script}`, { cols: 100, rows: 30, cwd: dataDir, env: { ...process.env, TERM: "xterm" }, timeoutS: 35 });
    ptys.push(tt);

    await tt.waitForText("Welcome. Type: login <name>", 15_000);
    const session = await oneSession();

    // What the portal learned from the negotiation (and handed to the game).
    await waitFor(
      () => {
        const f = session.protocol_flags;
        return (
          f.MCCP === true && f.GMCP === true && f.TTYPE === true && f.AUTORESIZE === true &&
          (f.SCREENWIDTH as Record<string, number>)[0] === 100 && (f.SCREENHEIGHT as Record<string, number>)[0] === 30 &&
          String(f.CLIENTNAME ?? "").startsWith("TINTIN") && Array.isArray(f.GMCP_SUPPORTS)
        );
      },
      15_000,
      `tintin negotiation (flags now ${describeFlags(session)}; tintin output tail ${JSON.stringify(tt.text.slice(-800))})`,
    );
    const f = session.protocol_flags;
    expect(f.SCREENWIDTH).to.deep.equal({ 0: 100 });
    expect(f.SCREENHEIGHT).to.deep.equal({ 0: 30 });
    expect(String(f.CLIENTNAME)).to.match(/^TINTIN/);
    expect(f.TERM).to.equal("xterm");
    expect(f.OOB).to.equal(true);
    expect(f.GMCP_SUPPORTS).to.include.members(["Char", "Room"]);
    // tintin's own view of the negotiation.
    await tt.waitForText("SENT IAC SB NAWS 0 100 0 30");
    await tt.waitForText(/SENT IAC SB TTYPE TINTIN/);
    await tt.waitForText("INFO MCCP2 INITIALIZED");

    // Commands typed into tintin reach the game; the replies come back through the MCCP2 stream.
    tt.type("login alice\r");
    await tt.waitForText("Logged in as alice.", 10_000);
    await waitFor(() => session.logged_in && session.uname === "alice", 5000, "the portal sees alice logged in");
    expect(portal.handler.count_loggedin()).to.equal(1);

    tt.type("whoami\r");
    await tt.waitForText(/You are alice \(logins: 1\)\./, 10_000);

    expect(session.protocol_flags.MCCP).to.equal(true);
    tt.type("hello from tintin\r");
    await tt.waitForText("echo: hello from tintin", 10_000);

    // Game out-of-band output (the link's data-out path) reaches tintin as GMCP, inside the compressed stream.
    portal.handler.data_out(session.sessid, [["char_vitals", [], { hp: 42, maxhp: 50 }]]);
    const withGmcp = await tt.waitForText(/GMCP-EVENT module=Char\.Vitals data=\S+/, 10_000);
    const event = /GMCP-EVENT module=Char\.Vitals data=(\S+)/.exec(withGmcp)![1]!;
    expect(event).to.include("{hp}{42}").and.include("{maxhp}{50}");
    expect(session.protocol_flags.MCCP).to.equal(true);

    // tintin leaves: the portal forgets the session.
    tt.type("#zap\r");
    await waitFor(() => telnetSessions().length === 0, 10_000, "the session to close after #zap");
    expect(portal.handler.count_loggedin(true)).to.equal(0);
  });

  for (const variant of [
    { name: "default: CR NUL line ends", term: "vt100", telnetrc: null, ending: "\r\0", cols: 120, rows: 33 },
    { name: "`toggle crlf`: CR LF line ends", term: "xterm", telnetrc: "127.0.0.1\n  toggle crlf\n", ending: "\r\n", cols: 91, rows: 27 },
  ]) {
    it(`Debian telnet (${variant.name}): NAWS and TTYPE arrive, login and whoami work`, async () => {
      // A private HOME: the user's own ~/.telnetrc must not change the client's behaviour.
      const homeDir = mkdtempSync(join(dataDir, "home-"));
      if (variant.telnetrc) writeFileSync(join(homeDir, ".telnetrc"), variant.telnetrc);
      const proxy = await RecordingProxy.start(telnetPort);
      proxies.push(proxy);
      const tn = PtyProcess.start(`${TELNET} 127.0.0.1 ${proxy.port}`, {
        cols: variant.cols, rows: variant.rows, cwd: homeDir, env: { ...process.env, HOME: homeDir, TERM: variant.term }, timeoutS: 35,
      });
      ptys.push(tn);

      await tn.waitForText("Welcome. Type: login <name>", 15_000);
      const session = await oneSession();
      await waitFor(
        () => {
          const fl = session.protocol_flags;
          return fl.TTYPE === true && (fl.SCREENWIDTH as Record<string, number>)[0] === variant.cols && (fl.SCREENHEIGHT as Record<string, number>)[0] === variant.rows;
        },
        15_000,
        `telnet negotiation (flags now ${describeFlags(session)})`,
      );
      expect(session.protocol_flags.CLIENTNAME).to.equal(variant.term.toUpperCase());
      expect(session.protocol_flags.MCCP).to.equal(false);

      tn.type("login bob\r");
      await tn.waitForText("Logged in as bob.", 10_000);
      await waitFor(() => session.logged_in && session.uname === "bob", 5000, "the portal sees bob logged in");
      tn.type("whoami\r");
      await tn.waitForText(/You are bob \(logins: 1\)\./, 10_000);

      // The client really used the line ending this case is about.
      expect(proxy.sent).to.include(`login bob${variant.ending}`);
      expect(proxy.sent).to.include(`whoami${variant.ending}`);
      expect(portal.handler.count_loggedin()).to.equal(1);
    });
  }
});
