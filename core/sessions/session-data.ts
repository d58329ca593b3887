/** Session state as it crosses the link (Evennia's SESSION_SYNC_ATTRS, snake_case on the wire). */

export type SessionId = string;
export type ProtocolFlags = Record<string, unknown>;

export interface SyncData {
  sessid: SessionId;
  csessid: string | null;
  protocol_key: string;
  address: string | null;
  uid: number | string | null;
  uname: string | null;
  logged_in: boolean;
  puid: number | string | null;
  conn_time: number;
  cmd_last: number;
  cmd_last_visible: number;
  cmd_total: number;
  protocol_flags: ProtocolFlags;
  server_data: Record<string, unknown>;
}

/** Every key of a full sync (new-session notice, portal sync, game hand-back). */
export const SYNC_KEYS = [
  "sessid", "csessid", "protocol_key", "address", "uid", "uname", "logged_in", "puid",
  "conn_time", "cmd_last", "cmd_last_visible", "cmd_total", "protocol_flags", "server_data",
] as const satisfies readonly (keyof SyncData)[];

/** The keys of a post-negotiation resync: what the portal owns, never the game's login state. */
export const CONNECT_SYNC_KEYS = [
  "protocol_key", "address", "sessid", "csessid", "conn_time", "protocol_flags", "server_data",
] as const satisfies readonly (keyof SyncData)[];

export type ConnectSyncData = Pick<SyncData, (typeof CONNECT_SYNC_KEYS)[number]>;

/** Base flags every session starts with. */
export function defaultProtocolFlags(): ProtocolFlags {
  return { ENCODING: "utf-8", SCREENREADER: false, INPUTDEBUG: false, RAW: false, NOCOLOR: false, LOCALECHO: false };
}

type Validator = (v: unknown) => boolean;
const isStringOrNull: Validator = (v) => v === null || typeof v === "string";
const isIdOrNull: Validator = (v) => v === null || typeof v === "string" || (typeof v === "number" && Number.isFinite(v));
const isNumber: Validator = (v) => typeof v === "number" && Number.isFinite(v);
const isObject: Validator = (v) => typeof v === "object" && v !== null && !Array.isArray(v);

/** Type checks for the keys the game may send back (sessid, protocol_key and address are portal-owned). */
export const GAME_WRITABLE: Readonly<Record<string, Validator>> = {
  csessid: isStringOrNull,
  uid: isIdOrNull,
  uname: isStringOrNull,
  logged_in: (v) => typeof v === "boolean",
  puid: isIdOrNull,
  conn_time: isNumber,
  cmd_last: isNumber,
  cmd_last_visible: isNumber,
  cmd_total: isNumber,
  protocol_flags: isObject,
  server_data: isObject,
};

/** Returns the name of the first key with a wrongly typed value, or undefined when all are fine. Unknown keys are ignored. */
export function findBadSyncKey(data: Record<string, unknown>): string | undefined {
  for (const [key, value] of Object.entries(data)) {
    const check = Object.hasOwn(GAME_WRITABLE, key) ? GAME_WRITABLE[key] : undefined;
    if (check && !check(value)) return key;
  }
  return undefined;
}
