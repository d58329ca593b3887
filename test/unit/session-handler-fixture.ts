/** Shared set-up for the PortalSessionHandler unit tests (not a test file itself). */
import { DEFAULT_CONFIG, type LimitsConfig, type MessagesConfig, type PortalConfig } from "../../core/config/portal-config.js";
import type { PortalToGame } from "../../core/link/link-messages.js";
import type { Launcher, LaunchResult } from "../../core/plugins/launcher.js";
import { PortalSessionHandler } from "../../core/sessions/portal-session-handler.js";
import { SessidAllocator } from "../../core/sessions/sessid-allocator.js";
import { FakeClock, MemoryChannel, MemoryLogger, RecordingSession } from "../../core/testing/index.js";

/** A MemoryChannel that also records when (fake clock time) each message was sent. */
export class TimedChannel extends MemoryChannel {
  readonly log: { at: number; msg: PortalToGame }[] = [];

  /** Acknowledges every data-in at once, as a game taking input in would (set false to leave input unacknowledged). */
  autoAck = true;
  handler: PortalSessionHandler | undefined;

  constructor(private readonly clock: FakeClock) {
    super();
  }

  override send(msg: PortalToGame): void {
    if (this.connected) this.log.push({ at: this.clock.now(), msg });
    super.send(msg);
    if (this.connected && this.autoAck && msg.op === "data-in") this.handler?.server_ack({ [msg.sessid]: msg.seq + msg.cmds.length - 1 });
  }

  /** Fake-clock time of the session-connect for `sessid`, or undefined. */
  announcedAt(sessid: string): number | undefined {
    return this.log.find((e) => e.msg.op === "session-connect" && e.msg.session.sessid === sessid)?.at;
  }

  /** Every command forwarded for `sessid`, in order. */
  cmdsFor(sessid: string): unknown[] {
    return this.ofOp("data-in").filter((m) => m.sessid === sessid).flatMap((m) => m.cmds);
  }
}

export class FakeLauncher implements Launcher {
  readonly calls: { path: string; config: Record<string, unknown> }[] = [];

  async launch(path: string, rawConfig: Record<string, unknown>): Promise<LaunchResult> {
    this.calls.push({ path, config: rawConfig });
    return { id: `${path}#${this.calls.length}`, path };
  }
}

/** A RecordingSession that also counts at_login calls (and can be told to throw from it). */
export class TestSession extends RecordingSession {
  logins = 0;
  throwOnLogin = false;

  constructor(address: string | null = "127.0.0.1", protocolKey = "test") {
    super(address, protocolKey);
  }

  override at_login(): void {
    this.logins += 1;
    if (this.throwOnLogin) throw new Error("at_login exploded");
  }
}

export interface HarnessOptions {
  limits?: Partial<LimitsConfig>;
  messages?: Partial<MessagesConfig>;
  serverName?: string;
  portalId?: string;
  run?: number;
  /** Whether the game link starts connected (default true). */
  gameConnected?: boolean;
  /** The game acknowledges input as it arrives (default true). */
  autoAck?: boolean;
  link?: Partial<PortalConfig["link"]>;
}

export interface Harness {
  handler: PortalSessionHandler;
  clock: FakeClock;
  channel: TimedChannel;
  logger: MemoryLogger;
  launcher: FakeLauncher;
  config: PortalConfig;
  /** A new session (not yet connected to the handler). */
  session(address?: string | null, protocolKey?: string): TestSession;
  /** A new session, already passed to handler.connect(). */
  connect(address?: string | null, protocolKey?: string): TestSession;
}

export function makeHarness(opts: HarnessOptions = {}): Harness {
  const config = structuredClone(DEFAULT_CONFIG);
  Object.assign(config.limits, opts.limits ?? {});
  Object.assign(config.messages, opts.messages ?? {});
  Object.assign(config.link, opts.link ?? {});
  if (opts.serverName !== undefined) config.serverName = opts.serverName;
  if (opts.portalId !== undefined) config.portalId = opts.portalId;
  const clock = new FakeClock();
  const channel = new TimedChannel(clock);
  channel.connected = opts.gameConnected ?? true;
  const logger = new MemoryLogger();
  const launcher = new FakeLauncher();
  const handler = new PortalSessionHandler({
    config,
    clock,
    logger,
    allocator: new SessidAllocator(config.portalId ?? "portal", opts.run ?? 1),
    channel,
  });
  channel.handler = handler;
  channel.autoAck = opts.autoAck ?? true;
  const session = (address: string | null = "127.0.0.1", protocolKey = "test") => new TestSession(address, protocolKey);
  return {
    handler, clock, channel, logger, launcher, config, session,
    connect(address, protocolKey) {
      const s = session(address, protocolKey);
      handler.connect(s);
      return s;
    },
  };
}
