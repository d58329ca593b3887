import type { Kwargs, ProtocolFlags } from "../../../core/index.js";
import { ignored, input, type Decoded, type DecodeLimits, type Frame, type WireCodec } from "./codec.js";
import { isPlainObject, parseJson, toHtml, utf8, withoutOptions } from "./codec-helpers.js";

/**
 * Evennia's `v1.evennia.com`: every message is a JSON array `["cmdname", [args], {kwargs}]` in a TEXT
 * frame, both ways. Text and prompts are sent as HTML. It is also the format of a client that offers
 * no subprotocol, so Evennia's own webclient script talks to Portico by changing only its URL.
 */
export const evenniaV1: WireCodec = {
  name: "v1.evennia.com",
  carriesOob: true,

  decode(data: Buffer, _binary: boolean, limits: DecodeLimits): Decoded {
    const text = utf8(data);
    if (text === undefined) return ignored("not UTF-8");
    const parsed = parseJson(text, limits.maxJsonDepth);
    if (!parsed.ok) return ignored(parsed.why);
    const v = parsed.value;
    if (!Array.isArray(v) || v.length < 3) return ignored("not an array [cmdname, [args], {kwargs}]");
    const [name, args, kwargs] = v as unknown[];
    if (typeof name !== "string" || name.trim() === "") return ignored("the command name is not a non-empty string");
    if (!Array.isArray(args)) return ignored("args is not an array");
    if (!isPlainObject(kwargs)) return ignored("kwargs is not an object");
    if (name === "websocket_close") return { kind: "close" };
    // Evennia's webclient sends ["text", ["idle"], …] every 3 minutes to keep proxies open: a keep-alive, not a command.
    if (name === "text" && args.length === 1 && args[0] === "idle") return input(["idle", [], {}]);
    return input([name, args, kwargs as Kwargs]);
  },

  text(text: string, kwargs: Kwargs, flags: ProtocolFlags): Frame {
    return { data: JSON.stringify(["text", [toHtml(text, kwargs, flags)], withoutOptions(kwargs)]), binary: false };
  },

  prompt(text: string, kwargs: Kwargs, flags: ProtocolFlags): Frame {
    return { data: JSON.stringify(["prompt", [toHtml(text, kwargs, flags)], withoutOptions(kwargs)]), binary: false };
  },

  oob(name: string, args: readonly unknown[], kwargs: Kwargs): Frame | undefined {
    if (name === "options") return undefined;
    return { data: JSON.stringify([name, args, kwargs]), binary: false };
  },
};
