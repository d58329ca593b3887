import type { PortalConfig } from "../config/portal-config.js";
import { ErrorCodes } from "../errors/error-codes.js";
import { PortalError } from "../errors/portal-error.js";
import type { GameChannel } from "../link/game-channel.js";
import { LINK_VERSION, type RestartMode, type StopMode } from "../link/link-messages.js";
import type { Logger } from "../logging/logger.js";
import { prepareTuples, type CommandTuple } from "../messages/command-tuple.js";
import type { Launcher, LaunchResult } from "../plugins/launcher.js";
import type { Clock } from "../time/clock.js";
import { ConnectionThrottle } from "./connection-throttle.js";
import { InputGuard } from "./input-guard.js";
import { dispatchOutput } from "./output-dispatcher.js";
import { PendingInput } from "./pending-input.js";
import { CORE, type PortalSession } from "./portal-session.js";
import { findBadSyncKey, type SessionId, type SyncData } from "./session-data.js";
import type { SessidAllocator } from "./sessid-allocator.js";
import type { SessionHost } from "../plugins/plugin-port.js";

export interface HandlerDeps {
  config: Pick<PortalConfig, "limits" | "messages" | "serverName" | "portalId">;
  clock: Clock;
  logger: Logger;
  allocator: SessidAllocator;
  channel: GameChannel;
  launcher: Launcher;
}

const fill = (template: string, values: Record<string, string>) => template.replace(/\{(\w+)\}/g, (m, k: string) => values[k] ?? m);

/**
 * The one registry of portal sessions and the relay between them and the game.
 * Sessions call connect/sync/data_in/disconnect; the link calls the server_* methods and data_out.
 */
export class PortalSessionHandler implements SessionHost {
  private readonly sessions = new Map<SessionId, PortalSession>();
  private readonly throttle: ConnectionThrottle<PortalSession>;
  private readonly guard: InputGuard;
  private readonly pending: PendingInput<PortalSession>;
  private readonly toldRestarting = new WeakSet<PortalSession>();
  private readonly logger: Logger;
  private closingAll = false;
  private stopRequested: StopMode | undefined;
  /** Counters for metrics: inputs forwarded or held, instructions dispatched, inputs rejected, bytes of closed sessions. */
  readonly stats = {
    commandsIn: 0,
    commandsOut: 0,
    inputsRejected: 0,
    closedBytes: new Map<string, { in: number; out: number }>(),
  };
  /** What the next portal-sync tells the game about how the previous game process ended. */
  restartMode: RestartMode = "cold";

  constructor(private readonly deps: HandlerDeps) {
    this.logger = deps.logger;
    const { limits } = deps.config;
    this.guard = new InputGuard(limits, deps.config.messages);
    this.pending = new PendingInput(limits.pendingInputMax);
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
    this.pending.drop(session);
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
    if (session.protocol_flags.LOCALECHO === true) {
      for (const [name, args] of accepted) if (name === "text") this.tell(session, String(args[0] ?? ""));
    }
    if (session[CORE].announced && this.isRegistered(session) && this.deps.channel.connected) {
      this.deps.channel.send({ op: "data-in", sessid: session.sessid, cmds: accepted });
      return;
    }
    this.hold(session, accepted);
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
    this.stats.commandsOut += ok.length;
    dispatchOutput(session, ok, this.logger);
  }

  server_connect(path: string, config: Record<string, unknown> = {}): Promise<LaunchResult> {
    return this.deps.launcher.launch(path, config);
  }

  server_disconnect(sessid: SessionId, reason?: string): void {
    const session = this.sessions.get(sessid);
    if (!session) return;
    this.sessions.delete(sessid);
    this.pending.drop(session);
    this.closeSession(session, reason);
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

  /** Applies the game's view of sessions; with `clean`, portal sessions the game does not know are disconnected. */
  server_session_sync(entries: readonly (Partial<SyncData> & { sessid: SessionId })[], clean: boolean): void {
    const known = new Set<SessionId>();
    for (const entry of entries) {
      known.add(entry.sessid);
      const session = this.sessions.get(entry.sessid);
      if (!session) continue;
      const badKey = findBadSyncKey(entry);
      if (badKey) {
        this.logger.warn({ code: ErrorCodes.LINK_MESSAGE, sessid: entry.sessid, key: badKey }, "session-sync entry with a bad field skipped");
        continue;
      }
      session.loadSyncData(entry);
    }
    if (!clean) return;
    for (const sessid of [...this.sessions.keys()]) if (!known.has(sessid)) this.server_disconnect(sessid);
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

  get pendingInputs(): number {
    return this.pending.size;
  }

  // ---- link state ----

  /** A game connected: hand it every session (with the state it gave back before), then the input held for it. */
  onGameConnected(portalRun: number, portalStartTime: number): void {
    const sessions = [...this.sessions.values()];
    this.deps.channel.send({
      op: "portal-sync",
      version: LINK_VERSION,
      mode: this.restartMode,
      portal_id: this.deps.config.portalId,
      portal_run: portalRun,
      portal_start_time: portalStartTime,
      sessions: sessions.map((s) => s.getSyncData()),
      fresh: sessions.filter((s) => !s[CORE].announced).map((s) => s.sessid),
    });
    this.stopRequested = undefined;
    for (const s of sessions) {
      s[CORE].announced = true;
      this.toldRestarting.delete(s);
      const held = this.pending.take(s);
      if (held.length > 0) this.deps.channel.send({ op: "data-in", sessid: s.sessid, cmds: held });
    }
  }

  /** The game asked to be stopped (reload, reset or shutdown); the next sync reports it. */
  onGameStopRequested(mode: StopMode): void {
    this.stopRequested = mode;
  }

  onGameDisconnected(): void {
    const mode = this.stopRequested;
    this.restartMode = mode === "reload" || mode === "reset" ? mode : mode === "shutdown" ? "cold" : "crash";
    this.stopRequested = undefined;
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
    core.logger = (core.logger ?? this.logger).child({ sessid: core.sessid });
    const now = this.deps.clock.now() / 1000;
    session.conn_time = now;
    session.cmd_last = now;
    session.cmd_last_visible = now;
    return true;
  }

  private register(session: PortalSession): void {
    if (session.ending) return;
    session[CORE].state = "open";
    this.sessions.set(session.sessid, session);
    if (!this.deps.channel.connected) return;
    this.deps.channel.send({ op: "session-connect", session: session.getSyncData() });
    session[CORE].announced = true;
    const held = this.pending.take(session);
    if (held.length > 0) this.deps.channel.send({ op: "data-in", sessid: session.sessid, cmds: held });
  }

  private hold(session: PortalSession, tuples: CommandTuple[]): void {
    const waitingForGame = !this.deps.channel.connected;
    if (waitingForGame && !this.toldRestarting.has(session)) {
      this.toldRestarting.add(session);
      this.tell(session, this.message("gameRestarting"));
    }
    for (const tuple of tuples) {
      if (this.pending.push(session, tuple)) continue;
      this.logger.warn({ code: ErrorCodes.INPUT_QUEUE_FULL, sessid: session.sessid }, "input not kept: pending buffer full");
      const line = tuple[0] === "text" ? String(tuple[1][0] ?? "") : tuple[0];
      this.tell(session, this.message("inputDropped", { line }));
    }
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
