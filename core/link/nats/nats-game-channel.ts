import type { NatsCredentials } from "../../config/nats-credentials.js";
import type { LinkConfig } from "../../config/portal-config.js";
import { ErrorCodes } from "../../errors/error-codes.js";
import { PortalError, errorMessage } from "../../errors/portal-error.js";
import type { Logger } from "../../logging/logger.js";
import type { Clock, TimerHandle } from "../../time/clock.js";
import type { GameChannel } from "../game-channel.js";
import { takeGameMessage } from "../game-message-intake.js";
import { LINK_VERSION, type PortalToGame } from "../link-messages.js";
import { CONNECTION_NEWS_DELAY_MS, type LinkServerEvents } from "../link-server.js";
import { encodeEnvelope, epochGame, type Envelope, type OutgoingEnvelope } from "./envelope.js";
import { CONTROL_MAX_BYTES, EnvelopeReader, closeNats, connectNats, readJson, watchNats, type NatsConnection } from "./nats-connection.js";
import { NatsSubjects } from "./nats-subjects.js";
import { ReliableEpoch } from "./reliable-epoch.js";

export interface NatsGameChannelOptions {
  link: LinkConfig;
  credentials: NatsCredentials;
  portalId: string;
  portalRun: number;
  logger: Logger;
  clock: Clock;
}

const CONNECTION_NEWS: ReadonlySet<PortalToGame["op"]> = new Set(["session-connect", "session-connect-sync", "session-disconnect"]);
/** Game process ids (NATS subject tokens) a hello may carry. */
const GAME_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** How long the start waits for a live portal with the same id to answer. */
const WHOIS_TIMEOUT_MS = 750;
/** The reset a replaced game process gets (it then stops linking, as over TCP). */
const REPLACED_REASON = `${ErrorCodes.LINK_REPLACED}: another game process said hello to this portal`;

/**
 * The portal's end of the link over NATS: it is one of possibly several portals serving one game.
 * A game process announces itself with a hello; the portal then opens an epoch with it (a reliable,
 * ordered exchange of the usual link messages, see ReliableEpoch) and hands it its sessions, exactly
 * as when a game connects over TCP. While it has no game it says so on the beacon subject every
 * heartbeat, so a game that starts later, or lost this portal, says hello to it.
 */
export class NatsGameChannel implements GameChannel {
  private nc: NatsConnection | undefined;
  private epoch: ReliableEpoch | undefined;
  private epochCount = 0;
  private epochOpenedAt = 0;
  private beaconTimer: TimerHandle | undefined;
  private reader: EnvelopeReader | undefined;
  private readonly subjects: NatsSubjects;
  private readonly resetsSent = new Map<string, number>();
  /** Game processes replaced by a newer one (their hellos are refused; newest last, at most 64 kept). */
  private readonly replaced = new Set<string>();
  private frameLimit: number;
  private events: LinkServerEvents = { gameConnected() {}, gameMessage() {}, gameDisconnected() {} };
  private stopped = false;

  constructor(private readonly options: NatsGameChannelOptions) {
    this.subjects = new NatsSubjects(options.link.nats.prefix);
    this.frameLimit = options.link.maxFrameBytes;
  }

  get connected(): boolean {
    return this.epoch !== undefined && !this.epoch.closed;
  }

  /** Where the link is, for status: the NATS servers and this game's subject prefix. */
  get address(): { transport: "nats"; servers: string[]; prefix: string; connected_server: string | null } {
    return { transport: "nats", servers: this.options.link.nats.servers, prefix: this.subjects.prefix, connected_server: this.nc?.getServer() ?? null };
  }

  /** The largest frame used both ways: link.maxFrameBytes, or the NATS server's max_payload when smaller. */
  get maxFrameBytes(): number {
    return this.frameLimit;
  }

  /**
   * Connects to NATS and checks it can serve as this portal's link: its max_payload must hold a
   * session's largest server_data (PORTAL_ERR_NATS_CONFIG), and no live portal may already use this
   * portal's id (PORTAL_ERR_NATS_PORTAL_ID). Returns the frame limit in use.
   */
  async connect(): Promise<number> {
    const { link, portalId } = this.options;
    const nc = await connectNats(link.nats, this.options.credentials, `portico-${portalId}`);
    this.nc = nc;
    try {
      const maxPayload = nc.info?.max_payload ?? link.maxFrameBytes;
      this.frameLimit = Math.min(link.maxFrameBytes, maxPayload);
      if (link.maxServerDataBytes * 4 > this.frameLimit) {
        throw new PortalError(ErrorCodes.NATS_CONFIG, `the NATS server's max_payload is ${maxPayload} bytes, too small for link.maxServerDataBytes ${link.maxServerDataBytes} (a frame must hold four times it): raise max_payload in nats-server.conf (8MB is the documented setting) or lower link.maxServerDataBytes`, { maxPayload });
      }
      await this.checkIdFree();
    } catch (err) {
      await nc.close().catch(() => undefined);
      this.nc = undefined;
      throw err;
    }
    return this.frameLimit;
  }

  /** Subscribes and starts announcing; `events` receive the game's epochs and messages from now on. */
  async start(events: LinkServerEvents): Promise<void> {
    if (!this.nc) await this.connect();
    const nc = this.nc!;
    this.events = events;
    const { portalId, logger } = this.options;
    this.reader = new EnvelopeReader(this.frameLimit, logger);
    nc.subscribe(this.subjects.portal(portalId), { callback: (err, msg) => (err ? this.subscriptionError(err) : this.onPortalSubject(msg.data)) });
    nc.subscribe(this.subjects.hello, { callback: (err, msg) => (err ? this.subscriptionError(err) : this.onHello(readJson(msg.data))) });
    nc.subscribe(this.subjects.whois(portalId), {
      callback: (err, msg) => {
        if (err) return this.subscriptionError(err);
        msg.respond(JSON.stringify({ portal_id: portalId, run: this.options.portalRun, pid: process.pid }));
      },
    });
    watchNats(nc, logger, {
      down: () => this.epoch?.pause(),
      up: () => {
        this.epoch?.resume();
        if (!this.connected) this.beacon();
      },
    });
    await nc.flush();
    this.scheduleBeacon();
  }

  send(msg: PortalToGame): void {
    this.epoch?.send(msg, CONNECTION_NEWS.has(msg.op) ? CONNECTION_NEWS_DELAY_MS : 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.options.clock.clearTimeout(this.beaconTimer);
    this.beaconTimer = undefined;
    const epoch = this.epoch;
    if (epoch && !epoch.closed) {
      // What is queued (the disconnect-all) goes out, then the game is told the epoch is over rather than left to time out.
      epoch.flush();
      this.publish(epochGame(epoch.id), { e: epoch.id, r: "portal stopped" });
      epoch.close();
    }
    this.reader?.close();
    const nc = this.nc;
    this.nc = undefined;
    if (nc) await closeNats(nc);
  }

  private async checkIdFree(): Promise<void> {
    const { portalId } = this.options;
    let answer: Record<string, unknown> | undefined;
    try {
      const reply = await this.nc!.request(this.subjects.whois(portalId), "", { timeout: WHOIS_TIMEOUT_MS });
      answer = readJson(reply.data) ?? {};
    } catch {
      return; // no responders, or no answer in time: the id is free
    }
    throw new PortalError(ErrorCodes.NATS_PORTAL_ID, `another live portal (pid ${String(answer.pid)}, run ${String(answer.run)}) already serves this game as "${portalId}" on prefix ${this.subjects.prefix}; give each portal its own portalId`, { portalId });
  }

  private onHello(hello: Record<string, unknown> | undefined): void {
    if (this.stopped) return;
    const game = hello?.game;
    if (!hello || hello.op !== "hello" || typeof game !== "string" || !GAME_ID.test(game) || (hello.info !== undefined && (typeof hello.info !== "object" || hello.info === null))) {
      this.reader?.drop(this.subjects.hello, ErrorCodes.LINK_MESSAGE, "malformed hello on the link's NATS subjects; dropped");
      return;
    }
    if (this.replaced.has(game)) {
      this.publish(game, { e: `${game}~0.0`, r: REPLACED_REASON });
      return;
    }
    if (hello.version !== LINK_VERSION) {
      const message = `link version ${String(hello.version)} is not supported; this portal speaks ${LINK_VERSION}`;
      this.options.logger.warn({ code: ErrorCodes.LINK_VERSION, game }, message);
      this.publish(game, { e: `${game}~0.0`, r: `${ErrorCodes.LINK_VERSION}: ${message}` });
      return;
    }
    const previous = this.epoch;
    if (previous && !previous.closed) {
      // The same game's hello twice in a heartbeat (its broadcast and its answer to our beacon crossing): one epoch is enough.
      if (epochGame(previous.id) === game && this.options.clock.now() - this.epochOpenedAt < this.options.link.heartbeatMs) return;
      if (epochGame(previous.id) !== game) {
        // Told now, and again whenever it sends on its old epoch: it stops saying hello, so two games never take the portal back and forth.
        this.rememberReplaced(epochGame(previous.id));
        previous.send({ op: "error", code: ErrorCodes.LINK_REPLACED, message: "another game process said hello; this link is closed" });
        previous.flush();
        previous.close(new PortalError(ErrorCodes.LINK_REPLACED, "replaced by a newly connected game"));
      } else previous.close(new PortalError(ErrorCodes.LINK_DOWN, "the game started its link again"));
    }
    this.openEpoch(game, hello);
  }

  private openEpoch(game: string, hello: Record<string, unknown>): void {
    const { link, logger, clock } = this.options;
    const id = `${game}~${this.options.portalRun}.${++this.epochCount}`;
    const epoch: ReliableEpoch = new ReliableEpoch({
      id, clock, maxFrameBytes: this.frameLimit, batchMaxBytes: link.batchMaxBytes, heartbeatMs: link.heartbeatMs,
      heartbeatTimeoutMs: link.heartbeatTimeoutMs, resendMs: link.nats.resendMs, maxBufferedBytes: link.maxBufferedBytes,
      publish: (env) => this.publish(game, env),
    }, {
      frame: (msgs) => {
        for (const raw of msgs) {
          if (epoch !== this.epoch) return;
          takeGameMessage(raw, (msg) => this.events.gameMessage(msg), (msg) => epoch.send(msg), logger);
        }
      },
      fault: (err) => {
        logger.warn({ code: err.code }, err.message);
        epoch.send({ op: "error", code: err.code, message: err.message });
      },
      closed: (err) => {
        if (epoch !== this.epoch) return;
        this.epoch = undefined;
        if (err) logger.warn({ code: err.code }, `game link lost: ${err.message}`);
        this.events.gameDisconnected(err);
        if (!this.stopped) this.beacon();
      },
    });
    this.epoch = epoch;
    this.epochOpenedAt = clock.now();
    logger.info({ game, epoch: id, gamePid: hello.pid, info: hello.info }, "game linked over NATS");
    this.events.gameConnected({ op: "hello", version: LINK_VERSION, secret: "", ...(typeof hello.pid === "number" ? { pid: hello.pid } : {}), info: (hello.info ?? {}) as Record<string, unknown> });
  }

  private onPortalSubject(data: Uint8Array): void {
    if (this.stopped) return;
    // Parsed once: a hello (small) or an envelope of an epoch.
    const subject = this.subjects.portal(this.options.portalId);
    const parsed = this.reader?.decode(subject, data);
    if (parsed === undefined) return;
    const op = (parsed as { op?: unknown } | null)?.op;
    if (op === "hello" && data.length <= CONTROL_MAX_BYTES) return this.onHello(parsed as Record<string, unknown>);
    const env = this.reader?.envelope(subject, parsed);
    if (!env) return;
    const epoch = this.epoch;
    if (!epoch || env.e !== epoch.id) {
      if (env.r === undefined) this.tellUnknown(env);
      return;
    }
    if (env.r !== undefined) epoch.close(new PortalError(ErrorCodes.LINK_DOWN, `the game ended the link: ${env.r}`));
    else epoch.receive(env);
  }

  /** A game still sending in an epoch this portal no longer has is told so (once per epoch per second), and says hello again. */
  private tellUnknown(env: Envelope): void {
    const now = this.options.clock.now();
    if (now - (this.resetsSent.get(env.e) ?? 0) < 1000) return;
    if (this.resetsSent.size > 256) this.resetsSent.clear();
    this.resetsSent.set(env.e, now);
    const game = epochGame(env.e);
    this.publish(game, { e: env.e, r: this.replaced.has(game) ? REPLACED_REASON : "unknown epoch" });
  }

  private publish(game: string, env: OutgoingEnvelope): void {
    const nc = this.nc;
    if (!nc || nc.isClosed()) return;
    try {
      nc.publish(this.subjects.game(game, this.options.portalId), encodeEnvelope(env));
    } catch (err) {
      // Unacknowledged frames go again later; a refusal here is only logged.
      this.options.logger.debug({ code: ErrorCodes.NATS_CONNECT, err }, `publish failed: ${errorMessage(err)}`);
    }
  }

  private beacon(): void {
    const nc = this.nc;
    if (!nc || nc.isClosed() || this.connected) return;
    try {
      nc.publish(this.subjects.beacon, JSON.stringify({ op: "portal-here", portal_id: this.options.portalId, run: this.options.portalRun, version: LINK_VERSION }));
    } catch {
      // Said again next heartbeat.
    }
  }

  private scheduleBeacon(): void {
    this.beacon();
    this.beaconTimer = this.options.clock.setTimeout(() => {
      if (!this.stopped) this.scheduleBeacon();
    }, this.options.link.heartbeatMs);
  }

  private rememberReplaced(game: string): void {
    this.replaced.add(game);
    if (this.replaced.size > 64) this.replaced.delete(this.replaced.values().next().value!);
  }

  private subscriptionError(err: Error): void {
    this.options.logger.error({ code: ErrorCodes.NATS_CONFIG, err }, `NATS refused a subscription of the link (check this user's subject permissions, docs/scaling.md): ${errorMessage(err)}`);
  }
}
