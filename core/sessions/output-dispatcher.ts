import type { CommandTuple } from "../messages/command-tuple.js";
import { ErrorCodes } from "../errors/error-codes.js";
import type { Logger } from "../logging/logger.js";
import { sessionLogger, type PortalSession } from "./portal-session.js";
import type { SendHandler } from "./outputs.js";

/** Output names that can name a method: lower-case letters, digits and underscores. */
const METHOD_NAME = /^[a-z0-9_]+$/;

/**
 * Calls `send_<name>` (name trimmed and lower-cased) on the session for each instruction, or
 * `send_default(name, args, kwargs)` when there is none. An exception in one instruction is
 * logged and never blocks the others. Output for a session that is ending is dropped.
 */
export function dispatchOutput(session: PortalSession, commands: readonly CommandTuple[], logger: Logger): void {
  for (const [name, args, kwargs] of commands) {
    if (session.ending) return;
    const key = name.trim().toLowerCase();
    try {
      const method = key !== "default" && METHOD_NAME.test(key) ? (session as unknown as Record<string, unknown>)[`send_${key}`] : undefined;
      if (typeof method === "function") (method as SendHandler).call(session, args, kwargs);
      else session.send_default(name, args, kwargs);
    } catch (err) {
      // The plugin's logger (it names the plugin) when the session came from one.
      (sessionLogger(session) ?? logger).error({ code: ErrorCodes.SEND_FAILED, sessid: session.sessid, protocol: session.protocol_key, command: name, err }, `send_${key} failed`);
    }
  }
}
