import type { CommandTuple, ProtocolFlags } from "../../../core/index.js";
import { MemoryLogger } from "../../../core/testing/index.js";
import { parseTelnetConfig, type TelnetConfig } from "../../../plugins/telnet/config.js";
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
}

export function recordingContext(config: Record<string, unknown> = {}, flags: ProtocolFlags = {}): RecordingContext {
  const written: string[] = [];
  const ctx: RecordingContext = {
    host: {
      remoteOptions: new Set<number>(),
      localOptions: new Set<number>(),
      writer: {
        writeWill: (c) => written.push(`WILL ${c}`),
        writeWont: (c) => written.push(`WONT ${c}`),
        writeDo: (c) => written.push(`DO ${c}`),
        writeDont: (c) => written.push(`DONT ${c}`),
      },
      emit: () => true,
    },
    flags,
    config: parseTelnetConfig(config) as TelnetConfig,
    logger: new MemoryLogger(),
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
    sendSubnegotiation(code, payload) { this.subnegotiations.push({ code, payload: Buffer.from(payload) }); },
    writeRaw(bytes) { written.push(`RAW ${Buffer.from(bytes).toString("hex")}`); },
    startCompression() { this.compression.push("start"); },
    stopCompression() { this.compression.push("stop"); },
    flagsChanged() { this.flagChanges += 1; this.calls.push("flagsChanged"); },
    handshakeDone(code) { this.done.push(code); this.calls.push(`handshakeDone ${code}`); },
    oobIn(commands) { this.oob.push(...commands); },
    players() { return this.playerCount; },
    protocolError(message) { this.errors.push(message); },
  };
  return ctx;
}
