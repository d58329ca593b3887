import type { WireCodec } from "./codec.js";
import { evenniaV1 } from "./evennia-v1.js";
import { mudGmcp } from "./mud-gmcp.js";
import { mudJson } from "./mud-json.js";
import { mudTerminal } from "./mud-terminal.js";

export type { WireCodec, Frame, Decoded, DecodeLimits } from "./codec.js";
export { evenniaV1, mudGmcp, mudJson, mudTerminal };

/** Every wire format by subprotocol name. */
export const SUBPROTOCOLS = ["v1.evennia.com", "json.mudstandards.org", "gmcp.mudstandards.org", "terminal.mudstandards.org"] as const;
export type Subprotocol = (typeof SUBPROTOCOLS)[number];

const CODECS: Readonly<Record<Subprotocol, WireCodec>> = {
  "v1.evennia.com": evenniaV1,
  "json.mudstandards.org": mudJson,
  "gmcp.mudstandards.org": mudGmcp,
  "terminal.mudstandards.org": mudTerminal,
};

export function codecFor(name: Subprotocol): WireCodec {
  return CODECS[name];
}

/**
 * The subprotocol to answer with: the first of the server's `preference` that the client offered, or
 * `false` (no Sec-WebSocket-Protocol in the answer; the v1 format is used, as when nothing is offered).
 */
export function chooseSubprotocol(offered: ReadonlySet<string>, preference: readonly Subprotocol[]): Subprotocol | false {
  for (const name of preference) if (offered.has(name)) return name;
  return false;
}
