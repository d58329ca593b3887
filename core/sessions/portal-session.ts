import type { CommandTuple, Kwargs } from "../messages/command-tuple.js";
import type { SessionPort } from "./session-port.js";
import {
  CONNECT_SYNC_KEYS, SYNC_KEYS, defaultProtocolFlags,
  type ConnectSyncData, type ProtocolFlags, type SessionId, type SyncData,
} from "./session-data.js";

export const INVALID_ENCODING_MESSAGE = "Your client sent an incorrect UTF-8 sequence.";

/**
 * One client connection as the portal sees it. A protocol plugin extends this class, calls
 * `dataIn()` with client input and `closed()` when its socket is gone, and implements
 * `close(reason)` plus any number of `send_<key>(args, kwargs)` methods.
 */
export abstract class PortalSession {
  sessid: SessionId = "";
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

  /** Bytes read from and written to the client; the plugin counts them (metrics). */
  bytesIn = 0;
  bytesOut = 0;

  /** True once the game has been told about this session (session-connect or portal-sync). */
  announced = false;
  private isClosed = false;

  protected constructor(
    protected readonly port: SessionPort,
    readonly protocol_key: string,
    readonly address: string | null,
    now: number = Date.now(),
  ) {
    this.conn_time = now / 1000;
    this.cmd_last = this.conn_time;
    this.cmd_last_visible = this.conn_time;
  }

  get closedAlready(): boolean {
    return this.isClosed;
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
          Object.assign(this.protocol_flags, value as ProtocolFlags);
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

  /** Forwards client input to the handler. */
  protected dataIn(...commands: CommandTuple[]): void {
    if (!this.isClosed) this.port.data_in(this, commands);
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

  /** Call from the socket's close handler. Idempotent. */
  protected closed(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.port.disconnect(this);
  }

  /** The handler asks to end the connection; deliver `reason` as text first when given. */
  abstract close(reason?: string): void;

  /** Plain text output; every protocol has it. */
  abstract send_text(args: unknown[], kwargs: Kwargs): void;

  /** Output whose name has no `send_<name>` method. Ignored unless a plugin overrides it. */
  send_default(_name: string, _args: unknown[], _kwargs: Kwargs): void {}

  /** The game logged this session in. */
  at_login(): void {}
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
