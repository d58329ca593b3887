import { decodeGmcp, encodeGmcp, type Kwargs, type ProtocolFlags } from "../../../core/index.js";
import { ignored, input, type Decoded, type Frame, type WireCodec } from "./codec.js";
import { textLines, toAnsi, utf8 } from "./codec-helpers.js";

/** mudstandards.org `gmcp`: BINARY frames are terminal text both ways, TEXT frames GMCP messages (`Package.Name <json>`). */
export const mudGmcp: WireCodec = {
  name: "gmcp.mudstandards.org",
  carriesOob: true,

  decode(data: Buffer, binary: boolean): Decoded {
    const text = utf8(data);
    if (text === undefined) return ignored("not UTF-8");
    if (binary) return textLines(text);
    if (text.trim() === "") return ignored("empty GMCP message");
    return input(decodeGmcp(text).tuple);
  },

  text(text: string, kwargs: Kwargs, flags: ProtocolFlags): Frame {
    return { data: Buffer.from(toAnsi(text, kwargs, flags), "utf8"), binary: true };
  },

  prompt(text: string, kwargs: Kwargs, flags: ProtocolFlags): Frame {
    return { data: Buffer.from(toAnsi(text, kwargs, flags), "utf8"), binary: true };
  },

  oob(name: string, args: readonly unknown[], kwargs: Kwargs): Frame | undefined {
    if (name === "options") return undefined;
    return { data: encodeGmcp(name, args, kwargs), binary: false };
  },
};
