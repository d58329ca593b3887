/** What a dotted path resolves to: one listener (inbound) or one bot connection (outbound). */
export interface ProtocolFactory {
  /** Listening, or the first connection attempt made. Rejects when the plugin cannot start. */
  start(): Promise<void>;
  /** Idempotent; closes the listener or client and every socket it opened. */
  stop(reason?: string): Promise<void>;
  /** Optional: re-read what can change without dropping anyone (certificates); called on SIGHUP. */
  reload?(): Promise<void>;
  /** Optional facts for status (bound port, state). */
  status?(): Record<string, unknown>;
}

export type FactoryClass = new (...args: never[]) => ProtocolFactory;
