import { readFileSync } from "node:fs";
import { errorMessage } from "../errors/portal-error.js";
import { envValue } from "./load-config.js";
import { failConfig, type NatsLinkConfig } from "./portal-config.js";

/** What a portal or game presents to NATS: a user and password, or a token, or nothing. */
export interface NatsCredentials {
  user?: string;
  password?: string;
  token?: string;
}

function fromFile(key: string, path: string): string {
  try {
    return readFileSync(path, "utf8").replace(/\r?\n$/, "");
  } catch (err) {
    failConfig(key, `cannot read ${path}: ${errorMessage(err)}`);
  }
}

/**
 * The NATS credentials: PORTICO_NATS_USER, PORTICO_NATS_PASSWORD and PORTICO_NATS_TOKEN (each also as
 * NAME_FILE) over link.nats.user, passwordFile and tokenFile. Secrets are never config values.
 */
export function natsCredentials(nats: NatsLinkConfig, env: NodeJS.ProcessEnv = process.env): NatsCredentials {
  const user = envValue(env, "PORTICO_NATS_USER") ?? nats.user;
  const password = envValue(env, "PORTICO_NATS_PASSWORD") ?? (nats.passwordFile !== undefined ? fromFile("link.nats.passwordFile", nats.passwordFile) : undefined);
  const token = envValue(env, "PORTICO_NATS_TOKEN") ?? (nats.tokenFile !== undefined ? fromFile("link.nats.tokenFile", nats.tokenFile) : undefined);
  if (token !== undefined && (user !== undefined || password !== undefined)) failConfig("link.nats.tokenFile", "use a token or a user and password, not both");
  if (password !== undefined && user === undefined) failConfig("link.nats.user", "a NATS password needs a user (link.nats.user or PORTICO_NATS_USER)");
  return { ...(user !== undefined ? { user } : {}), ...(password !== undefined ? { password } : {}), ...(token !== undefined ? { token } : {}) };
}
