/**
 * The harness of the game-link integration tests (link, link-lossless and link-preauth): an
 * in-process Portal on a loopback link port, the real SDK (GameSessionHandler) recording what it
 * sees, bare TCP peers that speak the framing by hand, and in-process RecordingSessions. Whatever
 * it makes is listed in `tracked`; every test file tears it down after each test with
 * closeTrackedAfterEach().
 */
import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as netConnect, type Server, type Socket } from "node:net";
import { Portal } from "../../core/portal.js";
import { PortalError } from "../../core/errors/portal-error.js";
import { FrameDecoder, encodeFrame } from "../../core/link/frame-codec.js";
import { LINK_VERSION, type RestartMode } from "../../core/link/link-messages.js";
import { GameSessionHandler, readLinkSecret, type GameCallbacks, type GameLinkClient, type GameSession } from "../../core/game/index.js";
import type { GameSessionHandlerOptions } from "../../core/game/game-session-handler.js";
import { MemoryLogger, RecordingSession } from "../../core/testing/index.js";
import { waitFor } from "../../core/testing/wait-for.js";
import { TcpProxy, type TcpProxyOptions } from "./tcp-proxy.js";

/** A link message as JSON. */
export type Json = Record<string, any>;

/** Everything the harness (or a test) made, closed by closeTracked() in this order: add what a test makes itself. */
export const tracked = {
  games: [] as GameSessionHandler[],
  clients: [] as GameLinkClient[],
  sockets: [] as Socket[],
  proxies: [] as TcpProxy[],
  servers: [] as Server[],
  portals: [] as Portal[],
  dirs: [] as string[],
};

/** Stops and removes everything in `tracked`: games first, the portals and their data dirs last. */
export async function closeTracked(): Promise<void> {
  for (const g of tracked.games.splice(0)) await g.stop();
  for (const c of tracked.clients.splice(0)) await c.stop();
  for (const s of tracked.sockets.splice(0)) s.destroy();
  for (const p of tracked.proxies.splice(0)) await p.close();
  for (const srv of tracked.servers.splice(0)) await new Promise<void>((resolve) => srv.close(() => resolve()));
  for (const p of tracked.portals.splice(0)) await p.stop();
  for (const d of tracked.dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Registers, where it is called (at the top level of a file or in a describe), an afterEach that runs closeTracked() within `timeoutMs`. */
export function closeTrackedAfterEach(timeoutMs: number): void {
  afterEach(async function () {
    this.timeout(timeoutMs);
    await closeTracked();
  });
}

/** A fresh temp dir, removed at teardown. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "portico-link-"));
  tracked.dirs.push(dir);
  return dir;
}

/** A started portal with its link on 127.0.0.1, and what a game needs to reach it. */
export interface Harness {
  portal: Portal;
  logger: MemoryLogger;
  dataDir: string;
  port: number;
  secret: string;
}

export interface PortalOpts {
  /** The portal's data dir (default: a fresh temp dir). */
  dataDir?: string;
  /** Merged over `{ port: 0 }`. */
  link?: Record<string, unknown>;
  /** Merged over `{ maxConnectionRate: 0 }`. */
  limits?: Record<string, unknown>;
  plugins?: unknown[];
}

/** Starts a Portal with its link on a free loopback port; sessions are announced at once (no connection throttle). */
export async function startPortal(opts: PortalOpts = {}): Promise<Harness> {
  const dataDir = opts.dataDir ?? tempDir();
  const logger = new MemoryLogger();
  const portal = new Portal({
    config: {
      dataDir,
      link: { port: 0, ...opts.link },
      // Connections are announced at once: throttling is tested elsewhere.
      limits: { maxConnectionRate: 0, ...opts.limits },
    },
    logger,
    plugins: opts.plugins ?? [],
  });
  tracked.portals.push(portal);
  await portal.start();
  const address = portal.linkAddress;
  if (!address) throw new Error("portal has no link address");
  expect(address.host).to.equal("127.0.0.1");
  return { portal, logger, dataDir, port: address.port, secret: readLinkSecret(dataDir) };
}

/** Whether the portal has an authenticated game on its link. */
export function linkConnected(h: Harness): boolean {
  return (h.portal.status().link as { connected: boolean }).connected;
}

/** A RecordingSession connected to the portal (it has its session id on return). */
export function connectSession(h: Harness): RecordingSession {
  const s = new RecordingSession();
  h.portal.handler.connect(s);
  expect(s.sessid).to.be.a("string").and.not.equal("");
  return s;
}

/** What a game SDK saw, in order. */
export interface GameRecord {
  /** `sync:<mode>`, `connect:<sessid>`, `disconnect:<sessid>`, `input:<sessid>:<first 40 chars or name>`. */
  order: string[];
  syncs: { mode: RestartMode; restored: GameSession[]; fresh: GameSession[]; portalId: string }[];
  connects: GameSession[];
  disconnects: GameSession[];
  inputs: { sessid: string; name: string; args: unknown[] }[];
  linkDowns: number;
}

/**
 * Starts the real SDK against `target` (a portal, or a proxy in front of one) with `extra` over
 * the defaults (info name "test-game", requestTimeoutMs 5000); it records into `rec` and then
 * calls `callbacks`. Stopped at teardown.
 */
export function startGame(target: Pick<Harness, "port" | "secret">, extra: Partial<GameSessionHandlerOptions> = {}, callbacks: GameCallbacks = {}): { game: GameSessionHandler; rec: GameRecord; logger: MemoryLogger } {
  const rec: GameRecord = { order: [], syncs: [], connects: [], disconnects: [], inputs: [], linkDowns: 0 };
  const logger = new MemoryLogger();
  const game = new GameSessionHandler({
    host: "127.0.0.1",
    port: target.port,
    secret: target.secret,
    logger,
    info: { name: "test-game" },
    requestTimeoutMs: 5000,
    ...extra,
    callbacks: {
      onSync: (info) => {
        rec.syncs.push(info);
        rec.order.push(`sync:${info.mode}`);
        callbacks.onSync?.(info);
      },
      onConnect: (s) => {
        rec.connects.push(s);
        rec.order.push(`connect:${s.sessid}`);
        callbacks.onConnect?.(s);
      },
      onDisconnect: (s) => {
        rec.disconnects.push(s);
        rec.order.push(`disconnect:${s.sessid}`);
        callbacks.onDisconnect?.(s);
      },
      onInput: (s, name, args, kwargs) => {
        rec.inputs.push({ sessid: s.sessid, name, args });
        rec.order.push(`input:${s.sessid}:${name === "text" ? String(args[0]).slice(0, 40) : name}`);
        callbacks.onInput?.(s, name, args, kwargs);
      },
      onLinkDown: (info) => {
        rec.linkDowns += 1;
        callbacks.onLinkDown?.(info);
      },
      onStopRequested: callbacks.onStopRequested,
      onSessionUpdate: callbacks.onSessionUpdate,
    },
  });
  tracked.games.push(game);
  game.start();
  return { game, rec, logger };
}

/** A TcpProxy to `targetPort` on 127.0.0.1, closed at teardown. */
export async function startProxy(targetPort: number, options: TcpProxyOptions = {}): Promise<TcpProxy> {
  const proxy = await TcpProxy.start(targetPort, options);
  tracked.proxies.push(proxy);
  return proxy;
}

/** Decodes a framed byte stream into frames (payload strings) and messages. */
export class FrameSink {
  readonly frames: string[] = [];
  readonly messages: Json[] = [];
  private readonly decoder = new FrameDecoder(64 * 1024 * 1024);

  /** Takes the next bytes; returns the messages of the frames they complete. Throws on a bad frame length or a frame that is not JSON. */
  push(chunk: Buffer): Json[] {
    const out: Json[] = [];
    for (const f of this.decoder.push(chunk)) {
      this.frames.push(f);
      const parsed = JSON.parse(f) as unknown;
      for (const m of Array.isArray(parsed) ? parsed : [parsed]) {
        this.messages.push(m as Json);
        out.push(m as Json);
      }
    }
    return out;
  }
}

/** The hello a game sends first. */
export function helloMessage(secret: string, info: Json = { name: "raw-peer" }, version: number = LINK_VERSION): Json {
  return { op: "hello", version, secret, pid: 4242, info };
}

export interface RawPeerOptions {
  /** Answer every ping with a pong (default false; settable later as `answerPings`). */
  answerPings?: boolean;
  /** The default timeout of waitOp() and waitClosed(), ms (default 2000). */
  waitMs?: number;
}

/** A bare TCP peer on the link port that speaks the framing by hand. */
export class RawPeer {
  readonly socket: Socket;
  /** Every chunk received, framed or not. */
  readonly raw: Buffer[] = [];
  readonly sink = new FrameSink();
  closed = false;
  /** When the socket closed (Date.now()), 0 while open. */
  closedAt = 0;
  answerPings: boolean;
  private readonly waitMs: number;
  private readonly opened: Promise<void>;
  private nextId = 1000;

  constructor(port: number, options: RawPeerOptions = {}) {
    this.answerPings = options.answerPings ?? false;
    this.waitMs = options.waitMs ?? 2000;
    this.socket = netConnect({ host: "127.0.0.1", port });
    tracked.sockets.push(this.socket);
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
      this.raw.push(chunk);
      let messages: Json[];
      try {
        messages = this.sink.push(chunk);
      } catch (err) {
        if (err instanceof PortalError) return; // not framed (e.g. the HTTP reply): kept in `raw`
        throw err;
      }
      for (const m of messages) if (this.answerPings && m.op === "ping") this.send({ op: "pong" });
    });
  }

  /** The messages received, in order (a frame's array flattened). */
  get messages(): Json[] {
    return this.sink.messages;
  }

  /** The frames received, as payload strings. */
  get frames(): string[] {
    return this.sink.frames;
  }

  /** Resolves once connected. */
  ready(): Promise<void> {
    return this.opened;
  }

  /** Everything received, as UTF-8. */
  get text(): string {
    return Buffer.concat(this.raw).toString("utf8");
  }

  /** Sends the messages as one frame (one JSON array). */
  send(...msgs: unknown[]): void {
    this.socket.write(encodeFrame(JSON.stringify(msgs)));
  }

  sendRaw(bytes: Buffer | string): void {
    this.socket.write(bytes);
  }

  hello(secret: string, version = LINK_VERSION, info?: Json): void {
    this.send(helloMessage(secret, info, version));
  }

  ofOp(op: string): Json[] {
    return this.messages.filter((m) => m.op === op);
  }

  /** The first message `op` that matches, once it has arrived. */
  async waitOp(op: string, match: (m: Json) => boolean = () => true, timeoutMs = this.waitMs): Promise<Json> {
    return waitFor(() => this.messages.find((m) => m.op === op && match(m)), timeoutMs, `message ${op} on raw peer`);
  }

  waitClosed(timeoutMs = this.waitMs): Promise<boolean> {
    return waitFor(() => this.closed, timeoutMs, "raw peer closed");
  }

  /** Sends `msgs` and a status request in one frame and waits for its reply: everything before it was handled. Returns the errors received meanwhile. */
  async roundTrip(...msgs: unknown[]): Promise<Json[]> {
    const before = this.ofOp("error").length;
    const id = this.nextId++;
    this.send(...msgs, { op: "status", id });
    await this.waitOp("reply", (m) => m.id === id);
    return this.ofOp("error").slice(before);
  }

  /** The input lines this peer received for one session, as [seq, line] in arrival order. */
  inputsOf(sessid: string): [number, string][] {
    const out: [number, string][] = [];
    for (const m of this.ofOp("data-in")) {
      if (m.sessid !== sessid) continue;
      (m.cmds as [string, unknown[]][]).forEach((c, i) => out.push([m.seq + i, String(c[1][0])]));
    }
    return out;
  }
}

export interface AuthenticatedPeerOptions extends RawPeerOptions {
  /** The message that counts as authenticated (default "portal-sync", the first of the sync). */
  until?: "portal-sync" | "portal-sync-end";
  /** The hello's `info` (default { name: "raw-peer" }). */
  info?: Json;
}

/** A RawPeer that has said hello with the right secret and received `until`. */
export async function authenticatedPeer(h: Pick<Harness, "port" | "secret">, options: AuthenticatedPeerOptions = {}): Promise<RawPeer> {
  const peer = new RawPeer(h.port, options);
  await peer.ready();
  peer.hello(h.secret, LINK_VERSION, options.info);
  await peer.waitOp(options.until ?? "portal-sync");
  return peer;
}
