import type { Kwargs } from "../messages/command-tuple.js";
import { PortalSession } from "../sessions/portal-session.js";
import type { SessionPort } from "../sessions/session-port.js";

/** A session with no socket that records everything sent to it; for handler and plugin tests. */
export class RecordingSession extends PortalSession {
  readonly sent: { name: string; args: unknown[]; kwargs: Kwargs }[] = [];
  closeReasons: (string | undefined)[] = [];

  constructor(port: SessionPort, address: string | null = "127.0.0.1", protocolKey = "test", now?: number) {
    super(port, protocolKey, address, now);
  }

  /** Text lines received so far. */
  get texts(): string[] {
    return this.sent.filter((s) => s.name === "text").map((s) => String(s.args[0]));
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

  /** Simulates the client going away. */
  drop(): void {
    this.closed();
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

  close(reason?: string): void {
    this.closeReasons.push(reason);
    if (reason) this.send_text([reason], {});
    this.closed();
  }
}
