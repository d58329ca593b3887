import type { CommandTuple } from "../messages/command-tuple.js";
import type { LimitsConfig, MessagesConfig } from "../config/portal-config.js";
import { ErrorCodes, type ErrorCode } from "../errors/error-codes.js";

interface RateWindow {
  start: number;
  count: number;
}

export interface GuardResult {
  accepted: CommandTuple[];
  /** Texts to send back to the player, with the code of each rejection. */
  rejected: { code: ErrorCode; message: string; name: string }[];
}

function oobBytes(tuple: CommandTuple): number {
  try {
    return Buffer.byteLength(JSON.stringify(tuple));
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

function hasNoKeys(o: object): boolean {
  for (const _ in o) return false;
  return true;
}

/** Characters (code points) of a string; an emoji counts as one, not as two UTF-16 units. */
function charCount(text: string): number {
  let n = 0;
  for (const _ of text) n += 1;
  return n;
}

/**
 * Per-session input limits: size of command text (characters, every protocol), size of
 * out-of-band payloads (JSON bytes) and MAX_COMMAND_RATE in a one-second fixed window.
 * Oversized input is rejected before the rate count, as in Evennia.
 */
export class InputGuard {
  private readonly windows = new WeakMap<object, RateWindow>();

  constructor(
    private readonly limits: Pick<LimitsConfig, "maxCharLimit" | "maxOobBytes" | "maxCommandRate">,
    private readonly messages: Pick<MessagesConfig, "charLimit" | "oobTooLarge" | "commandRate">,
  ) {}

  check(session: object, commands: readonly CommandTuple[], nowMs: number): GuardResult {
    const result: GuardResult = { accepted: [], rejected: [] };
    for (const tuple of commands) {
      const [name, args] = tuple;
      if (name === "text") {
        const text = typeof args[0] === "string" ? args[0] : "";
        if (this.limits.maxCharLimit > 0 && text.length > this.limits.maxCharLimit && charCount(text) > this.limits.maxCharLimit) {
          result.rejected.push({ code: ErrorCodes.INPUT_TOO_LONG, message: this.messages.charLimit, name });
          continue;
        }
        // Whatever a text input carries besides its command text is capped like an out-of-band payload
        // (a typed line, its text and nothing else, carries nothing: not measured).
        const typedLine = args.length === 1 && typeof args[0] === "string" && hasNoKeys(tuple[2]);
        if (!typedLine && oobBytes([name, typeof args[0] === "string" ? ["", ...args.slice(1)] : args, tuple[2]]) > this.limits.maxOobBytes) {
          result.rejected.push({ code: ErrorCodes.OOB_TOO_LARGE, message: this.messages.oobTooLarge, name });
          continue;
        }
      } else if (oobBytes(tuple) > this.limits.maxOobBytes) {
        result.rejected.push({ code: ErrorCodes.OOB_TOO_LARGE, message: this.messages.oobTooLarge, name });
        continue;
      }
      if (!this.withinRate(session, nowMs)) {
        result.rejected.push({ code: ErrorCodes.COMMAND_RATE, message: this.messages.commandRate, name });
        continue;
      }
      result.accepted.push(tuple);
    }
    return result;
  }

  private withinRate(session: object, nowMs: number): boolean {
    if (this.limits.maxCommandRate <= 0) return true;
    let w = this.windows.get(session);
    if (!w || nowMs - w.start > 1000) {
      w = { start: nowMs, count: 0 };
      this.windows.set(session, w);
    }
    w.count += 1;
    return w.count <= this.limits.maxCommandRate;
  }
}
