import type { Kwargs } from "../messages/command-tuple.js";
import { CORE, PortalSession } from "../sessions/portal-session.js";

/** A session with no transport that records everything sent to it; for handler and plugin tests. */
export class RecordingSession extends PortalSession {
  readonly sent: { name: string; args: unknown[]; kwargs: Kwargs }[] = [];
  closeReasons: (string | undefined)[] = [];

  constructor(address: string | null = "127.0.0.1", protocolKey = "test") {
    super(protocolKey, address);
  }

  /** Text lines received so far. */
  get texts(): string[] {
    return this.sent.filter((s) => s.name === "text").map((s) => String(s.args[0]));
  }

  /** True once the game has been told about this session. */
  get announced(): boolean {
    return this[CORE].announced;
  }

  input(text: string): void {
    this.dataIn(["text", [text], {}]);
  }

  inputBytes(bytes: Buffer): void {
    this.textIn(bytes);
  }

  oob(name: string, args: unknown[] = [], kwargs: Kwargs = {}): void {
    this.dataIn([name, args, kwargs]);
  }

  /** Tells the portal the protocol flags changed. */
  flagsChanged(): void {
    this.syncFlags();
  }

  /** Simulates the client going away. */
  drop(): void {
    this.connectionLost();
  }

  send_text(args: unknown[], kwargs: Kwargs): void {
    this.sent.push({ name: "text", args, kwargs });
  }

  send_prompt(args: unknown[], kwargs: Kwargs): void {
    this.sent.push({ name: "prompt", args, kwargs });
  }

  override send_default(name: string, args: unknown[], kwargs: Kwargs): void {
    this.sent.push({ name: `default:${name}`, args, kwargs });
  }

  protected hangUp(reason?: string): void {
    this.closeReasons.push(reason);
    this.connectionLost();
  }
}
