import { expect } from "chai";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { Portal } from "../../core/portal.js";
import { ErrorCodes } from "../../core/errors/error-codes.js";
import { GameSessionHandler, NatsGameTransport, type GameSession } from "../../core/game/index.js";
import { resolvePortalConfig } from "../../core/config/portal-config.js";
import { MemoryLogger, RecordingSession } from "../../core/testing/index.js";
import { waitFor } from "../../core/testing/wait-for.js";
import { tempDir } from "../support/link-harness.js";
import { NatsServerProcess } from "../support/nats-server.js";
import { TcpProxy } from "../support/tcp-proxy.js";
import { selfSignedCert } from "../support/fake-irc-server.js";

// The link over a real nats-server (auth on), with portals and the game SDK in this process: several
// portals, one game; what each side sees, faults of the broker, bad input on the subjects.

const USER = "portico";
const PASSWORD = "nats-test-password-1";

interface Started {
  nats: NatsServerProcess;
  portals: Portal[];
  games: GameSessionHandler[];
}

const started: Started = { nats: undefined as unknown as NatsServerProcess, portals: [], games: [] };

function natsConfig(prefix = "portico-test", extra: Record<string, unknown> = {}) {
  return { transport: "nats", heartbeatMs: 200, heartbeatTimeoutMs: 1500, nats: { servers: [started.nats.url], prefix, reconnectWaitMs: 100, resendMs: 100, ...extra } };
}

/** Who a peer is to NATS and how it reaches it: another user, password, port, or link.nats keys (servers, tls). */
interface PeerOpts {
  prefix?: string;
  user?: string;
  password?: string;
  /** Keys of link (over the test's), e.g. heartbeatTimeoutMs. */
  link?: Record<string, unknown>;
  /** Keys of link.nats (over the test's), e.g. servers or tls. */
  nats?: Record<string, unknown>;
  natsPort?: number;
}

function peerLink(opts: PeerOpts) {
  return { ...natsConfig(opts.prefix, { ...(opts.natsPort !== undefined ? { servers: [`nats://127.0.0.1:${opts.natsPort}`] } : {}), ...opts.nats }), ...opts.link };
}

const peerCredentials = (opts: PeerOpts) => ({ user: opts.user ?? USER, password: opts.password ?? PASSWORD });

async function startPortal(portalId: string, opts: PeerOpts = {}): Promise<{ portal: Portal; logger: MemoryLogger }> {
  const logger = new MemoryLogger();
  const portal = new Portal({
    config: { portalId, dataDir: tempDir(), link: peerLink(opts), limits: { maxConnectionRate: 0 } },
    logger, plugins: [], natsCredentials: peerCredentials(opts),
  });
  started.portals.push(portal);
  await portal.start();
  return { portal, logger };
}

interface GameRec {
  game: GameSessionHandler;
  transport: NatsGameTransport;
  logger: MemoryLogger;
  inputs: { sessid: string; line: string }[];
  syncs: { portalId: string; mode: string }[];
  disconnects: string[];
}

function startGame(opts: PeerOpts & { onInput?: (g: GameSessionHandler, s: GameSession, line: string) => void } = {}): GameRec {
  const logger = new MemoryLogger();
  const nats = resolvePortalConfig({ link: peerLink(opts) }).link;
  const transport = new NatsGameTransport({ nats: nats.nats, credentials: peerCredentials(opts), link: nats, logger });
  const rec: GameRec = { game: undefined as unknown as GameSessionHandler, transport, logger, inputs: [], syncs: [], disconnects: [] };
  rec.game = new GameSessionHandler({
    transport, logger,
    callbacks: {
      onInput: (s, _name, args) => {
        rec.inputs.push({ sessid: s.sessid, line: String(args[0]) });
        opts.onInput?.(rec.game, s, String(args[0]));
      },
      onSync: (info) => rec.syncs.push({ portalId: info.portalId, mode: info.mode }),
      onDisconnect: (s) => rec.disconnects.push(s.sessid),
    },
  });
  started.games.push(rec.game);
  rec.game.start();
  return rec;
}

function connectSession(portal: Portal): RecordingSession {
  const s = new RecordingSession();
  portal.handler.connect(s);
  return s;
}

/** Portals alpha and beta, a game linked to both, and a session on each, known to the game. */
async function twoPortalsWithSessions(gameOpts: Parameters<typeof startGame>[0] = {}) {
  const a = await startPortal("alpha");
  const b = await startPortal("beta");
  const rec = startGame(gameOpts);
  await waitFor(linked(rec, "alpha", "beta"), 5000, "game linked to both portals");
  const sa = connectSession(a.portal);
  const sb = connectSession(b.portal);
  await waitFor(() => rec.game.sessions.size === 2, 5000, "both sessions known");
  return { a, b, rec, sa, sb };
}

const linked = (rec: GameRec, ...ids: string[]) => () => ids.every((id) => rec.game.portalViews().some((p) => p.portal_id === id && p.linked));

/** The subject permissions of docs/scaling.md, as written there (the inside of its authorization block), with test passwords. */
function documentedPermissions(): string {
  const doc = readFileSync(new URL("../../../docs/scaling.md", import.meta.url), "utf8");
  const block = /```\nauthorization \{\n( {2}PORTAL_P1 = [\s\S]*?)\n\}\n```/.exec(doc);
  if (!block) throw new Error("docs/scaling.md has no authorization block with PORTAL_P1");
  return block[1]!.replace("<p1's password>", "pw-p1-0123456789").replace("<p2's password>", "pw-p2-0123456789").replace("<the game's password>", "pw-game-0123456789");
}

describe("game link over NATS (real nats-server, auth on, in-process portals and SDK)", function () {
  this.timeout(30_000);

  beforeEach(async () => {
    started.nats = await NatsServerProcess.start({ user: USER, password: PASSWORD });
  });

  afterEach(async () => {
    for (const g of started.games.splice(0)) await g.stop().catch(() => undefined);
    for (const p of started.portals.splice(0)) await p.stop().catch(() => undefined);
    await started.nats.dispose();
  });

  it("links one game with two portals: each portal's sessions, input acknowledged, output and msgMany routed to the right portal", async () => {
    const a = await startPortal("alpha");
    const b = await startPortal("beta");
    const sa = connectSession(a.portal);
    const rec = startGame({ onInput: (g, s, line) => g.msgMany(g.sessions.values(), `${s.sessid} said ${line}`) });
    await waitFor(linked(rec, "alpha", "beta"), 5000, "game linked to both portals");
    const sb = connectSession(b.portal);
    await waitFor(() => rec.game.sessions.size === 2, 5000, "both sessions known");
    expect(rec.game.portalOf(sa.sessid)).to.equal("alpha");
    expect(rec.game.portalOf(sb.sessid)).to.equal("beta");
    expect(rec.game.portalViews().map((p) => [p.portal_id, p.sessions])).to.deep.equal([["alpha", 1], ["beta", 1]]);

    a.portal.handler.data_in(sa, [["text", ["hello from a"], {}]]);
    b.portal.handler.data_in(sb, [["text", ["hello from b"], {}]]);
    await waitFor(() => sa.texts.length === 2 && sb.texts.length === 2, 5000, "both players see both lines");
    expect(sa.texts).to.have.members([`${sa.sessid} said hello from a`, `${sb.sessid} said hello from b`]);
    expect(sb.texts).to.deep.equal(sa.texts);
    await waitFor(() => a.portal.handler.pendingInputs === 0 && b.portal.handler.pendingInputs === 0, 3000, "input acknowledged on both portals");
    expect(await a.portal.clusterStatus()).to.deep.equal([
      { portal_id: "alpha", run: 1, linked: true, sessions: 1, logged_in: 0 },
      { portal_id: "beta", run: 1, linked: true, sessions: 1, logged_in: 0 },
    ]);
  });

  it("a portal cut off: after the heartbeat timeout the game drops only its sessions; the other portal notices nothing", async () => {
    const { a, b, rec, sa, sb } = await twoPortalsWithSessions();
    // Cut beta off NATS without a word (its connection closes; nothing is said on the link).
    const cutAt = Date.now();
    await (b.portal as unknown as { link: { nc: { close(): Promise<void> } } }).link.nc.close();
    await waitFor(() => rec.disconnects.includes(sb.sessid), 5000, "beta's session dropped");
    expect(Date.now() - cutAt).to.be.at.least(1000);
    expect(rec.disconnects).to.deep.equal([sb.sessid]);
    expect(rec.game.portalViews().map((p) => p.portal_id)).to.deep.equal(["alpha"]);
    a.portal.handler.data_in(sa, [["text", ["still here"], {}]]);
    await waitFor(() => rec.inputs.some((x) => x.line === "still here"), 3000, "alpha unaffected");
    expect(rec.syncs.filter((x) => x.portalId === "alpha")).to.have.length(1);
  });

  it("a portal cut off longer than the timeout and back: the game drops its sessions, then gets them back with the input typed meanwhile, once", async () => {
    const proxy = await TcpProxy.start(started.nats.port);
    try {
      const a = await startPortal("alpha", { natsPort: proxy.port });
      const b = await startPortal("beta");
      const rec = startGame();
      await waitFor(linked(rec, "alpha", "beta"), 5000, "game linked to both portals");
      const sa = connectSession(a.portal);
      const sb = connectSession(b.portal);
      await waitFor(() => rec.game.sessions.size === 2, 5000, "both sessions known");
      proxy.cut(3000);
      await waitFor(() => rec.disconnects.includes(sa.sessid), 5000, "alpha's session dropped by the game");
      expect(rec.disconnects).to.deep.equal([sa.sessid]);
      a.portal.handler.data_in(sa, [["text", ["typed while cut off"], {}]]);
      await waitFor(() => rec.game.get(sa.sessid) !== undefined, 10_000, "alpha's session back in the game");
      await waitFor(() => rec.inputs.some((x) => x.line === "typed while cut off"), 5000, "input typed while cut off delivered");
      await new Promise((r) => setTimeout(r, 500));
      expect(rec.inputs.filter((x) => x.line === "typed while cut off")).to.have.length(1);
      expect(rec.syncs.filter((x) => x.portalId === "beta")).to.have.length(1);
      expect(rec.game.get(sb.sessid)).to.not.equal(undefined);
    } finally {
      await proxy.close();
    }
  });

  it("a portal stopping tells the game: its players leave the game at once, not after the heartbeat timeout", async () => {
    const a = await startPortal("alpha", { link: { heartbeatTimeoutMs: 20_000 } });
    await startPortal("beta");
    const rec = startGame({ link: { heartbeatTimeoutMs: 20_000 } });
    await waitFor(linked(rec, "alpha", "beta"), 5000, "game linked to both portals");
    const sa = connectSession(a.portal);
    await waitFor(() => rec.game.sessions.size === 1, 5000, "alpha's session known");
    const t0 = Date.now();
    await a.portal.stop();
    await waitFor(() => rec.disconnects.includes(sa.sessid) && rec.game.portalViews().every((p) => p.portal_id !== "alpha"), 3000, "alpha gone from the game");
    expect(Date.now() - t0).to.be.below(3000);
    expect(linked(rec, "beta")()).to.equal(true);
  });

  it("a portal restarted (new run) while the game still has its old epoch is linked again at once, not after the timeout", async () => {
    const dataDir = tempDir();
    const logger = new MemoryLogger();
    const make = () => new Portal({
      config: { portalId: "alpha", dataDir, link: { ...natsConfig(), heartbeatTimeoutMs: 20_000 }, limits: { maxConnectionRate: 0 } },
      logger, plugins: [], natsCredentials: { user: USER, password: PASSWORD },
    });
    const first = make();
    started.portals.push(first);
    await first.start();
    const rec = startGame();
    await waitFor(linked(rec, "alpha"), 5000, "linked to run 1");
    await (first as unknown as { link: { nc: { close(): Promise<void> } } }).link.nc.close();
    const second = make();
    started.portals.push(second);
    const t0 = Date.now();
    await second.start();
    await waitFor(() => rec.game.portalViews().some((p) => p.portal_id === "alpha" && p.run === 2 && p.linked), 5000, "linked to run 2");
    expect(Date.now() - t0).to.be.below(5000);
  });

  it("a game reload: each portal gets its state back, the next game process restores every portal's sessions (mode reload) and gets the input typed in between once", async () => {
    const { a, b, rec: first, sa, sb } = await twoPortalsWithSessions();
    for (const s of first.game.sessions.values()) {
      s.server_data = { room: `room of ${s.sessid}` };
      first.game.login(s, s.sessid === sa.sessid ? 1 : 2, s.sessid === sa.sessid ? "alice" : "bob");
    }
    first.game.announceStop("reload");
    await first.game.handBack();
    await first.game.stop();
    a.portal.handler.data_in(sa, [["text", ["typed between games"], {}]]);
    b.portal.handler.data_in(sb, [["text", ["also between"], {}]]);
    const second = startGame();
    await waitFor(() => second.syncs.length === 2 && second.inputs.length === 2, 5000, "second game synced with both and got the input");
    expect(second.syncs.map((x) => x.mode)).to.deep.equal(["reload", "reload"]);
    expect(second.game.get(sa.sessid)?.server_data).to.deep.equal({ room: `room of ${sa.sessid}` });
    expect(second.game.get(sb.sessid)?.uname).to.equal("bob");
    expect(second.game.loggedIn()).to.have.length(2);
    expect(second.inputs.map((x) => x.line).sort()).to.deep.equal(["also between", "typed between games"]);
    await new Promise((r) => setTimeout(r, 300));
    expect(second.inputs).to.have.length(2);
  });

  it("a second game process on the prefix replaces the first, which is told and stops linking: no taking the portals back and forth", async () => {
    const a = await startPortal("alpha");
    const b = await startPortal("beta");
    const first = startGame();
    await waitFor(linked(first, "alpha", "beta"), 5000, "first game linked");
    const second = startGame();
    await waitFor(linked(second, "alpha", "beta"), 5000, "second game linked");
    await waitFor(() => first.logger.codes().includes(ErrorCodes.LINK_REPLACED), 3000, "first game told");
    await new Promise((r) => setTimeout(r, 2000));
    expect(second.syncs.map((x) => x.portalId).sort()).to.deep.equal(["alpha", "beta"]);
    expect(first.syncs).to.have.length(2);
    expect(linked(second, "alpha", "beta")()).to.equal(true);
    expect(a.logger.codes().filter((c) => c === ErrorCodes.LINK_REPLACED)).to.have.length(1);
    expect(b.logger.codes().filter((c) => c === ErrorCodes.LINK_REPLACED)).to.have.length(1);
  });

  it("hands back and restores a large state (2 000 sessions x 2 KB of server_data, several MB in many frames) across a game reload", async function () {
    this.timeout(60_000);
    const a = await startPortal("alpha");
    const first = startGame();
    await waitFor(linked(first, "alpha"), 5000, "first game linked");
    const sessions = Array.from({ length: 2000 }, () => connectSession(a.portal));
    await waitFor(() => first.game.sessions.size === 2000, 20_000, "2 000 sessions known");
    for (const s of first.game.sessions.values()) s.server_data = { blob: `${s.sessid}:`.padEnd(2048, "x") };
    first.game.announceStop("reload");
    await first.game.handBack();
    await first.game.stop();
    const second = startGame();
    await waitFor(() => second.syncs.length === 1, 20_000, "second game synced");
    expect(second.syncs[0]!.mode).to.equal("reload");
    expect(second.game.sessions.size).to.equal(2000);
    for (const s of sessions) expect(second.game.get(s.sessid)?.server_data.blob).to.equal(`${s.sessid}:`.padEnd(2048, "x"));
  });

  it("with the subject permissions written in docs/scaling.md: links two portals and the game, and stops a portal's user from speaking as the other portal", async () => {
    await started.nats.dispose();
    started.nats = await NatsServerProcess.start({ authorization: documentedPermissions() });
    const creds = (user: string) => ({ prefix: "mymud", user, password: `pw-${user}-0123456789` });
    await startPortal("p1", creds("p1"));
    const p2 = await startPortal("p2", creds("p2"));
    const rec = startGame(creds("game"));
    await waitFor(linked(rec, "p1", "p2"), 5000, "game linked to p1 and p2");
    const s2 = connectSession(p2.portal);
    await waitFor(() => rec.game.sessions.size === 1, 5000, "p2's session known");
    p2.portal.handler.data_in(s2, [["text", ["real"], {}]]);
    await waitFor(() => rec.inputs.length === 1, 3000, "real input");

    // User p1 tries to speak as portal p2 to the game, and to read what the game sends p2: nats-server refuses both.
    const rogue = await connect({ servers: started.nats.url, user: "p1", pass: "pw-p1-0123456789" });
    try {
      const errors: string[] = [];
      void (async () => {
        for await (const st of rogue.status()) if (st.type === "error") errors.push(String((st as { error?: unknown }).error));
      })();
      rogue.subscribe("mymud.portal.p2", { callback: (err) => void (err && errors.push(String(err))) });
      rogue.publish(`mymud.game.${rec.transport.gameId}.p2`, JSON.stringify({ e: `${rec.transport.gameId}~1.1`, s: 2, m: [{ op: "data-in", sessid: s2.sessid, seq: 2, cmds: [["text", ["spoofed"], {}]] }] }));
      await rogue.flush().catch(() => undefined);
      await waitFor(() => errors.filter((e) => /permissions violation/i.test(e)).length >= 2, 3000, () => `two permission violations (${errors.join("; ")})`);
    } finally {
      await rogue.close();
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(rec.inputs.map((x) => `${x.sessid} ${x.line}`)).to.deep.equal([`${s2.sessid} real`]);
  });

  it("over tls:// with the server's certificate as link.nats.tls.caFile; without it the start fails with PORTAL_ERR_NATS_CONNECT", async () => {
    const dir = tempDir();
    const { key, cert } = selfSignedCert();
    const certFile = join(dir, "cert.pem");
    const keyFile = join(dir, "key.pem");
    writeFileSync(certFile, cert);
    writeFileSync(keyFile, key, { mode: 0o600 });
    await started.nats.dispose();
    started.nats = await NatsServerProcess.start({ user: USER, password: PASSWORD, tls: { certFile, keyFile } });
    const servers = [`tls://127.0.0.1:${started.nats.port}`];
    let err: unknown;
    await startPortal("nocert", { nats: { servers } }).catch((e: unknown) => (err = e));
    expect((err as { code?: string }).code).to.equal(ErrorCodes.NATS_CONNECT);

    const a = await startPortal("alpha", { nats: { servers, tls: { caFile: certFile } } });
    const rec = startGame({ nats: { servers, tls: { caFile: certFile } } });
    const s = connectSession(a.portal);
    await waitFor(() => rec.game.sessions.size === 1, 5000, "session known over TLS");
    a.portal.handler.data_in(s, [["text", ["over tls"], {}]]);
    await waitFor(() => rec.inputs.some((x) => x.line === "over tls"), 3000, "input over TLS");
    expect((a.portal.status().link as { address: { connected_server: string } }).address.connected_server).to.equal(`127.0.0.1:${started.nats.port}`);
  });

  it("with a client certificate (link.nats.tls.certFile/keyFile) for a server that verifies clients; without one the start fails", async () => {
    const dir = tempDir();
    const write = (name: string, pem: { key: string; cert: string }) => {
      writeFileSync(join(dir, `${name}.pem`), pem.cert);
      writeFileSync(join(dir, `${name}.key`), pem.key, { mode: 0o600 });
      return { certFile: join(dir, `${name}.pem`), keyFile: join(dir, `${name}.key`) };
    };
    const server = write("server", selfSignedCert());
    const client = write("client", selfSignedCert());
    await started.nats.dispose();
    started.nats = await NatsServerProcess.start({ user: USER, password: PASSWORD, tls: { ...server, caFile: client.certFile, verify: true } });
    const servers = [`tls://127.0.0.1:${started.nats.port}`];
    let err: unknown;
    await startPortal("nocert", { nats: { servers, tls: { caFile: server.certFile } } }).catch((e: unknown) => (err = e));
    expect((err as { code?: string }).code).to.equal(ErrorCodes.NATS_CONNECT);
    const a = await startPortal("alpha", { nats: { servers, tls: { caFile: server.certFile, ...client } } });
    const rec = startGame({ nats: { servers, tls: { caFile: server.certFile, ...client } } });
    connectSession(a.portal);
    await waitFor(() => rec.game.sessions.size === 1, 5000, "linked with client certificates");
  });

  it("links over token authentication (link.nats.tokenFile / PORTICO_NATS_TOKEN)", async () => {
    await started.nats.dispose();
    started.nats = await NatsServerProcess.start({ token: "a-nats-token-0123456789" });
    const logger = new MemoryLogger();
    const portal = new Portal({ config: { portalId: "alpha", dataDir: tempDir(), link: peerLink({}), limits: { maxConnectionRate: 0 } }, logger, plugins: [], natsCredentials: { token: "a-nats-token-0123456789" } });
    started.portals.push(portal);
    await portal.start();
    const resolved = resolvePortalConfig({ link: peerLink({}) }).link;
    const game = new GameSessionHandler({ transport: new NatsGameTransport({ nats: resolved.nats, credentials: { token: "a-nats-token-0123456789" }, link: resolved }) });
    started.games.push(game);
    game.start();
    connectSession(portal);
    await waitFor(() => game.sessions.size === 1, 5000, "linked with a token");
  });

  it("refuses to start on a NATS server whose max_payload cannot carry link.maxServerDataBytes (PORTAL_ERR_NATS_CONFIG), or one that cannot be reached within connectTimeoutMs (PORTAL_ERR_NATS_CONNECT)", async () => {
    await started.nats.dispose();
    started.nats = await NatsServerProcess.start({ user: USER, password: PASSWORD, maxPayloadBytes: 1024 * 1024 });
    let err: unknown;
    await startPortal("alpha").catch((e: unknown) => (err = e));
    expect((err as { code?: string }).code).to.equal(ErrorCodes.NATS_CONFIG);
    expect((err as Error).message).to.include("max_payload is 1048576");
    // With maxServerDataBytes within a quarter of it, the same server serves.
    await startPortal("beta", { link: { maxServerDataBytes: 256 * 1024 } });

    const closedPort = started.nats.port;
    await started.nats.stop();
    const t0 = Date.now();
    err = undefined;
    await startPortal("gamma", { natsPort: closedPort, nats: { connectTimeoutMs: 500 } }).catch((e: unknown) => (err = e));
    expect((err as { code?: string }).code).to.equal(ErrorCodes.NATS_CONNECT);
    expect(Date.now() - t0).to.be.below(5000);
  });

  it("refuses wrong credentials: the portal's start fails with PORTAL_ERR_NATS_AUTH, so does the game's", async () => {
    let err: unknown;
    await startPortal("alpha", { password: "wrong" }).catch((e: unknown) => (err = e));
    expect((err as { code?: string }).code).to.equal(ErrorCodes.NATS_AUTH);
    const rec = startGame({ password: "wrong" });
    let gameErr: unknown;
    await rec.transport.open().catch((e: unknown) => (gameErr = e));
    expect((gameErr as { code?: string }).code).to.equal(ErrorCodes.NATS_AUTH);
  });

  it("keeps two games on different prefixes apart", async () => {
    const a = await startPortal("alpha", { prefix: "game-one" });
    const b = await startPortal("alpha", { prefix: "game-two" });
    const one = startGame({ prefix: "game-one" });
    const two = startGame({ prefix: "game-two" });
    connectSession(a.portal);
    connectSession(b.portal);
    connectSession(b.portal);
    await waitFor(() => one.game.sessions.size === 1 && two.game.sessions.size === 2, 5000, "each game has its portal's sessions");
    expect([...one.game.sessions.keys()].every((id) => a.portal.handler.get(id))).to.equal(true);
    expect([...two.game.sessions.keys()].every((id) => b.portal.handler.get(id))).to.equal(true);
  });

  it("refuses a second live portal with the same id on one prefix (PORTAL_ERR_NATS_PORTAL_ID)", async () => {
    await startPortal("alpha");
    let err: unknown;
    await startPortal("alpha").catch((e: unknown) => (err = e));
    expect((err as { code?: string }).code).to.equal(ErrorCodes.NATS_PORTAL_ID);
  });

  it("survives nats-server down for 5 s: input typed meanwhile arrives once, output sent meanwhile arrives once, no re-sync", async () => {
    const a = await startPortal("alpha", { link: { heartbeatTimeoutMs: 3000 } });
    const rec = startGame({ onInput: (g, s, line) => g.msg(s, `echo ${line}`) });
    const s = connectSession(a.portal);
    await waitFor(() => rec.game.sessions.size === 1, 5000, "session known");
    a.portal.handler.data_in(s, [["text", ["before"], {}]]);
    await waitFor(() => s.texts.includes("echo before"), 3000, "echo before");
    const down = started.nats.restart(5000);
    await new Promise((r) => setTimeout(r, 1000));
    for (let i = 0; i < 5; i++) a.portal.handler.data_in(s, [["text", [`during ${i}`], {}]]);
    rec.game.msg(s.sessid, "game said during the outage");
    await down;
    await waitFor(() => s.texts.includes("echo during 4"), 10_000, "input typed during the outage answered");
    await new Promise((r) => setTimeout(r, 500));
    expect(rec.inputs.map((x) => x.line)).to.deep.equal(["before", "during 0", "during 1", "during 2", "during 3", "during 4"]);
    expect(s.texts.filter((t) => t === "game said during the outage")).to.have.length(1);
    expect(rec.syncs).to.have.length(1);
    expect(a.portal.handler.pendingInputs).to.equal(0);
  });

  it("replayed envelopes (both ways) change nothing: no output twice, no input twice, acknowledgements not applied again", async () => {
    const a = await startPortal("alpha");
    const rec = startGame({ onInput: (g, s, line) => g.msg(s, `echo ${line}`) });
    const s = connectSession(a.portal);
    await waitFor(() => rec.game.sessions.size === 1, 5000, "session known");
    const nc = await connect({ servers: started.nats.url, user: USER, pass: PASSWORD });
    try {
      const captured: { subject: string; data: Uint8Array }[] = [];
      nc.subscribe("portico-test.portal.alpha", { callback: (_e, m) => void captured.push({ subject: m.subject, data: m.data }) });
      nc.subscribe("portico-test.game.>", { callback: (_e, m) => void captured.push({ subject: m.subject, data: m.data }) });
      await nc.flush();
      for (const line of ["one", "two", "three"]) a.portal.handler.data_in(s, [["text", [line], {}]]);
      await waitFor(() => s.texts.length === 3 && a.portal.handler.pendingInputs === 0, 3000, "answered and acknowledged");
      await new Promise((r) => setTimeout(r, 100));
      expect(captured.length).to.be.above(3);
      for (const m of captured) nc.publish(m.subject, m.data);
      await nc.flush();
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      await nc.close();
    }
    expect(s.texts).to.deep.equal(["echo one", "echo two", "echo three"]);
    expect(rec.inputs.map((x) => x.line)).to.deep.equal(["one", "two", "three"]);
    expect(a.logger.codes()).to.not.include(ErrorCodes.LINK_ACK);
    a.portal.handler.data_in(s, [["text", ["four"], {}]]);
    await waitFor(() => s.texts.includes("echo four"), 3000, "the link goes on");
  });

  it("refuses an acknowledgement of input never sent, or one going backwards, with PORTAL_ERR_LINK_ACK; nothing is lost and the link goes on", async () => {
    const a = await startPortal("alpha");
    const b = await startPortal("beta");
    const rec = startGame({ onInput: (g, s, line) => g.msg(s, `echo ${line}`) });
    await waitFor(linked(rec, "alpha", "beta"), 5000, "game linked to both portals");
    const s = connectSession(a.portal);
    const sb = connectSession(b.portal);
    await waitFor(() => rec.game.sessions.size === 2, 5000, "sessions known");
    for (const line of ["one", "two", "three"]) a.portal.handler.data_in(s, [["text", [line], {}]]);
    await waitFor(() => s.texts.length === 3 && a.portal.handler.pendingInputs === 0, 3000, "acknowledged");
    // Straight through the transport, as a buggy game would: ahead of what was sent, then backwards.
    expect(rec.transport.send("alpha", { op: "ack", seqs: { [s.sessid]: 999 } })).to.equal(true);
    expect(rec.transport.send("alpha", { op: "ack", seqs: { [s.sessid]: 1 } })).to.equal(true);
    await waitFor(() => a.logger.codes().filter((c) => c === ErrorCodes.LINK_ACK).length === 2, 3000, "two refused acks");
    a.portal.handler.data_in(s, [["text", ["four"], {}]]);
    b.portal.handler.data_in(sb, [["text", ["on beta"], {}]]);
    await waitFor(() => s.texts.includes("echo four") && sb.texts.includes("echo on beta"), 3000, "both portals go on");
    await waitFor(() => a.portal.handler.pendingInputs === 0, 3000, "the real acknowledgement applied");
    // Order holds per session; the two portals' lines may reach the game either way round.
    expect(rec.inputs.filter((x) => x.sessid === s.sessid).map((x) => x.line)).to.deep.equal(["one", "two", "three", "four"]);
    expect(rec.inputs.filter((x) => x.sessid === sb.sessid).map((x) => x.line)).to.deep.equal(["on beta"]);
    expect(b.logger.codes()).to.not.include(ErrorCodes.LINK_ACK);
  });

  it("drops bad input on the link's subjects with a coded warning; the link goes on", async () => {
    const a = await startPortal("alpha", { link: { maxFrameBytes: 65_536, maxServerDataBytes: 16_384 } });
    const rec = startGame({ onInput: (g, s, line) => g.msg(s, `echo ${line}`) });
    const s = connectSession(a.portal);
    await waitFor(() => rec.game.sessions.size === 1, 5000, "session known");
    const nc = await connect({ servers: started.nats.url, user: USER, pass: PASSWORD });
    try {
      nc.publish("portico-test.portal.alpha", "not json");
      nc.publish("portico-test.portal.alpha", JSON.stringify({ e: "x", s: 1, m: [] }));
      nc.publish("portico-test.portal.alpha", JSON.stringify({ e: "x~1.1", s: 1, m: ["y".repeat(100_000)] }));
      nc.publish(`portico-test.game.${rec.transport.gameId}.alpha`, JSON.stringify({ e: "nope" }));
      // A rogue "portal" on the game's subject claims alpha's session (an epoch the game does not have: refused).
      nc.publish(`portico-test.game.${rec.transport.gameId}.rogue`, JSON.stringify({ e: `${rec.transport.gameId}~1.1`, s: 1, m: [{ op: "data-in", sessid: s.sessid, seq: 99, cmds: [["text", ["spoofed"], {}]] }] }));
      await nc.flush();
    } finally {
      await nc.close();
    }
    a.portal.handler.data_in(s, [["text", ["after"], {}]]);
    await waitFor(() => s.texts.includes("echo after"), 3000, "link still works");
    expect(rec.inputs.map((x) => x.line)).to.deep.equal(["after"]);
    expect(a.logger.codes()).to.include.members([ErrorCodes.LINK_MESSAGE, ErrorCodes.LINK_FRAME]);
    expect(rec.logger.codes()).to.include.members([ErrorCodes.LINK_MESSAGE, ErrorCodes.LINK_FOREIGN_SESSION]);
  });
});
