// Ambient declarations for the parts of telnetlib 1.0.2 Portico uses (the package ships no types).
declare module "telnetlib" {
  import { EventEmitter } from "node:events";

  export type OptionState = "NO" | "YES" | "WANTNO" | "WANTYES";
  export type QueueState = "EMPTY" | "OPPOSITE";
  export type Where = "LOCAL" | "REMOTE";

  /** What a TelnetOption expects of its socket. */
  export interface OptionHost {
    remoteOptions: Set<number>;
    localOptions: Set<number>;
    writer: { writeWill(code: number): void; writeWont(code: number): void; writeDo(code: number): void; writeDont(code: number): void };
    emit(event: string, ...args: unknown[]): boolean;
  }

  /** RFC 1143 ("Q method") negotiation state for one option. */
  export class TelnetOption extends EventEmitter {
    constructor(socket: OptionHost, code: number);
    code: number;
    socket: OptionHost;
    us: OptionState;
    usq: QueueState;
    him: OptionState;
    himq: QueueState;
    enabledLocal: boolean;
    enabledRemote: boolean;
    enabled(at: Where): void;
    disabled(at: Where): void;
    subnegotiation(buffer: Buffer): void;
    handleWill(): void;
    handleWont(): void;
    handleDo(): void;
    handleDont(): void;
  }

  export const constants: {
    commands: Record<string, number>;
    optionState: Record<OptionState, OptionState>;
    q: Record<QueueState, QueueState>;
    where: Record<Where, Where>;
  };

  const telnetlib: { TelnetOption: typeof TelnetOption; constants: typeof constants };
  export default telnetlib;
}
