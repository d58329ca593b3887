import { ErrorCodes } from "../errors/error-codes.js";
import { PortalError } from "../errors/portal-error.js";
import { chunkBySize, syncChunkBudget } from "../link/chunks.js";
import type { GameToPortal, LinkLimits, PortalToGame, RestartMode, StopMode, SyncEntry } from "../link/link-messages.js";
import type { Logger } from "../logging/logger.js";
import { normalizeOutput, type CommandTuple, type Kwargs, type OutputSpec } from "../messages/command-tuple.js";
import type { LaunchResult } from "../plugins/launcher.js";
import type { SessionId, SyncData } from "../sessions/session-data.js";
import { systemClock, type Clock, type TimerHandle } from "../time/clock.js";
import type { GameLinkOptions } from "./game-link-client.js";
import { GameSession } from "./game-session.js";
import { TcpGameTransport, type GameTransport } from "./game-transport.js";
import { LogLimiter } from "../admin/log-limiter.js";

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
  /** The link to a portal dropped (`portalId`: the one it was, when known); the SDK reconnects by itself. */
  onLinkDown?(info: { portalId: string | undefined }): void;
}

/** One portal as the game sees it (`portals()`, the cluster status). */
export interface PortalView {
  portal_id: string;
  run: number;
  linked: boolean;
  sessions: number;
  logged_in: number;
}

export interface GameSessionHandlerOptions extends Omit<GameLinkOptions, "secret"> {
  /** The TCP link's secret (data/link.secret); not used with another `transport`. */
  secret?: string;
  /** How to reach the portals; default the TCP link to one portal (host, port, secret). */
  transport?: GameTransport;
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

/** What the SDK knows of one portal (keyed by the transport's key for it). */
interface PortalState {
  key: string;
  /** The portal's id, from its portal-sync. */
  portalId: string | undefined;
  run: number;
  limits: LinkLimits;
  /** The newest announcement generation received from this portal (portal-sync, session-connect); a clean sync names it. */
  generation: number;
  synced: boolean;
  incoming: IncomingSync | undefined;
  /** This portal's sessions. */
  sessions: Set<SessionId>;
}

interface Waiting {
  portal: string;
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: TimerHandle;
}

const DEFAULT_LIMITS: LinkLimits = { max_frame_bytes: 16 * 1024 * 1024, max_server_data_bytes: 1024 * 1024 };

/**
 * The game-side SDK: mirrors the sessions of every portal it is linked to (one over TCP, any number
 * over NATS), receives their input, and sends output, logins, disconnects and bot requests back to
 * the portal holding each session. Before a reload call handBack(); after the reconnect every
 * session returns with its state (including `server_data`).
 */
export class GameSessionHandler {
  readonly sessions = new Map<SessionId, GameSession>();
  private readonly transport: GameTransport;
  private readonly portals = new Map<string, PortalState>();
  /** Which portal (transport key) holds each session. */
  private readonly sessionPortal = new Map<SessionId, string>();
  private readonly waiting = new Map<number, Waiting>();
  private readonly clock: Clock;
  private readonly logger: Logger | undefined;
  private readonly foreign: LogLimiter;
  private nextId = 1;
  /** Highest input sequence number taken in, per session (kept across reconnects of this process, so a replay runs nothing twice). */
  private readonly inputSeen = new Map<SessionId, number>();
  /** Highest sequence number the portal knows this game took in, per session. */
  private readonly inputAcked = new Map<SessionId, number>();
  private inputPaused = false;
  /** Frames and link drops held while the portals hand over their sessions after start (see settle()). */
  private settling: { portal: string; msgs?: PortalToGame[] }[] | undefined;
  private settleTimer: TimerHandle | undefined;

  constructor(private readonly options: GameSessionHandlerOptions) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger;
    this.foreign = new LogLimiter(10_000, (n) => this.logger?.warn({ code: ErrorCodes.LINK_FOREIGN_SESSION, suppressed: n }, `${n} more messages naming another portal's sessions dropped`));
    if (!options.transport && options.secret === undefined) throw new PortalError(ErrorCodes.LINK_AUTH, "the TCP link needs the portal's link secret (options.secret)");
    this.transport = options.transport ?? new TcpGameTransport({ ...options, secret: options.secret! });
  }

  /** True while at least one portal is linked and synced. */
  get ready(): boolean {
    for (const p of this.portals.values()) if (p.synced && this.transport.linked(p.key)) return true;
    return false;
  }

  start(): void {
    const settleMs = this.transport.settleMs ?? 0;
    if (settleMs > 0) {
      this.settling = [];
      this.settleTimer = this.clock.setTimeout(() => this.settle(), settleMs);
    }
    this.transport.start({
      frame: (portal, msgs) => (this.settling ? this.settling.push({ portal, msgs }) : this.onFrame(portal, msgs)),
      down: (portal) => (this.settling ? this.settling.push({ portal }) : this.onDown(portal)),
    });
  }

  /**
   * The settling time after start is over: every portal's hand-over (its messages up to its first
   * portal-sync-end) is applied first, then everything else in the order it came. So input replayed
   * by the first portal to answer never runs before the sessions of the others are known (a `say`
   * typed during a restart reaches the players of every portal).
   */
  private settle(): void {
    const queued = this.settling ?? [];
    this.settling = undefined;
    const rest: typeof queued = [];
    const synced = new Set<string>();
    for (const item of queued) {
      if (!item.msgs || synced.has(item.portal)) {
        rest.push(item);
        continue;
      }
      const end = item.msgs.findIndex((m) => m.op === "portal-sync-end");
      if (end < 0) {
        this.onFrame(item.portal, item.msgs);
        continue;
      }
      synced.add(item.portal);
      this.onFrame(item.portal, item.msgs.slice(0, end + 1));
      if (end + 1 < item.msgs.length) rest.push({ portal: item.portal, msgs: item.msgs.slice(end + 1) });
    }
    for (const item of rest) {
      if (item.msgs) this.onFrame(item.portal, item.msgs);
      else this.onDown(item.portal);
    }
  }

  async stop(): Promise<void> {
    this.clock.clearTimeout(this.settleTimer);
    this.settling = undefined;
    await this.transport.stop();
    this.foreign.flush();
    this.failWaiting(undefined, "the game stopped");
  }

  get(sessid: SessionId): GameSession | undefined {
    return this.sessions.get(sessid);
  }

  loggedIn(): GameSession[] {
    return [...this.sessions.values()].filter((s) => s.logged_in);
  }

  /** The portal id holding a session (undefined when unknown). */
  portalOf(session: GameSession | SessionId): string | undefined {
    const key = this.sessionPortal.get(typeof session === "string" ? session : session.sessid);
    if (key === undefined) return undefined;
    return this.portals.get(key)?.portalId ?? (this.transport.keysArePortalIds ? key : undefined);
  }

  /** Every portal this game is linked to (or was, until its link is declared down), with its session counts. */
  portalViews(): PortalView[] {
    const out: PortalView[] = [];
    for (const p of this.portals.values()) {
      let loggedIn = 0;
      for (const id of p.sessions) if (this.sessions.get(id)?.logged_in) loggedIn++;
      out.push({ portal_id: p.portalId ?? p.key, run: p.run, linked: p.synced && this.transport.linked(p.key), sessions: p.sessions.size, logged_in: loggedIn });
    }
    return out.sort((a, b) => a.portal_id.localeCompare(b.portal_id));
  }

  /** Sends output: keyword form (`{ text: "hi", prompt: "> " }`) or ready tuples. */
  msg(session: GameSession | SessionId, output: OutputSpec | CommandTuple[] | string): boolean {
    const sessid = typeof session === "string" ? session : session.sessid;
    const cmds = toTuples(output);
    if (cmds.length === 0) return true;
    return this.sendTo(sessid, { op: "data-out", sessid, cmds });
  }

  /**
   * Sends the same output to many sessions (a channel line): per portal, one `data-out-many` message
   * per frame's worth of session ids instead of a `data-out` each, so the output is encoded once here
   * and prepared once by each portal. False if a portal's link was down (nothing sent to it).
   */
  msgMany(sessions: Iterable<GameSession | SessionId>, output: OutputSpec | CommandTuple[] | string): boolean {
    const cmds = toTuples(output);
    const byPortal = new Map<string, SessionId[]>();
    for (const s of sessions) {
      const sessid = typeof s === "string" ? s : s.sessid;
      const key = this.keyFor(sessid);
      if (key === undefined) continue;
      let list = byPortal.get(key);
      if (!list) byPortal.set(key, (list = []));
      list.push(sessid);
    }
    if (cmds.length === 0) return true;
    let sent = true;
    for (const [key, sessids] of byPortal) sent = this.sendMany(key, sessids, cmds) && sent;
    return sent;
  }

  private sendMany(key: string, sessids: SessionId[], cmds: CommandTuple[]): boolean {
    const limits = this.portals.get(key)?.limits ?? DEFAULT_LIMITS;
    const frameBudget = syncChunkBudget(limits.max_frame_bytes, 256 * 1024);
    const cmdsSize = JSON.stringify(cmds).length;
    let sent = true;
    // Output too large to share a frame with a useful number of ids goes as one data-out each.
    if (cmdsSize * 2 > frameBudget) {
      for (const id of sessids) sent = this.transport.send(key, { op: "data-out", sessid: id, cmds }) && sent;
      return sent;
    }
    for (const part of chunkBySize(sessids, (id) => id.length + 3, frameBudget - cmdsSize)) sent = this.transport.send(key, { op: "data-out-many", sessids: part, cmds }) && sent;
    return sent;
  }

  /** Sends the same output to every session (or every logged-in one), on every portal. */
  announce(output: OutputSpec | string, loggedInOnly = false): void {
    const targets: GameSession[] = [];
    for (const s of this.sessions.values()) if (!loggedInOnly || s.logged_in) targets.push(s);
    this.msgMany(targets, output);
  }

  login(session: GameSession, uid: number | string, uname: string | null = null): void {
    session.uid = uid;
    session.uname = uname;
    session.logged_in = true;
    this.sendTo(session.sessid, { op: "login", sessid: session.sessid, uid, uname });
  }

  disconnect(session: GameSession, reason?: string): void {
    this.sendTo(session.sessid, reason === undefined ? { op: "disconnect", sessid: session.sessid } : { op: "disconnect", sessid: session.sessid, reason });
    this.forget(session.sessid);
    this.safely("onDisconnect", () => this.options.callbacks?.onDisconnect?.(session));
  }

  /** Disconnects every session on every portal. */
  disconnectAll(reason?: string): void {
    const all = [...this.sessions.values()];
    this.forgetAll();
    for (const key of this.portals.keys()) this.transport.send(key, reason === undefined ? { op: "disconnect-all" } : { op: "disconnect-all", reason });
    for (const s of all) this.safely("onDisconnect", () => this.options.callbacks?.onDisconnect?.(s));
  }

  /**
   * Sends one session's state to its portal (flags merged there). False when the link is down, or
   * when its server_data is over the portal's cap (then nothing is sent; PORTAL_ERR_SERVER_DATA_TOO_LARGE is logged).
   */
  syncSession(session: GameSession): boolean {
    const key = this.sessionPortal.get(session.sessid);
    const { entry, refusal } = this.syncEntry(session, this.portals.get(key ?? "")?.limits ?? DEFAULT_LIMITS);
    if (refusal) {
      this.logger?.warn({ code: ErrorCodes.SERVER_DATA_TOO_LARGE, sessid: session.sessid }, refusal);
      return false;
    }
    return this.sendTo(session.sessid, { op: "session-sync", sessions: [entry], clean: false });
  }

  /**
   * Stops taking in input: from now on the portals keep what players type (unacknowledged) and give
   * it to the next game process. Call it when you start shutting down for a reload, finish the work
   * already taken in, then `handBack()`. It lasts until a link reconnects.
   */
  pauseInput(): void {
    this.inputPaused = true;
  }

  /**
   * Hands every session's state to the portal holding it (a clean sync per portal, in parts when
   * large: a portal drops sessions this game no longer has, but never one announced after the newest
   * announcement this game received from it). Pauses input first. Resolves when every linked portal
   * confirms it took the whole state, so all output sent before it has reached them; rejects when no
   * portal is linked, when a portal refused part of it or could not be reached, or when a session's
   * server_data is over the portal's cap (that session keeps its previous server_data; the rest is
   * handed back). Call before exiting for a reload.
   */
  async handBack(): Promise<void> {
    this.pauseInput();
    const linked = [...this.portals.values()].filter((p) => p.synced && this.transport.linked(p.key));
    if (linked.length === 0) throw new PortalError(ErrorCodes.LINK_DOWN, "portal link is down; state not handed back");
    const refused: string[] = [];
    const results = await Promise.allSettled(linked.map((p) => this.handBackTo(p, refused)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
    if (refused.length > 0) {
      throw new PortalError(ErrorCodes.SERVER_DATA_TOO_LARGE, `state handed back except server_data of ${refused.length} session(s): ${refused.slice(0, 5).join("; ")}`);
    }
  }

  private async handBackTo(portal: PortalState, refused: string[]): Promise<void> {
    const entries: (Partial<SyncData> & { sessid: SessionId })[] = [];
    for (const id of portal.sessions) {
      const s = this.sessions.get(id);
      if (!s) continue;
      const { entry, refusal } = this.syncEntry(s, portal.limits);
      if (refusal) refused.push(`${s.sessid}: ${refusal}`);
      entries.push(entry);
    }
    const parts = chunkBySize(entries, (e) => JSON.stringify(e).length, syncChunkBudget(portal.limits.max_frame_bytes, 256 * 1024));
    if (parts.length === 0) parts.push([]);
    const gen = portal.generation;
    for (const part of parts.slice(0, -1)) this.transport.send(portal.key, { op: "session-sync", sessions: part, clean: true, gen, more: true });
    await this.request(portal.key, (id) => ({ op: "session-sync", sessions: parts[parts.length - 1]!, clean: true, gen, id }));
  }

  /**
   * Asks a portal to start a protocol plugin by dotted path (an IRC bot, an RSS feed, ...): the portal
   * with id `portalId`, else the first linked one.
   */
  connectBot(path: string, config: Record<string, unknown> = {}, portalId?: string): Promise<LaunchResult> {
    return this.request<LaunchResult>(this.pick(portalId), (id) => ({ op: "server-connect", id, path, config }));
  }

  /** A portal's status (the one with id `portalId`, else the first linked one). */
  status(portalId?: string): Promise<Record<string, unknown>> {
    return this.request(this.pick(portalId), (id) => ({ op: "status", id }));
  }

  /** Tells every portal this game is about to stop for a reload (so their next sync says "reload"). */
  announceStop(mode: StopMode): void {
    for (const key of this.portals.keys()) {
      if (mode === "shutdown") this.transport.send(key, { op: "shutdown", scope: "game" });
      else this.transport.send(key, { op: "reload", mode });
    }
  }

  /** Asks the portals themselves to shut down (every linked one). */
  shutdownPortal(): void {
    for (const key of this.portals.keys()) this.transport.send(key, { op: "shutdown", scope: "portal" });
  }

  /** The key of the portal with this id, or of the first linked portal; "" when none (a request then fails with PORTAL_ERR_LINK_DOWN). */
  private pick(portalId: string | undefined): string {
    for (const p of this.portals.values()) {
      if (portalId !== undefined ? p.portalId === portalId : p.synced && this.transport.linked(p.key)) return p.key;
    }
    return "";
  }

  private sendTo(sessid: SessionId, msg: GameToPortal): boolean {
    const key = this.keyFor(sessid);
    return key !== undefined && this.transport.send(key, msg);
  }

  /** The portal holding a session; a session no portal holds goes to the only portal there is (which drops it, logged), or nowhere. */
  private keyFor(sessid: SessionId): string | undefined {
    const key = this.sessionPortal.get(sessid);
    if (key !== undefined || this.portals.size !== 1) return key;
    return this.portals.keys().next().value;
  }

  /** A session's sync entry; server_data over the portal's cap is left out (the portal keeps the previous one). */
  private syncEntry(session: GameSession, limits: LinkLimits): { entry: Partial<SyncData> & { sessid: SessionId }; refusal?: string } {
    const entry = session.toSyncData();
    const bytes = Buffer.byteLength(JSON.stringify(entry.server_data));
    if (bytes <= limits.max_server_data_bytes) return { entry };
    const { server_data: _left, ...rest } = entry;
    return { entry: rest, refusal: `server_data of ${bytes} bytes is over the portal's limit of ${limits.max_server_data_bytes}` };
  }

  private request<T>(portal: string, build: (id: number) => GameToPortal): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      if (!this.transport.send(portal, build(id))) {
        reject(new PortalError(ErrorCodes.LINK_DOWN, "portal link is down"));
        return;
      }
      const timer = this.clock.setTimeout(() => {
        this.waiting.delete(id);
        reject(new PortalError(ErrorCodes.LINK_TIMEOUT, `no reply from the portal within ${this.options.requestTimeoutMs ?? 30_000} ms`));
      }, this.options.requestTimeoutMs ?? 30_000);
      this.waiting.set(id, { portal, resolve: resolve as (v: unknown) => void, reject, timer });
    });
  }

  private portal(key: string): PortalState {
    let p = this.portals.get(key);
    if (!p) {
      p = { key, portalId: undefined, run: 0, limits: DEFAULT_LIMITS, generation: 0, synced: false, incoming: undefined, sessions: new Set() };
      this.portals.set(key, p);
    }
    return p;
  }

  /**
   * One frame from a portal. Messages naming another portal's sessions are dropped first
   * (PORTAL_ERR_LINK_FOREIGN_SESSION). Its input is then taken in: new sequence numbers are recorded
   * and acknowledged (written at once), and only then do the callbacks run, in message order. A crash
   * in the middle of a frame therefore loses that frame's remaining input rather than running any
   * input twice; input received while paused is neither taken in nor acknowledged.
   */
  private onFrame(key: string, raw: PortalToGame[]): void {
    try {
      const portal = this.portal(key);
      const msgs = this.vet(portal, raw);
      // A new portal-sync (a reconnect) ends a pause: the portal replays what was not taken in.
      if (msgs.some((m) => m.op === "portal-sync")) this.inputPaused = false;
      const fresh = this.inputPaused ? undefined : this.takeIn(portal, msgs);
      for (const msg of msgs) this.onMessage(portal, msg, fresh);
    } catch (err) {
      // Messages are checked on arrival (parsePortalMessage) and callbacks guarded: reaching here is a bug, and it must not end the game.
      this.logger?.error({ code: ErrorCodes.LINK_HANDLER, portal: key, err }, "a frame from a portal could not be handled; the rest of it was dropped");
    }
  }

  /** Whether `sessid` may be named by this portal: its own, or not (yet) anyone's and carrying its id. */
  private mayClaim(portal: PortalState, sessid: SessionId, portalId = portal.portalId): boolean {
    const owner = this.sessionPortal.get(sessid);
    if (owner !== undefined) return owner === portal.key;
    return portalId === undefined || sessid.startsWith(`${portalId}:`);
  }

  /** Drops (and reports) what a portal says about sessions that belong to another portal; claims the new ones it announces. */
  private vet(portal: PortalState, msgs: PortalToGame[]): PortalToGame[] {
    const out: PortalToGame[] = [];
    // Keys that are portal ids name the portal even before its portal-sync (or when that was refused).
    let portalId = portal.incoming?.portalId ?? portal.portalId ?? (this.transport.keysArePortalIds ? portal.key : undefined);
    for (const msg of msgs) {
      let sessid: SessionId | undefined;
      switch (msg.op) {
        case "portal-sync":
          if (this.transport.keysArePortalIds && msg.portal_id !== portal.key) {
            this.reportForeign(portal, `portal-sync naming portal "${String(msg.portal_id)}"`);
            continue;
          }
          portalId = msg.portal_id;
          break;
        case "portal-sync-sessions": {
          const sessions = msg.sessions.filter((e) => this.mayClaim(portal, e.sessid, portalId));
          if (sessions.length < msg.sessions.length) this.reportForeign(portal, `${msg.sessions.length - sessions.length} session(s) in portal-sync-sessions`);
          out.push(sessions.length === msg.sessions.length ? msg : { ...msg, sessions });
          continue;
        }
        case "session-connect":
          sessid = msg.session.sessid;
          break;
        case "session-connect-sync":
          sessid = msg.session.sessid;
          break;
        case "session-disconnect":
        case "data-in":
          sessid = msg.sessid;
          break;
        default:
          break;
      }
      if (sessid !== undefined && !this.mayClaim(portal, sessid, portalId)) {
        this.reportForeign(portal, `${msg.op} for session ${sessid}`);
        continue;
      }
      out.push(msg);
    }
    return out;
  }

  private reportForeign(portal: PortalState, what: string): void {
    const from = portal.portalId ?? portal.key;
    this.foreign.hit(from, () => this.logger?.warn({ code: ErrorCodes.LINK_FOREIGN_SESSION, portal: from }, `portal ${from} sent ${what} belonging to another portal; dropped`));
  }

  /** Records which tuples of the frame's data-in are new, acknowledges them, and returns them per message. */
  private takeIn(portal: PortalState, msgs: PortalToGame[]): Map<PortalToGame, CommandTuple[]> {
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
    if (any && this.transport.send(portal.key, { op: "ack", seqs })) this.transport.flush(portal.key);
    return fresh;
  }

  private onMessage(portal: PortalState, msg: PortalToGame, fresh: Map<PortalToGame, CommandTuple[]> | undefined): void {
    const cb = this.options.callbacks ?? {};
    switch (msg.op) {
      case "portal-sync":
        portal.synced = false;
        portal.generation = Math.max(portal.generation, msg.gen);
        portal.limits = msg.limits;
        portal.incoming = { mode: msg.mode, portalId: msg.portal_id, portalRun: msg.portal_run, entries: [], fresh: new Set() };
        return;
      case "portal-sync-sessions":
        if (!portal.incoming) return;
        for (const e of msg.sessions) portal.incoming.entries.push(e);
        for (const id of msg.fresh) portal.incoming.fresh.add(id);
        return;
      case "portal-sync-end": {
        const sync = portal.incoming;
        portal.incoming = undefined;
        if (!sync) return;
        portal.generation = Math.max(portal.generation, msg.gen);
        this.applySync(portal, sync);
        return;
      }
      case "session-connect": {
        portal.generation = Math.max(portal.generation, msg.gen);
        const session = new GameSession(msg.session);
        this.sessions.set(session.sessid, session);
        this.sessionPortal.set(session.sessid, portal.key);
        portal.sessions.add(session.sessid);
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
        const all = [...portal.sessions].map((id) => this.sessions.get(id)).filter((s): s is GameSession => s !== undefined);
        for (const s of all) this.forget(s.sessid);
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
      case "cluster":
        this.transport.send(portal.key, { op: "cluster-reply", id: msg.id, portals: this.portalViews() });
        return;
      case "reply": {
        const w = this.waiting.get(msg.id);
        if (!w || w.portal !== portal.key) return;
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

  /** Replaces this portal's sessions with what it handed over: stale entries go (no cross-wired ids after a portal restart). */
  private applySync(portal: PortalState, sync: IncomingSync): void {
    const cb = this.options.callbacks ?? {};
    const next = new Map<SessionId, GameSession>();
    const restored: GameSession[] = [];
    const added: GameSession[] = [];
    for (const { input_seq: _seq, ...d } of sync.entries) {
      const session = new GameSession(d);
      next.set(session.sessid, session);
      (sync.fresh.has(session.sessid) ? added : restored).push(session);
    }
    const gone: GameSession[] = [];
    for (const id of [...portal.sessions]) {
      if (next.has(id)) continue;
      const s = this.sessions.get(id);
      if (s) gone.push(s);
      this.forget(id);
    }
    for (const [id, s] of next) {
      this.sessions.set(id, s);
      this.sessionPortal.set(id, portal.key);
      portal.sessions.add(id);
    }
    portal.portalId = sync.portalId;
    portal.run = sync.portalRun;
    portal.synced = true;
    for (const s of gone) this.safely("onDisconnect", () => cb.onDisconnect?.(s));
    this.safely("onSync", () => cb.onSync?.({ mode: sync.mode, restored, fresh: added, portalId: sync.portalId, portalRun: sync.portalRun }));
    for (const s of added) this.safely("onConnect", () => cb.onConnect?.(s));
  }

  /** Drops a session and its input bookkeeping (it is gone). */
  private forget(sessid: SessionId): void {
    this.sessions.delete(sessid);
    this.inputSeen.delete(sessid);
    this.inputAcked.delete(sessid);
    const key = this.sessionPortal.get(sessid);
    if (key !== undefined) this.portals.get(key)?.sessions.delete(sessid);
    this.sessionPortal.delete(sessid);
  }

  private forgetAll(): void {
    this.sessions.clear();
    this.inputSeen.clear();
    this.inputAcked.clear();
    this.sessionPortal.clear();
    for (const p of this.portals.values()) p.sessions.clear();
  }

  /**
   * A portal's link is down. Over TCP its sessions stay until the next portal-sync settles them; over
   * NATS (declared down only after the heartbeat timeout) the portal is presumed gone: its sessions,
   * and only its, are dropped.
   */
  private onDown(key: string): void {
    const portal = this.portals.get(key);
    if (!portal) return;
    portal.synced = false;
    portal.incoming = undefined;
    this.failWaiting(key, "portal link went down");
    if (this.transport.dropsSessionsOnDown) {
      const gone = [...portal.sessions].map((id) => this.sessions.get(id)).filter((s): s is GameSession => s !== undefined);
      for (const s of gone) this.forget(s.sessid);
      this.portals.delete(key);
      for (const s of gone) this.safely("onDisconnect", () => this.options.callbacks?.onDisconnect?.(s));
    }
    this.safely("onLinkDown", () => this.options.callbacks?.onLinkDown?.({ portalId: portal.portalId }));
  }

  private failWaiting(portal: string | undefined, why: string): void {
    for (const [id, w] of this.waiting) {
      if (portal !== undefined && w.portal !== portal) continue;
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

function toTuples(output: OutputSpec | CommandTuple[] | string): CommandTuple[] {
  return typeof output === "string" ? normalizeOutput({ text: output }) : Array.isArray(output) ? output : normalizeOutput(output);
}
