import type { Kwargs } from "../messages/command-tuple.js";

/** The shape of every `send_<key>(args, kwargs)` output method. */
export type SendHandler = (args: unknown[], kwargs: Kwargs) => void;

/**
 * Checks a session's `send_*` family at compile time. A session class declares the output keys it
 * handles:
 *
 * ```ts
 * class ChatSession extends SocketSession implements Outputs<ChatSession, "text" | "prompt"> { … }
 * ```
 *
 * Then every listed key must have a `send_<key>(args, kwargs)` method of the right shape, and any
 * other `send_…` member (a typo such as `send_promt`) is a compile error. `send_default` is left
 * alone: it receives every key the session has no method for.
 */
export type Outputs<S, Keys extends string> =
  { [K in Keys as `send_${K}`]: SendHandler } &
  { [K in keyof S as K extends `send_${infer N}` ? (N extends Keys | "default" ? never : K) : never]: never };
