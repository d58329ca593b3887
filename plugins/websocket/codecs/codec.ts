import type { CommandTuple, Kwargs, ProtocolFlags } from "../../../core/index.js";

/** One websocket frame to send: a TEXT frame (string) or a BINARY frame (Buffer). */
export interface Frame {
  readonly data: string | Buffer;
  readonly binary: boolean;
}

/** What a client frame means: input for the game, a request to end the session, or nothing (with why). */
export type Decoded =
  | { readonly kind: "input"; readonly commands: CommandTuple[] }
  | { readonly kind: "close" }
  | { readonly kind: "ignored"; readonly why: string };

/** Limits the decoders apply to what clients send. */
export interface DecodeLimits {
  /** Deepest JSON nesting accepted; deeper frames are ignored before they are parsed. */
  readonly maxJsonDepth: number;
}

/**
 * A wire format, chosen by the websocket subprotocol. Decoders never throw: a frame they cannot use
 * is `ignored` with a reason. Encoders return undefined for output the format cannot carry.
 */
export interface WireCodec {
  /** The subprotocol name (`v1.evennia.com` is also the format of a client that offers none). */
  readonly name: string;
  /** Whether the format carries out-of-band messages (the session's OOB flag). */
  readonly carriesOob: boolean;
  decode(data: Buffer, binary: boolean, limits: DecodeLimits): Decoded;
  text(text: string, kwargs: Kwargs, flags: ProtocolFlags): Frame | undefined;
  prompt(text: string, kwargs: Kwargs, flags: ProtocolFlags): Frame | undefined;
  oob(name: string, args: readonly unknown[], kwargs: Kwargs): Frame | undefined;
}

export const ignored = (why: string): Decoded => ({ kind: "ignored", why });
export const input = (...commands: CommandTuple[]): Decoded => ({ kind: "input", commands });
