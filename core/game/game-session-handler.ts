import { ErrorCodes } from "../errors/error-codes.js";
import { PortalError } from "../errors/portal-error.js";
import { chunkBySize, syncChunkBudget } from "../link/chunks.js";
import type { GameToPortal, LinkLimits, PortalToGame, RestartMode, StopMode, SyncEntry } from "../link/link-messages.js";
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

/** A portal-sync being received in parts. */
interface IncomingSync {
  mode: RestartMode;
  portalId: string;
  portalRun: number;
  entries: SyncEntry[];
  fresh: Set<SessionId>;
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
  private incoming: IncomingSync | undefined;
  /** Highest input sequence number taken in, per session (kept across reconnects of this process, so a replay runs nothing twice). */
  private readonly inputSeen = new Map<SessionId, number>();
  /** Highest sequence number the portal knows this game took in, per session. */
  private readonly inputAcked = new Map<SessionId, number>();
  /** The newest announcement generation received (portal-sync, session-connect); a clean sync names it. */
  private generation = 0;
  private limits: LinkLimits = { max_frame_bytes: 16 * 1024 * 1024, max_server_data_bytes: 1024 * 1024 };
  private inputPaused = false;

  constructor(private readonly options: GameSessionHandlerOptions) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger;
    this.link = new GameLinkClient(options, {
      frame: (msgs) => this.onFrame(msgs),
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

  /**
   * Sends the same output to many sessions (a channel line): one `data-out-many` message per frame's
   * worth of session ids instead of a `data-out` each, so the output is encoded once here and
   * prepared once by the portal. False if the link was down (nothing sent).
   */
  msgMany(sessions: Iterable<GameSession | SessionId>, output: OutputSpec | CommandTuple[] | string): boolean {
    const cmds = typeof output === "string" ? normalizeOutput({ text: output }) : Array.isArray(output) ? output : normalizeOutput(output);
    const sessids: SessionId[] = [];
    for (const s of sessions) sessids.push(typeof s === "string" ? s : s.sessid);
    if (cmds.length === 0 || sessids.length === 0) return true;
    const frameBudget = syncChunkBudget(this.limits.max_frame_bytes, 256 * 1024);
    const cmdsSize = JSON.stringify(cmds).length;
    let sent = true;
    // Output too large to share a frame with a useful number of ids goes as one data-out each.
    if (cmdsSize * 2 > frameBudget) {
      for (const id of sessids) sent = this.msg(id, cmds) && sent;
      return sent;
    }
    for (const part of chunkBySize(sessids, (id) => id.length + 3, frameBudget - cmdsSize)) sent = this.link.send({ op: "data-out-many", sessids: part, cmds }) && sent;
    return sent;
  }

  /** Sends the same output to every session (or every logged-in one). */
  announce(output: OutputSpec | string, loggedInOnly = false): void {
    const targets: GameSession[] = [];
    for (const s of this.sessions.values()) if (!loggedInOnly || s.logged_in) targets.push(s);
    this.msgMany(targets, output);
  }

  login(session: GameSession, uid: number | string, uname: string | null = null): void {
    session.uid = uid;
    session.uname = uname;
    session.logged_in = true;
    this.link.send({ op: "login", sessid: session.sessid, uid, uname });
  }

  disconnect(session: GameSession, reason?: string): void {
    this.forget(session.sessid);
    this.link.send(reason === undefined ? { op: "disconnect", sessid: session.sessid } : { op: "disconnect", sessid: session.sessid, reason });
    this.safely("onDisconnect", () => this.options.callbacks?.onDisconnect?.(session));
  }

  disconnectAll(reason?: string): void {
    const all = [...this.sessions.values()];
    this.forgetAll();
    this.link.send(reason === undefined ? { op: "disconnect-all" } : { op: "disconnect-all", reason });
    for (const s of all) this.safely("onDisconnect", () => this.options.callbacks?.onDisconnect?.(s));
  }

  /**
   * Sends one session's state to the portal (flags merged there). False when the link is down, or
   * when its server_data is over the portal's cap (then nothing is sent; PORTAL_ERR_SERVER_DATA_TOO_LARGE is logged).
   */
  syncSession(session: GameSession): boolean {
    const { entry, refusal } = this.syncEntry(session);
    if (refusal) {
      this.logger?.warn({ code: ErrorCodes.SERVER_DATA_TOO_LARGE, sessid: session.sessid }, refusal);
      return false;
    }
    return this.link.send({ op: "session-sync", sessions: [entry], clean: false });
  }

  /**
   * Stops taking in input: from now on the portal keeps what players type (unacknowledged) and gives
   * it to the next game process. Call it when you start shutting down for a reload, finish the work
   * already taken in, then `handBack()`. It lasts until the link reconnects.
   */
  pauseInput(): void {
    this.inputPaused = true;
  }

  /**
   * Hands every session's state to the portal (a clean sync, in parts when large: the portal drops
   * sessions this game no longer has, but never one announced after the newest announcement this
   * game received). Pauses input first. Resolves when the portal confirms it took the whole state,
   * so all output sent before it has reached the portal; rejects when the link is down, when the
   * portal refused part of it, or when a session's server_data is over the portal's cap (that
   * session keeps its previous server_data; the rest is handed back). Call before exiting for a reload.
   */
  async handBack(): Promise<void> {
    this.pauseInput();
    if (!this.link.connected) throw new PortalError(ErrorCodes.LINK_DOWN, "portal link is down; state not handed back");
    const refused: string[] = [];
    const entries = [...this.sessions.values()].map((s) => {
      const { entry, refusal } = this.syncEntry(s);
      if (refusal) refused.push(`${s.sessid}: ${refusal}`);
      return entry;
    });
    const parts = chunkBySize(entries, (e) => JSON.stringify(e).length, syncChunkBudget(this.limits.max_frame_bytes, 256 * 1024));
    if (parts.length === 0) parts.push([]);
    const gen = this.generation;
    for (const part of parts.slice(0, -1)) this.link.send({ op: "session-sync", sessions: part, clean: true, gen, more: true });
    await this.request((id) => ({ op: "session-sync", sessions: parts[parts.length - 1]!, clean: true, gen, id }));
    if (refused.length > 0) {
      throw new PortalError(ErrorCodes.SERVER_DATA_TOO_LARGE, `state handed back except server_data of ${refused.length} session(s): ${refused.slice(0, 5).join("; ")}`);
    }
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

  /** A session's sync entry; server_data over the portal's cap is left out (the portal keeps the previous one). */
  private syncEntry(session: GameSession): { entry: Partial<SyncData> & { sessid: SessionId }; refusal?: string } {
    const entry = session.toSyncData();
    const bytes = Buffer.byteLength(JSON.stringify(entry.server_data));
    if (bytes <= this.limits.max_server_data_bytes) return { entry };
    const { server_data: _left, ...rest } = entry;
    return { entry: rest, refusal: `server_data of ${bytes} bytes is over the portal's limit of ${this.limits.max_server_data_bytes}` };
  }

  private request<T>(build: (id: number) => GameToPortal): Promise<T> {
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

  /**
   * One frame from the portal. Its input is taken in first: new sequence numbers are recorded and
   * acknowledged (written at once), and only then do the callbacks run, in message order. A crash in
   * the middle of a frame therefore loses that frame's remaining input rather than running any
   * input twice; input received while paused is neither taken in nor acknowledged.
   */
  private onFrame(msgs: PortalToGame[]): void {
    // A new portal-sync (a reconnect) ends a pause: the portal replays what was not taken in.
    if (msgs.some((m) => m.op === "portal-sync")) this.inputPaused = false;
    const fresh = this.inputPaused ? undefined : this.takeIn(msgs);
    for (const msg of msgs) this.onMessage(msg, fresh);
  }

  /** Records which tuples of the frame's data-in are new, acknowledges them, and returns them per message. */
  private takeIn(msgs: PortalToGame[]): Map<PortalToGame, CommandTuple[]> {
    const fresh = new Map<PortalToGame, CommandTuple[]>();
    for (const msg of msgs) {
      if (msg.op === "session-connect") {
        this.inputSeen.set(msg.session.sessid, 0);
        this.inputAcked.set(msg.session.sessid, 0);
      } else if (msg.op === "portal-sync-sessions") {
        for (const e of msg.sessions) {
          const acked = Math.max(0, e.input_seq - 1);
          this.inputAcked.set(e.sessid, acked);
          this.inputSeen.set(e.sessid, Math.max(acked, this.inputSeen.get(e.sessid) ?? 0));
        }
      } else if (msg.op === "data-in") {
        const seen = this.inputSeen.get(msg.sessid) ?? msg.seq - 1;
        if (msg.seq > seen + 1) this.logger?.warn({ code: ErrorCodes.LINK_ACK, sessid: msg.sessid, expected: seen + 1, got: msg.seq }, "input sequence gap from the portal");
        const skip = Math.max(0, seen + 1 - msg.seq);
        fresh.set(msg, msg.cmds.slice(skip));
        this.inputSeen.set(msg.sessid, Math.max(seen, msg.seq + msg.cmds.length - 1));
      }
    }
    const seqs: Record<SessionId, number> = {};
    let any = false;
    for (const msg of msgs) {
      if (msg.op !== "data-in") continue;
      const seen = this.inputSeen.get(msg.sessid)!;
      if (seen > (this.inputAcked.get(msg.sessid) ?? 0)) {
        seqs[msg.sessid] = seen;
        this.inputAcked.set(msg.sessid, seen);
        any = true;
      }
    }
    if (any && this.link.send({ op: "ack", seqs })) this.link.flush();
    return fresh;
  }

  private onMessage(msg: PortalToGame, fresh: Map<PortalToGame, CommandTuple[]> | undefined): void {
    const cb = this.options.callbacks ?? {};
    switch (msg.op) {
      case "portal-sync":
        this.synced = false;
        this.generation = Math.max(this.generation, msg.gen);
        this.limits = msg.limits;
        this.incoming = { mode: msg.mode, portalId: msg.portal_id, portalRun: msg.portal_run, entries: [], fresh: new Set() };
        return;
      case "portal-sync-sessions":
        if (!this.incoming) return;
        for (const e of msg.sessions) this.incoming.entries.push(e);
        for (const id of msg.fresh) this.incoming.fresh.add(id);
        return;
      case "portal-sync-end": {
        const sync = this.incoming;
        this.incoming = undefined;
        if (!sync) return;
        this.generation = Math.max(this.generation, msg.gen);
        this.applySync(sync.mode, sync.entries, sync.fresh, sync.portalId, sync.portalRun);
        return;
      }
      case "session-connect": {
        this.generation = Math.max(this.generation, msg.gen);
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
        this.forget(msg.sessid);
        this.safely("onDisconnect", () => cb.onDisconnect?.(session));
        return;
      }
      case "disconnect-all": {
        const all = [...this.sessions.values()];
        this.forgetAll();
        for (const s of all) this.safely("onDisconnect", () => cb.onDisconnect?.(s));
        return;
      }
      case "data-in": {
        const session = this.sessions.get(msg.sessid);
        const cmds = fresh?.get(msg);
        if (!session || !cmds) return;
        for (const [name, args, kwargs] of cmds) {
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
  private applySync(mode: RestartMode, data: SyncEntry[], fresh: Set<SessionId>, portalId: string, portalRun: number): void {
    const cb = this.options.callbacks ?? {};
    const previous = this.sessions;
    const next = new Map<SessionId, GameSession>();
    const restored: GameSession[] = [];
    const added: GameSession[] = [];
    for (const { input_seq: _seq, ...d } of data) {
      const session = new GameSession(d);
      next.set(session.sessid, session);
      (fresh.has(session.sessid) ? added : restored).push(session);
    }
    const gone = [...previous.values()].filter((s) => !next.has(s.sessid));
    for (const id of [...this.inputSeen.keys()]) if (!next.has(id)) this.forget(id);
    this.sessions.clear();
    for (const [k, v] of next) this.sessions.set(k, v);
    this.synced = true;
    for (const s of gone) this.safely("onDisconnect", () => cb.onDisconnect?.(s));
    this.safely("onSync", () => cb.onSync?.({ mode, restored, fresh: added, portalId, portalRun }));
    for (const s of added) this.safely("onConnect", () => cb.onConnect?.(s));
  }

  /** Drops a session's input bookkeeping (it is gone). */
  private forget(sessid: SessionId): void {
    this.sessions.delete(sessid);
    this.inputSeen.delete(sessid);
    this.inputAcked.delete(sessid);
  }

  private forgetAll(): void {
    this.sessions.clear();
    this.inputSeen.clear();
    this.inputAcked.clear();
  }

  private onDown(): void {
    this.synced = false;
    this.incoming = undefined;
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
