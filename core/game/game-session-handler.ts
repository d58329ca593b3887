import { ErrorCodes } from "../errors/error-codes.js";
import { PortalError } from "../errors/portal-error.js";
import type { PortalToGame, RestartMode, StopMode } from "../link/link-messages.js";
import type { Logger } from "../logging/logger.js";
import { normalizeOutput, type CommandTuple, type Kwargs, type OutputSpec } from "../messages/command-tuple.js";
import type { LaunchResult } from "../plugins/launcher.js";
import type { SessionId, SyncData } from "../sessions/session-data.js";
import { systemClock, type Clock, type TimerHandle } from "../time/clock.js";
import { GameLinkClient, type GameLinkOptions } from "./game-link-client.js";
import { GameSession } from "./game-session.js";

/** What a game reacts to. Every callback is optional; exceptions in them are logged, never fatal. */
export interface GameCallbacks {
  /** A new player connection (also one that connected while the game was away). Show the connection screen. */
  onConnect?(session: GameSession): void;
  /** A session ended (the player left, or the portal no longer has it). */
  onDisconnect?(session: GameSession): void;
  /** One input from a session: `text` for typed lines, anything else for out-of-band messages. */
  onInput?(session: GameSession, name: string, args: unknown[], kwargs: Kwargs): void;
  /** The portal handed over its sessions (after every (re)connect). `restored` kept their state. */
  onSync?(info: { mode: RestartMode; restored: GameSession[]; fresh: GameSession[]; portalId: string; portalRun: number }): void;
  /** The portal refreshed a session's protocol flags (negotiation finished, window resized). */
  onSessionUpdate?(session: GameSession): void;
  /** The portal asks the game to stop (reload, reset or shutdown); hand back state and exit. */
  onStopRequested?(mode: StopMode): void;
  /** The link dropped; the SDK reconnects by itself. */
  onLinkDown?(): void;
}

export interface GameSessionHandlerOptions extends GameLinkOptions {
  callbacks?: GameCallbacks;
  /** How long connectBot/status wait for the portal's reply. */
  requestTimeoutMs?: number;
}

interface Waiting {
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: TimerHandle;
}

/**
 * The game-side SDK: mirrors the portal's sessions, receives their input, and sends output,
 * logins, disconnects and bot requests back. Before a reload call handBack(); after the
 * reconnect every session returns with its state (including `server_data`).
 */
export class GameSessionHandler {
  readonly sessions = new Map<SessionId, GameSession>();
  private readonly link: GameLinkClient;
  private readonly waiting = new Map<number, Waiting>();
  private readonly clock: Clock;
  private readonly logger: Logger | undefined;
  private nextId = 1;
  private synced = false;

  constructor(private readonly options: GameSessionHandlerOptions) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger;
    this.link = new GameLinkClient(options, {
      message: (msg) => this.onMessage(msg),
      down: () => this.onDown(),
    });
  }

  /** True between a portal-sync and the next link drop. */
  get ready(): boolean {
    return this.synced && this.link.connected;
  }

  start(): void {
    this.link.start();
  }

  async stop(): Promise<void> {
    await this.link.stop();
    this.failWaiting("the game stopped");
  }

  get(sessid: SessionId): GameSession | undefined {
    return this.sessions.get(sessid);
  }

  loggedIn(): GameSession[] {
    return [...this.sessions.values()].filter((s) => s.logged_in);
  }

  /** Sends output: keyword form (`{ text: "hi", prompt: "> " }`) or ready tuples. */
  msg(session: GameSession | SessionId, output: OutputSpec | CommandTuple[] | string): boolean {
    const sessid = typeof session === "string" ? session : session.sessid;
    const cmds = typeof output === "string" ? normalizeOutput({ text: output }) : Array.isArray(output) ? output : normalizeOutput(output);
    if (cmds.length === 0) return true;
    return this.link.send({ op: "data-out", sessid, cmds });
  }

  /** Sends the same output to every session (or every logged-in one). */
  announce(output: OutputSpec | string, loggedInOnly = false): void {
    for (const s of this.sessions.values()) if (!loggedInOnly || s.logged_in) this.msg(s, output);
  }

  login(session: GameSession, uid: number | string, uname: string | null = null): void {
    session.uid = uid;
    session.uname = uname;
    session.logged_in = true;
    this.link.send({ op: "login", sessid: session.sessid, uid, uname });
  }

  disconnect(session: GameSession, reason?: string): void {
    this.sessions.delete(session.sessid);
    this.link.send(reason === undefined ? { op: "disconnect", sessid: session.sessid } : { op: "disconnect", sessid: session.sessid, reason });
    this.safely("onDisconnect", () => this.options.callbacks?.onDisconnect?.(session));
  }

  disconnectAll(reason?: string): void {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    this.link.send(reason === undefined ? { op: "disconnect-all" } : { op: "disconnect-all", reason });
    for (const s of all) this.safely("onDisconnect", () => this.options.callbacks?.onDisconnect?.(s));
  }

  /** Sends one session's state to the portal (flags merged there). */
  syncSession(session: GameSession): void {
    this.link.send({ op: "session-sync", sessions: [session.toSyncData()], clean: false });
  }

  /**
   * Hands every session's state to the portal (clean sync: the portal drops sessions the game
   * no longer has). Resolves once written to the socket. Call before exiting for a reload.
   */
  handBack(): Promise<void> {
    const sent = this.link.send({ op: "session-sync", sessions: [...this.sessions.values()].map((s) => s.toSyncData()), clean: true });
    if (!sent) return Promise.reject(new PortalError(ErrorCodes.LINK_DOWN, "portal link is down; state not handed back"));
    this.link.flush();
    return Promise.resolve();
  }

  /** Asks the portal to start a protocol plugin by dotted path (an IRC bot, an RSS feed, ...). */
  connectBot(path: string, config: Record<string, unknown> = {}): Promise<LaunchResult> {
    return this.request<LaunchResult>((id) => ({ op: "server-connect", id, path, config }));
  }

  status(): Promise<Record<string, unknown>> {
    return this.request((id) => ({ op: "status", id }));
  }

  /** Tells the portal this game is about to stop for a reload (so the next sync says "reload"). */
  announceStop(mode: StopMode): void {
    if (mode === "shutdown") this.link.send({ op: "shutdown", scope: "game" });
    else this.link.send({ op: "reload", mode });
  }

  /** Asks the portal itself to shut down. */
  shutdownPortal(): void {
    this.link.send({ op: "shutdown", scope: "portal" });
  }

  private request<T>(build: (id: number) => Parameters<GameLinkClient["send"]>[0]): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      if (!this.link.send(build(id))) {
        reject(new PortalError(ErrorCodes.LINK_DOWN, "portal link is down"));
        return;
      }
      const timer = this.clock.setTimeout(() => {
        this.waiting.delete(id);
        reject(new PortalError(ErrorCodes.LINK_TIMEOUT, `no reply from the portal within ${this.options.requestTimeoutMs ?? 30_000} ms`));
      }, this.options.requestTimeoutMs ?? 30_000);
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
    });
  }

  private onMessage(msg: PortalToGame): void {
    const cb = this.options.callbacks ?? {};
    switch (msg.op) {
      case "portal-sync":
        this.applySync(msg.mode, msg.sessions, new Set(msg.fresh), msg.portal_id, msg.portal_run);
        return;
      case "session-connect": {
        const session = new GameSession(msg.session);
        this.sessions.set(session.sessid, session);
        this.safely("onConnect", () => cb.onConnect?.(session));
        return;
      }
      case "session-connect-sync": {
        const session = this.sessions.get(msg.session.sessid);
        if (!session) return;
        session.load(msg.session);
        this.safely("onSessionUpdate", () => cb.onSessionUpdate?.(session));
        return;
      }
      case "session-disconnect": {
        const session = this.sessions.get(msg.sessid);
        if (!session) return;
        this.sessions.delete(msg.sessid);
        this.safely("onDisconnect", () => cb.onDisconnect?.(session));
        return;
      }
      case "disconnect-all": {
        const all = [...this.sessions.values()];
        this.sessions.clear();
        for (const s of all) this.safely("onDisconnect", () => cb.onDisconnect?.(s));
        return;
      }
      case "data-in": {
        const session = this.sessions.get(msg.sessid);
        if (!session) return;
        for (const [name, args, kwargs] of msg.cmds) {
          if (name === "text") session.cmd_last = this.clock.now() / 1000;
          this.safely("onInput", () => cb.onInput?.(session, name, args, kwargs));
        }
        return;
      }
      case "server-stop":
        this.safely("onStopRequested", () => cb.onStopRequested?.(msg.mode));
        return;
      case "reply": {
        const w = this.waiting.get(msg.id);
        if (!w) return;
        this.waiting.delete(msg.id);
        this.clock.clearTimeout(w.timer);
        if (msg.ok) w.resolve(msg.result);
        else w.reject(new PortalError(msg.error.code as never, msg.error.message));
        return;
      }
      case "error":
      case "ping":
      case "pong":
        return;
    }
  }

  /** Replaces the session table with the portal's: stale entries go (no cross-wired ids after a portal restart). */
  private applySync(mode: RestartMode, data: SyncData[], fresh: Set<SessionId>, portalId: string, portalRun: number): void {
    const cb = this.options.callbacks ?? {};
    const previous = this.sessions;
    const next = new Map<SessionId, GameSession>();
    const restored: GameSession[] = [];
    const added: GameSession[] = [];
    for (const d of data) {
      const session = new GameSession(d);
      next.set(session.sessid, session);
      (fresh.has(session.sessid) ? added : restored).push(session);
    }
    const gone = [...previous.values()].filter((s) => !next.has(s.sessid));
    this.sessions.clear();
    for (const [k, v] of next) this.sessions.set(k, v);
    this.synced = true;
    for (const s of gone) this.safely("onDisconnect", () => cb.onDisconnect?.(s));
    this.safely("onSync", () => cb.onSync?.({ mode, restored, fresh: added, portalId, portalRun }));
    for (const s of added) this.safely("onConnect", () => cb.onConnect?.(s));
  }

  private onDown(): void {
    this.synced = false;
    this.failWaiting("portal link went down");
    this.safely("onLinkDown", () => this.options.callbacks?.onLinkDown?.());
  }

  private failWaiting(why: string): void {
    for (const [id, w] of this.waiting) {
      this.clock.clearTimeout(w.timer);
      w.reject(new PortalError(ErrorCodes.LINK_DOWN, why));
      this.waiting.delete(id);
    }
  }

  private safely(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.logger?.error({ code: ErrorCodes.SESSION_CALLBACK, callback: what, err }, `${what} callback threw`);
    }
  }
}
