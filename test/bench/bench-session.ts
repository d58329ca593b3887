import { PortalSession } from "../../core/sessions/portal-session.js";

export type TextHandler = (session: BenchSession, text: string) => void;

/** A socketless session for benchmarks: hands each text line to `onText` and stores nothing. */
export class BenchSession extends PortalSession {
  /** Text lines received so far. */
  texts = 0;
  onText: TextHandler = () => {};

  constructor(address = "127.0.0.1") {
    super("bench", address);
  }

  send_text(args: unknown[]): void {
    this.texts += 1;
    this.onText(this, typeof args[0] === "string" ? args[0] : String(args[0]));
  }

  send_prompt(): void {}

  protected hangUp(): void {
    this.connectionLost();
  }
}
