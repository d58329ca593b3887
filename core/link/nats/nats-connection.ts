import { connect, type NatsConnection, type NodeConnectionOptions } from "@nats-io/transport-node";
import type { NatsCredentials } from "../../config/nats-credentials.js";
import type { NatsLinkConfig } from "../../config/portal-config.js";
import { ErrorCodes } from "../../errors/error-codes.js";
import { PortalError, errorMessage } from "../../errors/portal-error.js";
import type { Logger } from "../../logging/logger.js";
import { LogLimiter } from "../../admin/log-limiter.js";
import { badEnvelopeField, type Envelope } from "./envelope.js";

export type { NatsConnection } from "@nats-io/transport-node";

/** NATS client options from the link config: reconnect for ever, every `reconnectWaitMs`. */
export function natsOptions(nats: NatsLinkConfig, creds: NatsCredentials, name: string): NodeConnectionOptions {
  return {
    servers: nats.servers,
    name: nats.name ?? name,
    timeout: nats.connectTimeoutMs,
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: nats.reconnectWaitMs,
    reconnectJitter: Math.min(100, nats.reconnectWaitMs),
    // A dead server is noticed within a few seconds, not the client's default minutes.
    pingInterval: 2000,
    maxPingOut: 2,
    ...(creds.user !== undefined ? { user: creds.user } : {}),
    ...(creds.password !== undefined ? { pass: creds.password } : {}),
    ...(creds.token !== undefined ? { token: creds.token } : {}),
    ...(nats.tls ? { tls: { ...nats.tls } } : {}),
  };
}

/** Connects once; refused credentials are PORTAL_ERR_NATS_AUTH, anything else PORTAL_ERR_NATS_CONNECT (both name the servers). */
export async function connectNats(nats: NatsLinkConfig, creds: NatsCredentials, name: string): Promise<NatsConnection> {
  try {
    return await connect(natsOptions(nats, creds, name));
  } catch (err) {
    const text = errorMessage(err);
    const servers = nats.servers.join(", ");
    if (/authori[sz]ation|authentication/i.test(text)) {
      throw new PortalError(ErrorCodes.NATS_AUTH, `NATS at ${servers} refused this ${name.startsWith("portico-game") ? "game" : "portal"}'s credentials: ${text}`, { servers }, { cause: err });
    }
    throw new PortalError(ErrorCodes.NATS_CONNECT, `cannot connect to NATS at ${servers}: ${text}`, { servers }, { cause: err });
  }
}

/** Sends what is buffered and closes; a connection that cannot drain within `timeoutMs` (NATS down) is closed as it is. */
export async function closeNats(nc: NatsConnection, timeoutMs = 2000): Promise<void> {
  if (nc.isClosed()) return;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), timeoutMs)));
  const drained = await Promise.race([nc.drain().then(() => "drained" as const, () => "failed" as const), late]);
  clearTimeout(timer);
  if (drained !== "drained") await nc.close().catch(() => undefined);
}

/** Calls `down` when the connection to NATS is lost and `up` when it is back, until it closes. */
export function watchNats(nc: NatsConnection, logger: Logger, on: { down(): void; up(): void }): void {
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "disconnect") {
        logger.warn({ code: ErrorCodes.NATS_CONNECT }, "connection to NATS lost; reconnecting (the link waits)");
        on.down();
      } else if (s.type === "reconnect") {
        logger.info({}, "reconnected to NATS");
        on.up();
      } else if (s.type === "slowConsumer") {
        logger.warn({ code: ErrorCodes.NATS_CONNECT }, "NATS dropped messages for this slow consumer; the link resends them");
      }
    }
  })().catch(() => undefined);
}

/**
 * Decodes envelopes from NATS messages. A message that is too large, not JSON or not an envelope
 * is dropped with PORTAL_ERR_LINK_MESSAGE (or _FRAME), logged once per interval with a count.
 */
export class EnvelopeReader {
  /** One limiter per error code, so a flood of one kind never hides the first of another. */
  private readonly limiters = new Map<string, LogLimiter>();

  constructor(private readonly maxBytes: number, private readonly logger: Logger) {}

  read(subject: string, data: Uint8Array): Envelope | undefined {
    const parsed = this.decode(subject, data);
    return parsed === undefined ? undefined : this.envelope(subject, parsed);
  }

  /** The JSON value of a message within the frame limit; undefined (dropped, logged) otherwise. */
  decode(subject: string, data: Uint8Array): unknown {
    if (data.length > this.maxBytes) return this.drop(subject, ErrorCodes.LINK_FRAME, `link message of ${data.length} bytes on ${subject} is over the frame limit of ${this.maxBytes}; dropped`);
    try {
      return JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("utf8"));
    } catch (err) {
      return this.drop(subject, ErrorCodes.LINK_MESSAGE, `link message on ${subject} is not JSON (${errorMessage(err)}); dropped`);
    }
  }

  /** A decoded value as an envelope; undefined (dropped, logged) when it is not one. */
  envelope(subject: string, parsed: unknown): Envelope | undefined {
    const bad = badEnvelopeField(parsed);
    if (bad) return this.drop(subject, ErrorCodes.LINK_MESSAGE, `link message on ${subject} has a bad field "${bad}"; dropped`);
    return parsed as Envelope;
  }

  /** Logs a dropped message (rate-limited) under `code`; returns undefined. */
  drop(subject: string, code: string, message: string): undefined {
    let limiter = this.limiters.get(code);
    if (!limiter) {
      limiter = new LogLimiter(10_000, (n, subjects) => this.logger.warn({ code: code as never, suppressed: n, subjects }, `${n} more bad link messages dropped (${code})`));
      this.limiters.set(code, limiter);
    }
    limiter.hit(subject, () => this.logger.warn({ code: code as never, subject }, message));
    return undefined;
  }

  close(): void {
    for (const l of this.limiters.values()) l.flush();
  }
}

/** Largest control message (hello, portal-here, a whois answer) read. */
export const CONTROL_MAX_BYTES = 8 * 1024;

/** Parses a JSON control message (hello, portal-here) of at most `maxBytes`; undefined when it is not a JSON object. */
export function readJson(data: Uint8Array, maxBytes = CONTROL_MAX_BYTES): Record<string, unknown> | undefined {
  if (data.length > maxBytes) return undefined;
  try {
    const v: unknown = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("utf8"));
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
