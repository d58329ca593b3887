import type { Kwargs, ProtocolFlags } from "../../../core/index.js";
import { ignored, type Decoded, type Frame, type WireCodec } from "./codec.js";
import { textLines, toAnsi, utf8 } from "./codec-helpers.js";

/** mudstandards.org `terminal`: any frame in is text; text and prompts go out as BINARY ANSI; no out-of-band data. */
export const mudTerminal: WireCodec = {
  name: "terminal.mudstandards.org",
  carriesOob: false,

  decode(data: Buffer): Decoded {
    const text = utf8(data);
    return text === undefined ? ignored("not UTF-8") : textLines(text);
  },

  text(text: string, kwargs: Kwargs, flags: ProtocolFlags): Frame {
    return { data: Buffer.from(toAnsi(text, kwargs, flags), "utf8"), binary: true };
  },

  prompt(text: string, kwargs: Kwargs, flags: ProtocolFlags): Frame {
    return { data: Buffer.from(toAnsi(text, kwargs, flags), "utf8"), binary: true };
  },

  oob(): undefined {
    return undefined;
  },
};
