import { decodeGmcp, encodeGmcp, type Kwargs, type ProtocolFlags } from "../../../core/index.js";
import { ignored, input, type Decoded, type DecodeLimits, type Frame, type WireCodec } from "./codec.js";
import { isPlainObject, parseJson, textLines, toAnsi, utf8 } from "./codec-helpers.js";

/** `Package.Name payload` ⇒ `{ id, data }` of a JSON envelope. */
function envelope(proto: string, message: string): string {
  const space = message.indexOf(" ");
  const id = space < 0 ? message : message.slice(0, space);
  const data = space < 0 ? "" : message.slice(space + 1);
  return JSON.stringify({ proto, id, data });
}

/**
 * mudstandards.org `json`: BINARY frames carry terminal text (ANSI out; a line of input in), TEXT frames a
 * JSON envelope `{"proto", "id", "data"}`: `gmcp` (id = GMCP package, data = its JSON), `text`,
 * `prompt` (out), `websocket_close` (in), or any other proto, which becomes the input `id || proto`.
 */
export const mudJson: WireCodec = {
  name: "json.mudstandards.org",
  carriesOob: true,

  decode(data: Buffer, binary: boolean, limits: DecodeLimits): Decoded {
    const text = utf8(data);
    if (text === undefined) return ignored("not UTF-8");
    if (binary) return textLines(text);
    const parsed = parseJson(text, limits.maxJsonDepth);
    if (!parsed.ok) return ignored(parsed.why);
    const v = parsed.value;
    if (!isPlainObject(v) || typeof v.proto !== "string") return ignored("not an envelope {proto, id, data}");
    let id: string;
    try {
      id = v.id === undefined || v.id === null ? "" : String(v.id);
    } catch {
      return ignored("an id that is not text"); // e.g. {"toString": 1}
    }
    const body = v.data === undefined || v.data === null ? "" : typeof v.data === "string" ? v.data : JSON.stringify(v.data);
    switch (v.proto) {
      case "websocket_close":
        return { kind: "close" };
      case "text":
        return textLines(body);
      case "gmcp":
        if (id.trim() === "") return ignored("gmcp without an id");
        return input(decodeGmcp(body === "" ? id : `${id} ${body}`).tuple);
      default: {
        const name = id || v.proto;
        if (name.trim() === "") return ignored("no command name");
        const value = body === "" ? undefined : parseJson(body, limits.maxJsonDepth);
        const payload = value === undefined ? undefined : value.ok ? value.value : body;
        if (payload === undefined) return input([name, [], {}]);
        if (Array.isArray(payload)) return input([name, payload, {}]);
        if (isPlainObject(payload)) return input([name, [], payload as Kwargs]);
        return input([name, [payload], {}]);
      }
    }
  },

  text(text: string, kwargs: Kwargs, flags: ProtocolFlags): Frame {
    return { data: Buffer.from(toAnsi(text, kwargs, flags), "utf8"), binary: true };
  },

  prompt(text: string, kwargs: Kwargs, flags: ProtocolFlags): Frame {
    return { data: JSON.stringify({ proto: "prompt", id: "", data: toAnsi(text, kwargs, flags) }), binary: false };
  },

  oob(name: string, args: readonly unknown[], kwargs: Kwargs): Frame | undefined {
    if (name === "options") return undefined;
    return { data: envelope("gmcp", encodeGmcp(name, args, kwargs)), binary: false };
  },
};
