import { ErrorCodes } from "../errors/error-codes.js";
import { PortalError } from "../errors/portal-error.js";
import type { Logger } from "../logging/logger.js";
import { parseGameMessage, parseRefusal, type GameToPortal, type PortalToGame } from "./link-messages.js";

/**
 * One message from the linked game, whatever carried it (TCP or NATS): validated, then handed to
 * `handle`. A malformed or unknown message, or one the portal refuses (a coded PortalError), is
 * answered with an `error` naming its op and dropped; the link goes on. Hello is ignored here.
 */
export function takeGameMessage(raw: unknown, handle: (msg: GameToPortal) => void, reply: (msg: PortalToGame) => void, logger: Logger): void {
  const parsed = parseGameMessage(raw);
  if (!parsed.ok) {
    const op = parsed.op;
    const { code, message } = parseRefusal(parsed);
    logger.warn({ code, op }, message);
    reply(op ? { op: "error", code, message, ref_op: op } : { op: "error", code, message });
    return;
  }
  if (parsed.msg.op === "hello") return;
  try {
    handle(parsed.msg);
  } catch (err) {
    const e = err instanceof PortalError ? err : new PortalError(ErrorCodes.LINK_HANDLER, `handling ${parsed.msg.op} failed: ${String(err)}`);
    // A coded refusal (e.g. a login for a session that just left) is a normal race, not a fault.
    if (err instanceof PortalError) logger.warn({ code: e.code, op: parsed.msg.op }, e.message);
    else logger.error({ code: e.code, op: parsed.msg.op, err }, e.message);
    reply({ op: "error", code: e.code, message: e.message, ref_op: parsed.msg.op });
  }
}
