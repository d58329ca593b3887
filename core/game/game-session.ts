import type { ProtocolFlags, SessionId, SyncData } from "../sessions/session-data.js";
import { SYNC_KEYS } from "../sessions/session-data.js";

/** The game's mirror of one portal session (Evennia's ServerSession, without game logic). */
export class GameSession implements SyncData {
  sessid: SessionId;
  csessid: string | null = null;
  protocol_key = "";
  address: string | null = null;
  uid: number | string | null = null;
  uname: string | null = null;
  logged_in = false;
  puid: number | string | null = null;
  conn_time = 0;
  cmd_last = 0;
  cmd_last_visible = 0;
  cmd_total = 0;
  protocol_flags: ProtocolFlags = {};
  /** Game-owned state; handed to the portal before a reload and given back after it. */
  server_data: Record<string, unknown> = {};

  constructor(data: Partial<SyncData> & { sessid: SessionId }) {
    this.sessid = data.sessid;
    this.load(data);
  }

  /** Applies portal data; protocol_flags are merged, never replaced. */
  load(data: Partial<SyncData>): void {
    for (const key of SYNC_KEYS) {
      if (!(key in data) || key === "sessid") continue;
      const value = data[key];
      // Own keys only, and never `__proto__` (Object.assign would set the flags' prototype with it).
      if (key === "protocol_flags") {
        for (const [flag, v] of Object.entries(value as ProtocolFlags)) if (flag !== "__proto__") this.protocol_flags[flag] = v;
      } else (this as Record<string, unknown>)[key] = value;
    }
  }

  toSyncData(): SyncData {
    const out: Record<string, unknown> = {};
    for (const key of SYNC_KEYS) out[key] = this[key];
    return out as unknown as SyncData;
  }
}
