/**
 * What a dotted path resolves to: one listener (inbound) or one bot (outbound). The base classes
 * `SocketListener`, `InboundListener` and `OutboundBot` implement it; a factory written from
 * scratch implements it directly and gets its `PluginContext` with `@inject(PLUGIN_CONTEXT)`.
 */
export interface ProtocolFactory {
  /** Listening, or the first connection attempt made. Rejects when the plugin cannot start. Idempotent. */
  start(): Promise<void>;
  /** Idempotent; closes the listener or client and every socket and timer it opened. */
  stop(): Promise<void>;
  /** Optional: re-read what can change without dropping anyone (certificates); called on SIGHUP. */
  reload?(): Promise<void>;
  /** Optional facts for status (`state`, bound port, connections). */
  status?(): Record<string, unknown>;
}

/** A factory class: constructed with the plugin's context, or by tsyringe when it declares its own injected constructor. */
export type FactoryClass = new (...args: never[]) => ProtocolFactory;
