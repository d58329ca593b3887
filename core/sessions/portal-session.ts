import type { Logger } from "../logging/logger.js";
import type { CommandTuple, Kwargs } from "../messages/command-tuple.js";
import { ByteMeter, type ByteCounted } from "./byte-meter.js";
import {
  CONNECT_SYNC_KEYS, SYNC_KEYS, defaultProtocolFlags,
  type ConnectSyncData, type ProtocolFlags, type SessionId, type SyncData,
} from "./session-data.js";
import type { SessionPort } from "./session-port.js";

export const INVALID_ENCODING_MESSAGE = "Your client sent an incorrect UTF-8 sequence.";

/**
 * Where a session is in its life, one name per state:
 * - `new`: made by a plugin, not yet handed to the portal;
 * - `queued`: handed to the portal, waiting in the connection throttle;
 * - `open`: registered and relayed to the game;
 * - `closing`: `close()` was called; the transport is winding down;
 * - `closed`: the transport is gone and the portal has forgotten the session.
 */
export type SessionState = "new" | "queued" | "open" | "closing" | "closed";

/** Core-only state of a session, under a key plugins cannot name (it is not exported from core/index.ts). */
export const CORE = Symbol.for("portico.session.core");

interface CoreState {
  port: SessionPort | undefined;
  /** The plugin's logger, or (once `loggerBound`) its child bound to the session id. */
  logger: Logger | undefined;
  /** Whether `logger` is bound to `sessid` yet: that is done on first use (see `sessionLogger`), as most sessions never log. */
  loggerBound: boolean;
  sessid: SessionId;
  state: SessionState;
  /** True once the game has been told about this session (session-connect or portal-sync). */
  announced: boolean;
  /** The announcement generation the game was told about this session in (see the handler's clean sync). */
  generation: number;
  /** An outbound bot's session (registered without the throttle; not a player). */
  bot: boolean;
}

const SILENT: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => SILENT };

/**
 * One client connection (or one bot) as the portal sees it. A plugin extends this class (or
 * `SocketSession`, which does the socket wiring) and writes:
 * - `send_text(args, kwargs)` and any other `send_<key>(args, kwargs)` it handles;
 * - `hangUp(reason)`, which ends the transport;
 * and calls `dataIn()`/`textIn()` with input, `syncFlags()` after negotiation changed
 * `protocol_flags`, and `connectionLost()` when the transport is gone. The portal assigns the
 * session id, stamps the times and counts the bytes of every transport given to `measure()`.
 */
export abstract class PortalSession {
  csessid: string | null = null;
  uid: number | string | null = null;
  uname: string | null = null;
  logged_in = false;
  puid: number | string | null = null;
  conn_time: number;
  cmd_last: number;
  cmd_last_visible: number;
  cmd_total = 0;
  protocol_flags: ProtocolFlags = defaultProtocolFlags();
  server_data: Record<string, unknown> = {};

  /** A protocol's sub-kind shown in status and metrics beside `protocol_key` (e.g. the websocket subprotocol). */
  variant: string | null = null;

  readonly [CORE]: CoreState = { port: undefined, logger: undefined, loggerBound: false, sessid: "", state: "new", announced: false, generation: 0, bot: false };
  private readonly bytes = new ByteMeter();

  protected constructor(
    readonly protocol_key: string,
    readonly address: string | null,
  ) {
    this.conn_time = Date.now() / 1000;
    this.cmd_last = this.conn_time;
    this.cmd_last_visible = this.conn_time;
  }

  /** The id the portal gave this session ("" until it is handed to the portal). */
  get sessid(): SessionId {
    return this[CORE].sessid;
  }

  get state(): SessionState {
    return this[CORE].state;
  }

  /** True from `close()` (or the transport's end) on: output is no longer delivered. */
  get ending(): boolean {
    const s = this[CORE].state;
    return s === "closing" || s === "closed";
  }

  /** Bytes read from and written to every transport given to `measure()`, closed ones included. */
  get bytesIn(): number {
    return this.bytes.read;
  }

  get bytesOut(): number {
    return this.bytes.written;
  }

  /** The plugin's logger, bound to this session's id once it is handed to the portal. */
  protected get logger(): Logger {
    return sessionLogger(this) ?? SILENT;
  }

  getSyncData(): SyncData {
    const out: Record<string, unknown> = {};
    for (const key of SYNC_KEYS) out[key] = this[key];
    out.protocol_flags = { ...this.protocol_flags };
    out.server_data = { ...this.server_data };
    return out as unknown as SyncData;
  }

  getConnectSyncData(): ConnectSyncData {
    const full = this.getSyncData();
    const out: Record<string, unknown> = {};
    for (const key of CONNECT_SYNC_KEYS) out[key] = full[key];
    return out as unknown as ConnectSyncData;
  }

  /** Applies game-sent state: protocol_flags are merged (never replaced), portal-owned keys ignored. */
  loadSyncData(data: Partial<SyncData>): void {
    for (const [key, value] of Object.entries(data)) {
      switch (key) {
        case "protocol_flags":
          // Own keys only, and never `__proto__` (Object.assign would set the flags' prototype with it).
          for (const [flag, v] of Object.entries(value as ProtocolFlags)) if (flag !== "__proto__") this.protocol_flags[flag] = v;
          break;
        case "sessid":
        case "protocol_key":
        case "address":
          break;
        default:
          if ((SYNC_KEYS as readonly string[]).includes(key)) (this as Record<string, unknown>)[key] = value;
      }
    }
  }

  /**
   * Ends the session: delivers `reason` as text (when given), then calls `hangUp()`. Called by the
   * portal (the game disconnected the session, the portal is stopping) or by the plugin itself.
   * Idempotent.
   */
  close(reason?: string): void {
    const core = this[CORE];
    if (core.state === "closing" || core.state === "closed") return;
    core.state = "closing";
    if (reason) {
      try {
        this.send_text([reason], {});
      } catch (err) {
        this.logger.debug({ err }, "the close reason could not be delivered");
      }
    }
    this.hangUp(reason);
  }

  /** Plain text output; every protocol has it. */
  abstract send_text(args: unknown[], kwargs: Kwargs): void;

  /** Output whose name has no `send_<name>` method. Ignored unless a plugin overrides it. */
  send_default(_name: string, _args: unknown[], _kwargs: Kwargs): void {}

  /** The game logged this session in. */
  at_login(): void {}

  /** Called once the portal has taken the session (it may still wait in the connection queue). */
  onOpen(): void {}

  /** Ends the transport (the reason, if any, was already sent as text); the plugin then calls `connectionLost()`. */
  protected abstract hangUp(reason?: string): void;

  /** Forwards client input to the portal. */
  protected dataIn(...commands: CommandTuple[]): void {
    const core = this[CORE];
    if (core.state !== "closed" && core.port) core.port.data_in(this, commands);
  }

  /**
   * Decodes one line of raw input with the session's ENCODING and forwards it as `text`.
   * Bytes that are not valid in that encoding get the player a message and run nothing.
   */
  protected textIn(line: Buffer, kwargs: Kwargs = {}): void {
    const text = decodeInput(line, String(this.protocol_flags.ENCODING ?? "utf-8"));
    if (text === undefined) {
      this.send_text([INVALID_ENCODING_MESSAGE], {});
      return;
    }
    this.dataIn(["text", [text], kwargs]);
  }

  /** Negotiation finished or changed `protocol_flags` (window size, terminal type): tell the game. */
  protected syncFlags(): void {
    const core = this[CORE];
    if (!this.ending && core.port) core.port.sync(this);
  }

  /** Call when the transport is gone (closed by either side). Idempotent. */
  protected connectionLost(): void {
    const core = this[CORE];
    if (core.state === "closed") return;
    core.state = "closed";
    core.port?.disconnect(this);
  }

  /**
   * Counts the bytes of a transport (a `net.Socket`, or anything with `bytesRead`/`bytesWritten`)
   * into `bytesIn`/`bytesOut`. A session whose transport changes (a reconnecting bot, a resumed
   * websocket) measures each one; the totals carry over.
   */
  protected measure(transport: ByteCounted): void {
    this.bytes.add(transport);
  }
}

/**
 * A session's logger: the plugin's (or the handler's), bound to the session id the first time it is
 * asked for once the session has one. A pino child costs memory and time in the accept path, and
 * most sessions never log anything; the lines are the same as with a child made up front.
 */
export function sessionLogger(session: PortalSession): Logger | undefined {
  const core = session[CORE];
  if (!core.loggerBound && core.logger !== undefined && core.sessid !== "") {
    core.logger = core.logger.child({ sessid: core.sessid });
    core.loggerBound = true;
  }
  return core.logger;
}

/** Strict UTF-8; every decode() call without `stream` starts afresh, so one decoder serves every line. */
const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** Decodes bytes with a named encoding; undefined when the bytes are invalid for it. Unknown encodings fall back to utf-8. */
export function decodeInput(bytes: Buffer, encoding: string): string | undefined {
  const label = encoding.toLowerCase();
  if (label === "latin-1" || label === "latin1" || label === "iso-8859-1" || label === "ascii") return bytes.toString("latin1");
  try {
    return UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}
