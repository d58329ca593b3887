import type { PortalConfig } from "../config/portal-config.js";
import { ErrorCodes } from "../errors/error-codes.js";
import { PortalError } from "../errors/portal-error.js";
import { chunkBySize, syncChunkBudget } from "../link/chunks.js";
import type { GameChannel } from "../link/game-channel.js";
import { GameRunState } from "../link/game-run-state.js";
import { LINK_VERSION, type RestartMode, type StopMode, type SyncEntry } from "../link/link-messages.js";
import type { Logger } from "../logging/logger.js";
import { prepareTuples, type CommandTuple } from "../messages/command-tuple.js";
import type { Clock } from "../time/clock.js";
import { ConnectionThrottle } from "./connection-throttle.js";
import { InputGuard } from "./input-guard.js";
import { dispatchOutput } from "./output-dispatcher.js";
import { InputLedger, tupleBytes } from "./input-ledger.js";
import { CORE, type PortalSession } from "./portal-session.js";
import { findBadSyncKey, type SessionId, type SyncData } from "./session-data.js";
import type { SessidAllocator } from "./sessid-allocator.js";
import type { SessionHost } from "../plugins/plugin-port.js";

export interface HandlerDeps {
  config: Pick<PortalConfig, "limits" | "messages" | "serverName"> & { link?: Pick<PortalConfig["link"], "maxFrameBytes" | "batchMaxBytes" | "maxServerDataBytes"> };
  clock: Clock;
  logger: Logger;
  allocator: SessidAllocator;
  channel: GameChannel;
  /** How the last game process ended (shared with the link dispatcher); a fresh one when omitted. */
  runState?: GameRunState;
}

/** One entry of a game's session-sync the portal did not take whole. */
export interface SyncRefusal {
  sessid: SessionId;
  code: string;
  message: string;
}

/** What a (possibly chunked) session-sync did, once its last part arrived. */
export interface SyncOutcome {
  applied: number;
  refused: SyncRefusal[];
  closed: number;
}

interface OpenSync {
  clean: boolean;
  known: Set<SessionId>;
  applied: number;
  refused: SyncRefusal[];
}

const DEFAULT_LINK = { maxFrameBytes: 16 * 1024 * 1024, batchMaxBytes: 256 * 1024, maxServerDataBytes: 1024 * 1024 };

/** A text input's line for a notice; a client may have sent any JSON value, even one String() throws on ({"toString": 1}). */
function typedText(v: unknown): string {
  try {
    return String(v ?? "");
  } catch {
    return "";
  }
}

/** Fills `{name}` placeholders from `values`' own keys only (`{constructor}` in a template stays as written). */
export const fill = (template: string, values: Record<string, string>) => template.replace(/\{(\w+)\}/g, (m, k: string) => (Object.hasOwn(values, k) ? values[k]! : m));

/**
 * The one registry of portal sessions and the relay between them and the game.
 * Sessions call connect/sync/data_in/disconnect; the link calls the server_* methods and data_out.
 */
export class PortalSessionHandler implements SessionHost {
  private readonly sessions = new Map<SessionId, PortalSession>();
  private readonly throttle: ConnectionThrottle<PortalSession>;
  private readonly guard: InputGuard;
  private readonly ledger: InputLedger<PortalSession>;
  /** Sessions told why their input waits (once per game outage, or once while queued). */
  private readonly toldWaiting = new WeakSet<PortalSession>();
  /**
   * Sessions whose input is masked: the game's last output with an echo option said `echo: false`
   * (a password prompt) and no `echo: true` came since. Kept here, by the portal, for every protocol:
   * LOCALECHO never echoes their input, and no portal message repeats it.
   */
  private readonly masked = new WeakSet<PortalSession>();
  private readonly logger: Logger;
  private readonly link: NonNullable<HandlerDeps["config"]["link"]>;
  readonly runState: GameRunState;
  private closingAll = false;
  /** Raised on each announcement to the game (portal-sync, session-connect); a clean sync closes only sessions announced at or before the generation it names. */
  private generation = 0;
  private openSync: OpenSync | undefined;
  /** Counters for metrics: inputs forwarded or held, instructions dispatched, inputs rejected, bytes of closed sessions. */
  readonly stats = {
    commandsIn: 0,
    commandsOut: 0,
    inputsRejected: 0,
    closedBytes: new Map<string, { in: number; out: number }>(),
  };
  constructor(private readonly deps: HandlerDeps) {
    this.logger = deps.logger;
    this.runState = deps.runState ?? new GameRunState();
    this.link = deps.config.link ?? DEFAULT_LINK;
    const { limits } = deps.config;
    this.guard = new InputGuard(limits, deps.config.messages);
    this.ledger = new InputLedger({ maxTuples: limits.pendingInputMax, maxBytes: limits.inputRetainBytes, maxTotalBytes: limits.inputRetainTotalBytes });
    this.throttle = new ConnectionThrottle(limits, deps.clock, {
      release: (s) => this.register(s),
      queued: (s, seconds) => this.tell(s, this.message("queued", { seconds: seconds.toFixed(1) })),
      refused: (s, why) => {
        this.logger.warn({ code: why === "per-ip" ? ErrorCodes.CONNECT_PER_IP : ErrorCodes.CONNECT_QUEUE_FULL, address: s.address }, "connection refused by the throttle");
        this.closeSession(s, this.message(why === "per-ip" ? "perIpFull" : "queueFull"));
      },
    });
  }

  // ---- called by sessions (SessionPort) ----

  /** A player's connection: gets an id and waits its turn in the connection throttle. */
  connect(session: PortalSession): void {
    if (!this.admit(session)) return;
    session[CORE].state = "queued";
    this.throttle.enqueue(session);
  }

  /** An outbound bot's session: gets an id and is registered at once (bots never wait behind players). */
  connectBot(session: PortalSession): void {
    if (!this.admit(session)) return;
    session[CORE].bot = true;
    this.register(session);
  }

  sync(session: PortalSession): void {
    if (session[CORE].announced && this.isRegistered(session) && this.deps.channel.connected) {
      this.deps.channel.send({ op: "session-connect-sync", session: session.getConnectSyncData() });
    }
  }

  disconnect(session: PortalSession): void {
    this.ledger.drop(session);
    const bytes = this.stats.closedBytes.get(session.protocol_key) ?? { in: 0, out: 0 };
    bytes.in += session.bytesIn;
    bytes.out += session.bytesOut;
    this.stats.closedBytes.set(session.protocol_key, bytes);
    if (this.throttle.remove(session)) return;
    if (!this.isRegistered(session)) return;
    this.sessions.delete(session.sessid);
    if (session[CORE].announced && !this.closingAll && this.deps.channel.connected) {
      this.deps.channel.send({ op: "session-disconnect", sessid: session.sessid });
    }
  }

  /** Forgets a session whose plugin stopped without closing it; the game is told it is gone. */
  evict(session: PortalSession): void {
    session[CORE].state = "closed";
    this.disconnect(session);
  }

  data_in(session: PortalSession, commands: CommandTuple[]): void {
    if (session.ending) return;
    const now = this.deps.clock.now();
    const { accepted, rejected } = this.guard.check(session, commands, now);
    this.stats.inputsRejected += rejected.length;
    for (const r of rejected) {
      this.logger.debug({ code: r.code, sessid: session.sessid, command: r.name }, "input rejected");
      this.tell(session, fill(r.message, { servername: this.deps.config.serverName }));
    }
    if (accepted.length === 0) return;
    this.stats.commandsIn += accepted.length;
    session.cmd_last = now / 1000;
    if (session.protocol_flags.LOCALECHO === true && !this.masked.has(session)) {
      for (const [name, args] of accepted) if (name === "text") this.tell(session, typedText(args[0]));
    }
    const sendable = this.canSend(session);
    for (const tuple of accepted) {
      // A keep-alive (telnet NUL, the web client's idle) means nothing to a game that is away: not kept.
      if (!sendable && tuple[0] === "idle") continue;
      if (!this.fitsLink(tuple)) {
        this.logger.warn({ code: ErrorCodes.INPUT_TOO_LONG, sessid: session.sessid, command: tuple[0] }, "input larger than a link frame refused");
        this.tell(session, this.message("charLimit"));
        continue;
      }
      const kept = this.ledger.keep(session, tuple);
      if (kept.kept) continue;
      this.logger.warn({ code: ErrorCodes.INPUT_QUEUE_FULL, sessid: session.sessid, full: kept.full }, kept.full === "portal"
        ? "input not kept: the portal-wide bound on unacknowledged input (limits.inputRetainTotalBytes) is reached"
        : "input not kept: this session's unacknowledged input is at its bound");
      const line = tuple[0] !== "text" ? tuple[0] : this.masked.has(session) ? "(hidden input)" : typedText(tuple[1][0]);
      this.tell(session, this.message("inputDropped", { line }));
    }
    if (sendable) this.sendInput(session);
    else this.explainWait(session);
  }

  /** Players on the portal (bots not counted): logged in, or all when asked. MSSP's PLAYERS. */
  count_players(includeUnloggedIn = false): number {
    let n = 0;
    for (const s of this.sessions.values()) if (!s[CORE].bot && (includeUnloggedIn || s.logged_in)) n += 1;
    return n;
  }

  count_loggedin(includeUnloggedIn = false): number {
    if (includeUnloggedIn) return this.sessions.size;
    let n = 0;
    for (const s of this.sessions.values()) if (s.logged_in) n += 1;
    return n;
  }

  // ---- called by the link (game → portal) ----

  data_out(sessid: SessionId, commands: readonly unknown[]): void {
    const session = this.sessions.get(sessid);
    if (!session) {
      this.logger.debug({ code: ErrorCodes.UNKNOWN_SESSION, sessid }, "output for an unknown session dropped");
      return;
    }
    const { ok, bad } = prepareTuples(commands);
    if (bad.length > 0) this.logger.warn({ code: ErrorCodes.BAD_OUTPUT, sessid, indexes: bad }, "malformed output instructions skipped");
    this.deliver(session, ok);
  }

  /**
   * The same output for many sessions (a channel line, an announcement): prepared once, sent to each
   * session in the order given; unknown sessions are skipped, as in data_out. The prepared tuples are
   * shared by all of them, so send_* methods must not modify what they are given (plugin contract).
   */
  data_out_many(sessids: readonly SessionId[], commands: readonly unknown[]): void {
    const { ok, bad } = prepareTuples(commands);
    if (bad.length > 0) this.logger.warn({ code: ErrorCodes.BAD_OUTPUT, sessids: sessids.length, indexes: bad }, "malformed output instructions skipped");
    let unknown = 0;
    for (const sessid of sessids) {
      const session = this.sessions.get(sessid);
      if (session) this.deliver(session, ok);
      else unknown += 1;
    }
    if (unknown > 0) this.logger.debug({ code: ErrorCodes.UNKNOWN_SESSION, unknown }, "output for unknown sessions dropped");
  }

  private deliver(session: PortalSession, ok: CommandTuple[]): void {
    this.stats.commandsOut += ok.length;
    this.noteEcho(session, ok);
    dispatchOutput(session, ok, this.logger);
  }

  server_disconnect(sessid: SessionId, reason?: string): void {
    const session = this.sessions.get(sessid);
    if (!session) return;
    this.sessions.delete(sessid);
    this.ledger.drop(session);
    this.closeSession(session, reason);
  }

  /**
   * The game acknowledges input: for each session, everything up to that sequence number is taken in
   * and forgotten here. Bad entries (never sent, not moving forward) change nothing and are reported
   * together as one PORTAL_ERR_LINK_ACK; unknown sessions are skipped (they may have just left).
   */
  server_ack(seqs: Readonly<Record<SessionId, number>>): void {
    const bad: string[] = [];
    for (const sessid of Object.keys(seqs)) {
      const seq = seqs[sessid]!;
      const session = this.sessions.get(sessid);
      if (!session) continue;
      const result = this.ledger.ack(session, seq);
      if (!result.ok) bad.push(`${sessid}: ${result.reason}`);
    }
    if (bad.length > 0) throw new PortalError(ErrorCodes.LINK_ACK, `ack refused for ${bad.length} session(s): ${bad.slice(0, 5).join("; ")}${bad.length > 5 ? "; ..." : ""}`, { count: bad.length });
  }

  server_disconnect_all(reason?: string): void {
    for (const sessid of [...this.sessions.keys()]) this.server_disconnect(sessid, reason);
  }

  server_logged_in(sessid: SessionId, uid: number | string, uname?: string | null): void {
    const session = this.sessions.get(sessid);
    if (!session) throw new PortalError(ErrorCodes.UNKNOWN_SESSION, `login for unknown session ${sessid}`, { sessid });
    session.loadSyncData({ logged_in: true, uid, ...(uname !== undefined ? { uname } : {}) });
    this.guarded(session, "at_login", () => session.at_login());
  }

  /**
   * Applies the game's view of sessions, in one message or in parts (`more: true` on all but the last).
   * With `clean`, once the last part is in, portal sessions the game does not list are disconnected,
   * but only those announced at or before generation `gen` (the newest announcement the game had
   * seen): a player whose session-connect was still on its way is not kicked. Returns the outcome
   * after the last part, undefined after an earlier one.
   */
  server_session_sync(entries: readonly (Partial<SyncData> & { sessid: SessionId })[], clean: boolean, part: { gen?: number; more?: boolean } = {}): SyncOutcome | undefined {
    const open = this.openSync ?? { clean, known: new Set<SessionId>(), applied: 0, refused: [] };
    if (open.clean !== clean) {
      this.openSync = undefined;
      throw new PortalError(ErrorCodes.LINK_SYNC, `a ${clean ? "clean" : "partial"} session-sync arrived while a ${open.clean ? "clean" : "partial"} one was still open; the open one is abandoned and nobody is disconnected for it`);
    }
    this.openSync = part.more === true ? open : undefined;
    for (const entry of entries) this.applySyncEntry(entry, open);
    if (part.more === true) return undefined;
    let closed = 0;
    if (clean) {
      const upTo = part.gen ?? this.generation;
      for (const session of [...this.sessions.values()]) {
        const core = session[CORE];
        if (open.known.has(session.sessid) || !core.announced || core.generation > upTo) continue;
        this.server_disconnect(session.sessid);
        closed++;
      }
    }
    return { applied: open.applied, refused: open.refused, closed };
  }

  // ---- portal-wide ----

  /** Tells the game, then closes every session (portal shutdown). */
  disconnect_all(reason?: string): void {
    if (this.deps.channel.connected) this.deps.channel.send({ op: "disconnect-all" });
    this.closingAll = true;
    try {
      for (const session of this.throttle.drain()) this.closeSession(session, reason);
      for (const session of [...this.sessions.values()]) {
        this.sessions.delete(session.sessid);
        this.closeSession(session, reason);
      }
    } finally {
      this.closingAll = false;
    }
  }

  sessions_from_csessid(csessid: string): PortalSession[] {
    if (!csessid) return [];
    return [...this.sessions.values()].filter((s) => s.csessid === csessid);
  }

  announce_all(message: string): void {
    for (const session of this.sessions.values()) this.tell(session, message);
  }

  get(sessid: SessionId): PortalSession | undefined {
    return this.sessions.get(sessid);
  }

  all(): PortalSession[] {
    return [...this.sessions.values()];
  }

  get queuedConnections(): number {
    return this.throttle.length;
  }

  /** Input tuples kept until the game acknowledges them (held while it is away, or on their way). */
  get pendingInputs(): number {
    return this.ledger.size;
  }

  /** Bytes of input kept until the game acknowledges them, for all sessions. */
  get pendingInputBytes(): number {
    return this.ledger.bytes;
  }

  /** What the next portal-sync tells the game about how the previous game process ended. */
  get restartMode(): RestartMode {
    return this.runState.restartMode;
  }

  // ---- link state ----

  /**
   * A game connected: hand it every session in parts (portal-sync, portal-sync-sessions...,
   * portal-sync-end), each with the state the game gave back before and the sequence number of its
   * first unacknowledged input; then replay that input, in order.
   */
  onGameConnected(portalRun: number, portalStartTime: number): void {
    const sessions = [...this.sessions.values()];
    const gen = ++this.generation;
    const { channel } = this.deps;
    this.ledger.rewind();
    this.openSync = undefined;
    channel.send({
      op: "portal-sync",
      version: LINK_VERSION,
      mode: this.runState.restartMode,
      portal_id: this.deps.allocator.portalId,
      portal_run: portalRun,
      portal_start_time: portalStartTime,
      gen,
      total: sessions.length,
      limits: { max_frame_bytes: this.link.maxFrameBytes, max_server_data_bytes: this.link.maxServerDataBytes },
    });
    const entries = sessions.map((s): [PortalSession, SyncEntry, number] => {
      const entry: SyncEntry = { ...s.getSyncData(), input_seq: this.ledger.nextExpected(s) };
      return [s, entry, JSON.stringify(entry).length];
    });
    for (const part of chunkBySize(entries, (e) => e[2], syncChunkBudget(this.link.maxFrameBytes, this.link.batchMaxBytes))) {
      channel.send({
        op: "portal-sync-sessions",
        sessions: part.map((e) => e[1]),
        fresh: part.filter(([s]) => !s[CORE].announced).map(([s]) => s.sessid),
      });
    }
    channel.send({ op: "portal-sync-end", gen });
    this.runState.linked();
    for (const s of sessions) {
      s[CORE].announced = true;
      s[CORE].generation = gen;
      this.toldWaiting.delete(s);
      this.sendInput(s);
    }
  }

  /** The game asked to be stopped (reload, reset or shutdown); the next sync reports it. */
  onGameStopRequested(mode: StopMode): void {
    this.runState.requestStop(mode);
  }

  /** The game's link is gone: its unacknowledged input will be replayed to the next game. */
  onGameDisconnected(): void {
    this.runState.linkClosed();
    this.ledger.rewind();
    this.openSync = undefined;
  }

  /**
   * Tells every player the game is down, unless they were already told since it went away (their
   * input after the link dropped got the restarting notice first): one notice per player per outage.
   */
  announceGameDown(text: string): void {
    for (const session of this.sessions.values()) {
      if (this.toldWaiting.has(session)) continue;
      this.toldWaiting.add(session);
      this.tell(session, text);
    }
  }

  stop(): void {
    this.throttle.stop();
  }

  // ---- internals ----

  /** Binds a new session to the handler (unless a plugin port already holds it), gives it an id and stamps its times. */
  private admit(session: PortalSession): boolean {
    const core = session[CORE];
    if (core.state !== "new") {
      this.logger.warn({ code: ErrorCodes.SESSION_CALLBACK, sessid: core.sessid, protocol: session.protocol_key, state: core.state }, "a session was handed to the portal twice; ignored");
      return false;
    }
    core.port ??= this;
    core.sessid = this.deps.allocator.next();
    // Bound to the id on first use (sessionLogger): most sessions never log.
    core.logger ??= this.logger;
    core.loggerBound = false;
    const now = this.deps.clock.now() / 1000;
    session.conn_time = now;
    session.cmd_last = now;
    session.cmd_last_visible = now;
    return true;
  }

  private register(session: PortalSession): void {
    if (session.ending) return;
    session[CORE].state = "open";
    this.toldWaiting.delete(session);
    this.sessions.set(session.sessid, session);
    if (!this.deps.channel.connected) return;
    const gen = ++this.generation;
    this.deps.channel.send({ op: "session-connect", session: session.getSyncData(), gen });
    session[CORE].announced = true;
    session[CORE].generation = gen;
    this.sendInput(session);
  }

  private canSend(session: PortalSession): boolean {
    return session[CORE].announced && this.isRegistered(session) && this.deps.channel.connected;
  }

  /** Sends what this session typed that is not yet on this link connection, in parts that fit a frame. */
  private sendInput(session: PortalSession): void {
    const unsent = this.ledger.takeUnsent(session);
    if (!unsent) return;
    if (unsent.cmds.length === 1) {
      // The common case, one typed line: it fits (fitsLink), no splitting to work out.
      this.deps.channel.send({ op: "data-in", sessid: session.sessid, seq: unsent.seq, cmds: unsent.cmds });
      return;
    }
    let seq = unsent.seq;
    for (const cmds of chunkBySize(unsent.cmds, tupleBytes, syncChunkBudget(this.link.maxFrameBytes, this.link.batchMaxBytes))) {
      this.deps.channel.send({ op: "data-in", sessid: session.sessid, seq, cmds });
      seq += cmds.length;
    }
  }

  /** An input too large for any frame could never reach the game: refused here, not kept. */
  private fitsLink(tuple: CommandTuple): boolean {
    return tupleBytes(tuple) * 3 <= this.link.maxFrameBytes - 1024;
  }

  /** Tells a session once why its input waits: it is still in the connection queue, or the game is away. */
  private explainWait(session: PortalSession): void {
    if (this.toldWaiting.has(session) || !this.ledger.hasUnacked(session)) return;
    this.toldWaiting.add(session);
    this.tell(session, this.message(session[CORE].state === "queued" ? "inputWhileQueued" : "gameRestarting"));
  }

  /** One entry of a session-sync: type-checked, server_data within its cap; counts toward a clean sync's known set. */
  private applySyncEntry(entry: Partial<SyncData> & { sessid: SessionId }, open: OpenSync): void {
    const session = this.sessions.get(entry.sessid);
    if (!session) return;
    if (open.clean) open.known.add(entry.sessid);
    const badKey = findBadSyncKey(entry);
    if (badKey) {
      this.logger.warn({ code: ErrorCodes.LINK_MESSAGE, sessid: entry.sessid, key: badKey }, "session-sync entry with a bad field skipped");
      open.refused.push({ sessid: entry.sessid, code: ErrorCodes.LINK_MESSAGE, message: `bad field "${badKey}"` });
      return;
    }
    let data = entry;
    if (entry.server_data !== undefined) {
      const bytes = Buffer.byteLength(JSON.stringify(entry.server_data));
      if (bytes > this.link.maxServerDataBytes) {
        const { server_data: _dropped, ...rest } = entry;
        data = rest;
        const message = `server_data of ${bytes} bytes is over link.maxServerDataBytes (${this.link.maxServerDataBytes}); the previous server_data is kept`;
        this.logger.warn({ code: ErrorCodes.SERVER_DATA_TOO_LARGE, sessid: entry.sessid, bytes }, message);
        open.refused.push({ sessid: entry.sessid, code: ErrorCodes.SERVER_DATA_TOO_LARGE, message });
      }
    }
    session.loadSyncData(data);
    open.applied++;
  }

  /** Records the echo state the game asks for (`options.echo` on any instruction): false masks the session's input, true unmasks it. */
  private noteEcho(session: PortalSession, commands: readonly CommandTuple[]): void {
    for (const [, , kwargs] of commands) {
      const options = kwargs.options;
      if (typeof options !== "object" || options === null) continue;
      const echo = (options as Record<string, unknown>).echo;
      if (echo === false) this.masked.add(session);
      else if (echo === true) this.masked.delete(session);
    }
  }

  /** True while the game has the session's input masked (it sent `echo: false`, as for a password). */
  inputMasked(session: PortalSession): boolean {
    return this.masked.has(session);
  }

  private isRegistered(session: PortalSession): boolean {
    return this.sessions.get(session.sessid) === session;
  }

  private message(key: keyof PortalConfig["messages"], values: Record<string, string> = {}): string {
    return fill(this.deps.config.messages[key], { servername: this.deps.config.serverName, ...values });
  }

  private tell(session: PortalSession, text: string): void {
    this.guarded(session, "send_text", () => session.send_text([text], { options: {} }));
  }

  private closeSession(session: PortalSession, reason?: string): void {
    this.guarded(session, "close", () => session.close(reason));
  }

  private guarded(session: PortalSession, what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.logger.error({ code: ErrorCodes.SESSION_CALLBACK, sessid: session.sessid, protocol: session.protocol_key, err }, `${what} failed`);
    }
  }
}
