import type { CommandTuple, Kwargs } from "../messages/command-tuple.js";

/**
 * Game command names with a fixed GMCP package name (both directions). Maps: a client's package name
 * is looked up, and `constructor` or `__proto__` must not find Object.prototype's members.
 */
const TO_GMCP: ReadonlyMap<string, string> = new Map([
  ["client_options", "Core.Supports.Get"],
  ["get_inputfuncs", "Core.Commands.Get"],
  ["get_value", "Char.Value.Get"],
  ["repeat", "Char.Repeat.Update"],
  ["monitor", "Char.Monitor.Update"],
]);
const FROM_GMCP: ReadonlyMap<string, string> = new Map([...TO_GMCP].map(([k, v]) => [v.toLowerCase(), k]));

/** `char_vitals` → `Char.Vitals`, `char_HP` → `Char.HP`, `ping` → `Core.Ping`; names already dotted are sent as the game wrote them. */
export function gmcpName(name: string): string {
  const mapped = TO_GMCP.get(name);
  if (mapped) return mapped;
  if (name.includes(".")) return name;
  const words = name.split("_").filter((w) => w.length > 0);
  const cap = (w: string) => (w === w.toUpperCase() ? w : w[0]!.toUpperCase() + w.slice(1));
  if (words.length <= 1) return `Core.${cap(words[0] ?? name)}`;
  return words.map(cap).join(".");
}

/** Encodes one output instruction as a GMCP message (`Package.Name <json>`), `options` dropped. */
export function encodeGmcp(name: string, args: readonly unknown[], kwargs: Kwargs): string {
  const { options: _options, ...kw } = kwargs;
  const hasKw = Object.keys(kw).length > 0;
  let payload: unknown;
  if (args.length === 0 && !hasKw) return gmcpName(name);
  if (args.length === 0) payload = kw;
  else if (!hasKw) payload = args.length === 1 ? args[0] : args;
  else payload = args.length === 1 ? [args[0], kw] : [args, kw];
  return `${gmcpName(name)} ${JSON.stringify(payload)}`;
}

/** The game command name for a GMCP package: mapped names, else `.`→`_`, leading `core_` stripped (unless nothing is left), lower-cased. */
export function gameNameFromGmcp(pkg: string): string {
  const lower = pkg.toLowerCase();
  const mapped = FROM_GMCP.get(lower);
  if (mapped) return mapped;
  const name = lower.replace(/\./g, "_");
  return name.replace(/^core_/, "") || name;
}

/** Decodes one GMCP message into a game input tuple. Non-JSON payloads become one string argument. */
export function decodeGmcp(message: string): { pkg: string; tuple: CommandTuple } {
  const trimmed = message.trim();
  const space = trimmed.search(/\s/);
  const pkg = space < 0 ? trimmed : trimmed.slice(0, space);
  const raw = space < 0 ? "" : trimmed.slice(space + 1).trim();
  const name = gameNameFromGmcp(pkg);
  if (raw === "") return { pkg, tuple: [name, [], {}] };
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { pkg, tuple: [name, [raw], {}] };
  }
  if (Array.isArray(value)) return { pkg, tuple: [name, value, {}] };
  if (typeof value === "object" && value !== null) {
    const kwargs: Kwargs = {};
    for (const [k, v] of Object.entries(value)) if (k !== "" && k !== "__proto__") kwargs[k] = v;
    return { pkg, tuple: [name, [], kwargs] };
  }
  return { pkg, tuple: [name, [value], {}] };
}
