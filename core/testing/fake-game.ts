import type { PortalToGame } from "../link/link-messages.js";
import type { CommandTuple, Kwargs } from "../messages/command-tuple.js";
import type { PortalSessionHandler } from "../sessions/portal-session-handler.js";
import type { SyncData } from "../sessions/session-data.js";
import { MemoryChannel } from "./memory-channel.js";
import { waitFor } from "./wait-for.js";

/** One input the game received. */
export interface GameInput {
  sessid: string;
  name: string;
  args: unknown[];
  kwargs: Kwargs;
}

/**
 * A scripted game on the far side of an in-memory link: it records what the portal sends (new
 * sessions, input, disconnects), answers through the handler as a real game would over the link,
 * and can run a script on every input (`onInput`).
 */
export class FakeGame extends MemoryChannel {
  private handler: PortalSessionHandler | undefined;
  private script: ((input: GameInput, game: FakeGame) => void) | undefined;

  /** Connects the game to the handler it answers through. */
  attach(handler: PortalSessionHandler): void {
    this.handler = handler;
  }

  /** Whether the fake game acknowledges input as it receives it (as the SDK does); turn off to test unacknowledged input. */
  autoAck = true;

  override send(msg: PortalToGame): void {
    super.send(msg);
    if (msg.op !== "data-in" || !this.connected) return;
    // Acknowledged after the portal's call returns, as an acknowledgement over a real link would arrive.
    if (this.autoAck) queueMicrotask(() => this.ack(msg.sessid, msg.seq + msg.cmds.length - 1));
    if (!this.script) return;
    for (const [name, args, kwargs] of msg.cmds) this.script({ sessid: msg.sessid, name, args: [...args], kwargs }, this);
  }

  /** Acknowledges a session's input up to `seq`, as the game's `ack` message would. */
  ack(sessid: string, seq: number): void {
    if (!this.handler?.get(sessid)) return;
    try {
      this.handler.server_ack({ [sessid]: seq });
    } catch (err) {
      this.ackErrors.push(err);
    }
  }

  /** Acknowledgements the portal refused (a test that expects none can assert this stays empty). */
  readonly ackErrors: unknown[] = [];

  /** Runs `script` on every input from now on (e.g. an echo). */
  onInput(script: (input: GameInput, game: FakeGame) => void): void {
    this.script = script;
  }

  /** Sessions announced to the game and not disconnected since. */
  get sessions(): SyncData[] {
    const gone = new Set(this.ofOp("session-disconnect").map((m) => m.sessid));
    return this.ofOp("session-connect").map((m) => m.session).filter((s) => !gone.has(s.sessid));
  }

  get inputs(): GameInput[] {
    return this.ofOp("data-in").flatMap((m) => m.cmds.map(([name, args, kwargs]) => ({ sessid: m.sessid, name, args: [...args], kwargs })));
  }

  /** Resolves with the first session announced after `known` sessions (default: after the ones announced so far). */
  async nextSession(timeoutMs = 5000, known = this.ofOp("session-connect").length): Promise<SyncData> {
    return waitFor(() => this.ofOp("session-connect")[known]?.session, timeoutMs, "a new session announced to the game");
  }

  /** Resolves with the first input matching (a text containing the string, or a predicate). */
  async nextInput(match: string | ((input: GameInput) => boolean), timeoutMs = 5000): Promise<GameInput> {
    const test = typeof match === "string" ? (i: GameInput) => i.args.some((a) => typeof a === "string" && a.includes(match)) : match;
    return waitFor(() => this.inputs.find(test), timeoutMs, () => `input matching ${String(match)} (inputs so far: ${JSON.stringify(this.inputs.slice(-5))})`);
  }

  /** Resolves once the portal told the game that `sessid` is gone. */
  async disconnected(sessid: string, timeoutMs = 5000): Promise<void> {
    await waitFor(() => this.ofOp("session-disconnect").some((m) => m.sessid === sessid), timeoutMs, `session-disconnect for ${sessid}`);
  }

  /** Sends output instructions to a session, as `data-out` over the link would. */
  output(sessid: string, ...cmds: CommandTuple[]): void {
    this.need().data_out(sessid, cmds);
  }

  /** Sends one line of text to a session. */
  msg(sessid: string, text: string, kwargs: Kwargs = {}): void {
    this.output(sessid, ["text", [text], kwargs]);
  }

  login(sessid: string, uid: number | string, uname?: string): void {
    this.need().server_logged_in(sessid, uid, uname);
  }

  disconnect(sessid: string, reason?: string): void {
    this.need().server_disconnect(sessid, reason);
  }

  private need(): PortalSessionHandler {
    if (!this.handler) throw new Error("FakeGame: attach(handler) first");
    return this.handler;
  }
}
