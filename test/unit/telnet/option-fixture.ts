import type { CommandTuple, ProtocolFlags } from "../../../core/index.js";
import { parseTelnetConfig, type TelnetConfig } from "../../../plugins/telnet/config.js";
import { CMD } from "../../../plugins/telnet/telnet-codes.js";
import type { OptionContext } from "../../../plugins/telnet/options/option-base.js";

/** An OptionContext that records everything an option module does. */
export interface RecordingContext extends OptionContext {
  readonly written: string[];
  readonly subnegotiations: { code: number; payload: Buffer }[];
  readonly done: number[];
  readonly oob: CommandTuple[];
  readonly errors: string[];
  /** flagsChanged / handshakeDone calls, in order. */
  readonly calls: string[];
  flagChanges: number;
  compression: string[];
  playerCount: number;
  /** This listener's port as MSSP reports it (4000). */
  port: number;
}

const VERBS: Record<number, string> = { [CMD.WILL]: "WILL", [CMD.WONT]: "WONT", [CMD.DO]: "DO", [CMD.DONT]: "DONT" };

export function recordingContext(config: Record<string, unknown> = {}, flags: ProtocolFlags = {}): RecordingContext {
  const written: string[] = [];
  const ctx: RecordingContext = {
    flags,
    config: parseTelnetConfig(config) as TelnetConfig,
    info: { portalId: "test", serverName: "TestMUD", startTime: 1_700_000_000_123, dataDir: "/tmp/x", version: "0.0.0-test" },
    written,
    subnegotiations: [],
    done: [],
    oob: [],
    errors: [],
    calls: [],
    flagChanges: 0,
    compression: [],
    playerCount: 0,
    port: 4000,
    sendCommand(verb, code) { written.push(`${VERBS[verb] ?? verb} ${code}`); },
    sendSubnegotiation(code, payload) { this.subnegotiations.push({ code, payload: Buffer.from(payload) }); },
    writeRaw(bytes) { written.push(`RAW ${Buffer.from(bytes).toString("hex")}`); },
    startCompression() { this.compression.push("start"); },
    stopCompression() { this.compression.push("stop"); },
    flagsChanged() { this.flagChanges += 1; this.calls.push("flagsChanged"); },
    handshakeDone(code) { this.done.push(code); this.calls.push(`handshakeDone ${code}`); },
    oobIn(commands) { this.oob.push(...commands); },
    players() { return this.playerCount; },
    ownPort() { return this.port; },
    protocolError(message) { this.errors.push(message); },
  };
  return ctx;
}
