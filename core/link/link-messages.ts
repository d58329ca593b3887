import { ErrorCodes } from "../errors/error-codes.js";
import type { CommandTuple } from "../messages/command-tuple.js";
import { isCommandTuple } from "../messages/command-tuple.js";
import { findBadSyncKey, type ConnectSyncData, type SessionId, type SyncData } from "../sessions/session-data.js";

/** Link protocol version; both ends state it in the handshake. See docs/link-protocol.md. */
export const LINK_VERSION = 2;

/** Why the game (re)connected: what the portal last knew of the previous game process. */
export type RestartMode = "cold" | "reload" | "reset" | "crash";
export type StopMode = "reload" | "reset" | "shutdown";
export interface WireError { code: string; message: string }

/** One session in a portal sync: its state plus the sequence number the portal will give its next unacknowledged input. */
export type SyncEntry = SyncData & { input_seq: number };

/** Limits the portal tells the game in portal-sync, so the game can keep its messages within them. */
export interface LinkLimits { max_frame_bytes: number; max_server_data_bytes: number }

/** Portal → game. */
export type PortalToGame =
  | { op: "portal-sync"; version: number; mode: RestartMode; portal_id: string; portal_run: number; portal_start_time: number; gen: number; total: number; limits: LinkLimits }
  | { op: "portal-sync-sessions"; sessions: SyncEntry[]; fresh: SessionId[] }
  | { op: "portal-sync-end"; gen: number }
  | { op: "session-connect"; session: SyncData; gen: number }
  | { op: "session-connect-sync"; session: ConnectSyncData }
  | { op: "session-disconnect"; sessid: SessionId }
  | { op: "disconnect-all" }
  | { op: "data-in"; sessid: SessionId; seq: number; cmds: CommandTuple[] }
  | { op: "server-stop"; mode: StopMode }
  | { op: "reply"; id: number; ok: true; result?: unknown }
  | { op: "reply"; id: number; ok: false; error: WireError }
  | { op: "error"; code: string; message: string; ref_op?: string }
  | { op: "cluster"; id: number }
  | { op: "ping" }
  | { op: "pong" };

/** One portal as the game sees it, in a cluster-reply. */
export interface ClusterPortal { portal_id: string; run: number; linked: boolean; sessions: number; logged_in: number }

/** Game → portal. */
export type GameToPortal =
  | { op: "hello"; version: number; secret: string; pid?: number; info?: Record<string, unknown> }
  | { op: "login"; sessid: SessionId; uid: number | string; uname?: string | null }
  | { op: "disconnect"; sessid: SessionId; reason?: string }
  | { op: "disconnect-all"; reason?: string }
  | { op: "session-sync"; sessions: (Partial<SyncData> & { sessid: SessionId })[]; clean: boolean; gen?: number; more?: boolean; id?: number }
  | { op: "ack"; seqs: Record<SessionId, number> }
  | { op: "server-connect"; id: number; path: string; config?: Record<string, unknown> }
  | { op: "data-out"; sessid: SessionId; cmds: CommandTuple[] }
  | { op: "data-out-many"; sessids: SessionId[]; cmds: CommandTuple[] }
  | { op: "reload"; mode?: "reload" | "reset" }
  | { op: "shutdown"; scope?: "game" | "portal" }
  | { op: "status"; id: number }
  | { op: "cluster-reply"; id: number; portals: ClusterPortal[] }
  | { op: "ping" }
  | { op: "pong" };

export type GameOp = GameToPortal["op"];
export type PortalOp = PortalToGame["op"];

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === "string";
const isSessid = (v: unknown): v is string => typeof v === "string" && v.length > 0 && v.length <= 200;
const isId = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v);
const optStr = (v: unknown) => v === undefined || v === null || typeof v === "string";
const isTuples = (v: unknown) => Array.isArray(v) && v.every(isCommandTuple);
const isSeq = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
/** Session ids to sequence numbers; one pass over the keys, no array of entries per ack (one ack message per game turn). */
const isAcks = (v: unknown) => {
  if (!isObj(v)) return false;
  for (const k of Object.keys(v)) if (!isSessid(k) || !isSeq(v[k])) return false;
  return true;
};

const syncExtras = (m: Record<string, unknown>) =>
  m.more !== undefined && typeof m.more !== "boolean" ? "more" : m.id !== undefined && !isId(m.id) ? "id" : undefined;

/** Shape checks for what a game may send; each returns the name of the first bad field, or undefined. */
const GAME_CHECKS: Record<GameOp, (m: Record<string, unknown>) => string | undefined> = {
  hello: (m) => (!isId(m.version) ? "version" : !isStr(m.secret) ? "secret" : m.info !== undefined && !isObj(m.info) ? "info" : undefined),
  login: (m) => (!isSessid(m.sessid) ? "sessid" : !(isStr(m.uid) || typeof m.uid === "number") ? "uid" : !optStr(m.uname) ? "uname" : undefined),
  disconnect: (m) => (!isSessid(m.sessid) ? "sessid" : !optStr(m.reason) ? "reason" : undefined),
  "disconnect-all": (m) => (!optStr(m.reason) ? "reason" : undefined),
  "session-sync": (m) =>
    !Array.isArray(m.sessions) || !m.sessions.every((s) => isObj(s) && isSessid(s.sessid)) ? "sessions"
      : typeof m.clean !== "boolean" ? "clean"
        : m.clean ? (!isSeq(m.gen) ? "gen" : undefined) ?? syncExtras(m)
          : m.gen !== undefined && !isSeq(m.gen) ? "gen" : syncExtras(m),
  ack: (m) => (!isAcks(m.seqs) ? "seqs" : undefined),
  "server-connect": (m) => (!isId(m.id) ? "id" : !isStr(m.path) ? "path" : m.config !== undefined && !isObj(m.config) ? "config" : undefined),
  "data-out": (m) => (!isSessid(m.sessid) ? "sessid" : !isTuples(m.cmds) ? "cmds" : undefined),
  "data-out-many": (m) => (!Array.isArray(m.sessids) || m.sessids.length === 0 || !m.sessids.every(isSessid) ? "sessids" : !isTuples(m.cmds) ? "cmds" : undefined),
  reload: (m) => (m.mode !== undefined && m.mode !== "reload" && m.mode !== "reset" ? "mode" : undefined),
  shutdown: (m) => (m.scope !== undefined && m.scope !== "game" && m.scope !== "portal" ? "scope" : undefined),
  status: (m) => (!isId(m.id) ? "id" : undefined),
  "cluster-reply": (m) => (!isId(m.id) ? "id" : !Array.isArray(m.portals) || m.portals.length > 10_000 || !m.portals.every((p) => isObj(p) && isStr(p.portal_id)) ? "portals" : undefined),
  ping: () => undefined,
  pong: () => undefined,
};

export type ParseResult<T> = { ok: true; msg: T } | { ok: false; code: "unknown-op" | "bad-field"; op?: string; field?: string };

/** The coded error for a message that failed its check: an unknown op, or the first bad field. */
export function parseRefusal(failed: Extract<ParseResult<unknown>, { ok: false }>): { code: typeof ErrorCodes.LINK_UNKNOWN_OP | typeof ErrorCodes.LINK_MESSAGE; message: string } {
  return failed.code === "unknown-op"
    ? { code: ErrorCodes.LINK_UNKNOWN_OP, message: `unknown operation "${failed.op}"` }
    : { code: ErrorCodes.LINK_MESSAGE, message: `bad field "${failed.field}" in ${failed.op ?? "message"}` };
}

/** Validates one message from a game. */
export function parseGameMessage(raw: unknown): ParseResult<GameToPortal> {
  if (!isObj(raw) || !isStr(raw.op)) return { ok: false, code: "bad-field", field: "op" };
  const check = Object.hasOwn(GAME_CHECKS, raw.op) ? GAME_CHECKS[raw.op as GameOp] : undefined;
  if (!check) return { ok: false, code: "unknown-op", op: raw.op };
  const field = check(raw);
  if (field) return { ok: false, code: "bad-field", op: raw.op, field };
  return { ok: true, msg: raw as unknown as GameToPortal };
}

/** A session as the portal describes it: an object with a session id, its other keys well typed (protocol_key and address strings or null). */
const isSessionData = (v: unknown) =>
  isObj(v) && isSessid(v.sessid) && findBadSyncKey(v) === undefined && optStr(v.protocol_key) && optStr(v.address);
const isSyncEntry = (v: unknown) => isSessionData(v) && isSeq((v as Record<string, unknown>).input_seq);
const isLimits = (v: unknown) => isObj(v) && isId(v.max_frame_bytes) && v.max_frame_bytes > 0 && isId(v.max_server_data_bytes) && v.max_server_data_bytes > 0;
const RESTART_MODES: ReadonlySet<unknown> = new Set(["cold", "reload", "reset", "crash"]);
const STOP_MODES: ReadonlySet<unknown> = new Set(["reload", "reset", "shutdown"]);

/**
 * Shape checks for what a portal may send, each returning the first bad field: the game SDK relies on
 * them (over NATS a game hears several portals, and one sending a malformed message must not upset
 * the others).
 */
const PORTAL_CHECKS: Record<PortalOp, (m: Record<string, unknown>) => string | undefined> = {
  "portal-sync": (m) => (!isId(m.version) ? "version" : !RESTART_MODES.has(m.mode) ? "mode" : !isSessid(m.portal_id) ? "portal_id"
    : !isSeq(m.portal_run) ? "portal_run" : !isSeq(m.gen) ? "gen" : !isLimits(m.limits) ? "limits" : undefined),
  "portal-sync-sessions": (m) => (!Array.isArray(m.sessions) || !m.sessions.every(isSyncEntry) ? "sessions" : !Array.isArray(m.fresh) || !m.fresh.every(isSessid) ? "fresh" : undefined),
  "portal-sync-end": (m) => (!isSeq(m.gen) ? "gen" : undefined),
  "session-connect": (m) => (!isSessionData(m.session) ? "session" : !isSeq(m.gen) ? "gen" : undefined),
  "session-connect-sync": (m) => (!isSessionData(m.session) ? "session" : undefined),
  "session-disconnect": (m) => (!isSessid(m.sessid) ? "sessid" : undefined),
  "disconnect-all": () => undefined,
  "data-in": (m) => (!isSessid(m.sessid) ? "sessid" : !isSeq(m.seq) || m.seq === 0 ? "seq" : !isTuples(m.cmds) ? "cmds" : undefined),
  "server-stop": (m) => (!STOP_MODES.has(m.mode) ? "mode" : undefined),
  reply: (m) => (!isId(m.id) ? "id" : typeof m.ok !== "boolean" ? "ok" : !m.ok && !(isObj(m.error) && isStr(m.error.code) && isStr(m.error.message)) ? "error" : undefined),
  error: (m) => (!isStr(m.code) ? "code" : !isStr(m.message) ? "message" : undefined),
  cluster: (m) => (!isId(m.id) ? "id" : undefined),
  ping: () => undefined,
  pong: () => undefined,
};

/** Validates one message from a portal. */
export function parsePortalMessage(raw: unknown): ParseResult<PortalToGame> {
  if (!isObj(raw) || !isStr(raw.op)) return { ok: false, code: "bad-field", field: "op" };
  const check = Object.hasOwn(PORTAL_CHECKS, raw.op) ? PORTAL_CHECKS[raw.op as PortalOp] : undefined;
  if (!check) return { ok: false, code: "unknown-op", op: raw.op };
  const field = check(raw);
  if (field) return { ok: false, code: "bad-field", op: raw.op, field };
  return { ok: true, msg: raw as unknown as PortalToGame };
}
