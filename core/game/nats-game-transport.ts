import { randomBytes } from "node:crypto";
import type { NatsCredentials } from "../config/nats-credentials.js";
import { DEFAULT_CONFIG, type LinkConfig, type NatsLinkConfig } from "../config/portal-config.js";
import { ErrorCodes } from "../errors/error-codes.js";
import { PortalError, errorMessage } from "../errors/portal-error.js";
import { LINK_VERSION, parsePortalMessage, parseRefusal, type GameToPortal, type PortalToGame } from "../link/link-messages.js";
import { encodeEnvelope, epochGame, epochRun, type Envelope, type OutgoingEnvelope } from "../link/nats/envelope.js";
import { EnvelopeReader, closeNats, connectNats, readJson, watchNats, type NatsConnection } from "../link/nats/nats-connection.js";
import { NatsSubjects } from "../link/nats/nats-subjects.js";
import { ReliableEpoch } from "../link/nats/reliable-epoch.js";
import type { Logger } from "../logging/logger.js";
import { PORTAL_ID } from "../state/data-dir.js";
import { systemClock, type Clock } from "../time/clock.js";
import type { GameTransport, GameTransportEvents } from "./game-transport.js";

export interface NatsGameTransportOptions {
  nats: NatsLinkConfig;
  credentials: NatsCredentials;
  /** Heartbeat and size settings; the portals' (DEFAULT_CONFIG.link) unless given. */
  link?: Partial<Pick<LinkConfig, "maxFrameBytes" | "batchMaxBytes" | "heartbeatMs" | "heartbeatTimeoutMs" | "maxBufferedBytes">>;
  /** Sent in the hello (shown in portal logs). */
  info?: Record<string, unknown>;
  logger?: Logger;
  clock?: Clock;
}

interface PortalLink {
  epoch: ReliableEpoch;
  /** True once the portal's portal-sync is complete on this epoch. */
  synced: boolean;
  /** Set when a newer epoch from the same portal took over: closing this one is not news. */
  superseded: boolean;
}


/**
 * The game's end of the link over NATS: one game process, any number of portals. It says hello to
 * every portal (and again to any portal whose beacon says it has no game); each portal answers by
 * opening an epoch with a portal-sync, exactly as over TCP. Keys are portal ids.
 */
export class NatsGameTransport implements GameTransport {
  readonly dropsSessionsOnDown = true;
  readonly keysArePortalIds = true;
  /** Every live portal answers a new game's hello within a round trip; a heartbeat leaves room for a busy one. */
  get settleMs(): number {
    return this.link.heartbeatMs;
  }
  /** This process's id on the link (its subjects and epochs carry it). */
  readonly gameId = randomBytes(12).toString("base64url");
  private nc: NatsConnection | undefined;
  private readonly links = new Map<string, PortalLink>();
  private readonly hellos = new Map<string, number>();
  private readonly subjects: NatsSubjects;
  private readonly clock: Clock;
  private readonly link: Pick<LinkConfig, "maxFrameBytes" | "batchMaxBytes" | "heartbeatMs" | "heartbeatTimeoutMs" | "maxBufferedBytes">;
  private reader: EnvelopeReader | undefined;
  private events: GameTransportEvents = { frame() {}, down() {} };
  private stopped = false;
  private replaced = false;
  private opening: Promise<void> | undefined;

  constructor(private readonly options: NatsGameTransportOptions) {
    this.subjects = new NatsSubjects(options.nats.prefix);
    this.clock = options.clock ?? systemClock;
    this.link = { ...DEFAULT_CONFIG.link, ...options.link };
  }

  /** Connects to NATS (PORTAL_ERR_NATS_AUTH or PORTAL_ERR_NATS_CONNECT when it cannot); start() uses it. */
  open(): Promise<void> {
    this.opening ??= (async () => {
      this.nc = await connectNats(this.options.nats, this.options.credentials, `portico-game-${this.gameId}`);
      const maxPayload = this.nc.info?.max_payload;
      if (maxPayload !== undefined) this.link.maxFrameBytes = Math.min(this.link.maxFrameBytes, maxPayload);
    })();
    return this.opening;
  }

  start(events: GameTransportEvents): void {
    this.events = events;
    this.stopped = false;
    this.open().then(() => this.subscribe(), (err: unknown) => this.log("error", ErrorCodes.NATS_CONNECT, `game link over NATS did not start: ${errorMessage(err)}`));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const [portal, link] of this.links) {
      link.superseded = true;
      link.epoch.close();
      // Tell the portal now rather than leave it to its heartbeat timeout.
      this.publish(portal, { e: link.epoch.id, r: "game stopped" });
    }
    this.links.clear();
    this.reader?.close();
    await this.opening?.catch(() => undefined);
    const nc = this.nc;
    this.nc = undefined;
    if (nc) await closeNats(nc);
  }

  send(portal: string, msg: GameToPortal): boolean {
    const link = this.links.get(portal);
    if (!link || !link.synced || link.epoch.closed) return false;
    link.epoch.send(msg);
    return true;
  }

  flush(portal: string): void {
    this.links.get(portal)?.epoch.flush();
  }

  linked(portal: string): boolean {
    const link = this.links.get(portal);
    return link !== undefined && link.synced && !link.epoch.closed;
  }

  private subscribe(): void {
    const nc = this.nc;
    if (!nc || this.stopped) return;
    this.reader = new EnvelopeReader(this.link.maxFrameBytes, this.options.logger ?? silent);
    const prefixLength = this.subjects.gameAll(this.gameId).length - 1;
    nc.subscribe(this.subjects.gameAll(this.gameId), { callback: (err, msg) => { if (!err) this.onEnvelope(msg.subject.slice(prefixLength), msg.data); } });
    nc.subscribe(this.subjects.beacon, { callback: (err, msg) => { if (!err) this.onBeacon(readJson(msg.data)); } });
    watchNats(nc, this.options.logger ?? silent, {
      down: () => { for (const l of this.links.values()) l.epoch.pause(); },
      // Linked portals resume their epochs (a hello now would make them start new ones); portals without a game beacon.
      up: () => { for (const l of this.links.values()) l.epoch.resume(); },
    });
    this.sayHello(this.subjects.hello);
  }

  private sayHello(subject: string): void {
    if (this.stopped || this.replaced || !this.nc || this.nc.isClosed()) return;
    const hello = { op: "hello", version: LINK_VERSION, game: this.gameId, pid: process.pid, info: this.options.info ?? {} };
    try {
      this.nc.publish(subject, JSON.stringify(hello));
    } catch {
      // Said again on the portal's next beacon.
    }
  }

  /** A portal without a game says so every heartbeat; one this process is not linked to gets a hello (at most one per heartbeat). */
  private onBeacon(beacon: Record<string, unknown> | undefined): void {
    const portal = beacon?.portal_id;
    if (beacon?.op !== "portal-here" || typeof portal !== "string" || !PORTAL_ID.test(portal)) return;
    const current = this.links.get(portal);
    if (current && !current.epoch.closed) {
      // A portal beacons only without a game: if it says so with a new run, it restarted and its old epoch is gone for good.
      if (epochRun(current.epoch.id) === String(beacon.run)) return;
      current.epoch.close(new PortalError(ErrorCodes.LINK_DOWN, `portal ${portal} restarted (run ${String(beacon.run)})`));
    }
    this.helloTo(portal);
  }

  /**
   * Says hello to one portal, at most once per heartbeat: a portal resending frames of an epoch
   * this process lost gets one reset and one hello, not one per frame (each hello would restart its epoch).
   */
  private helloTo(portal: string, lostEpoch?: string): void {
    const now = this.clock.now();
    if (now - (this.hellos.get(portal) ?? 0) < this.link.heartbeatMs) return;
    if (this.hellos.size > 1024) this.hellos.clear();
    this.hellos.set(portal, now);
    if (lostEpoch !== undefined) this.publish(portal, { e: lostEpoch, r: "unknown epoch" });
    this.sayHello(this.subjects.portal(portal));
  }

  private onEnvelope(portal: string, data: Uint8Array): void {
    if (this.stopped || !PORTAL_ID.test(portal)) return;
    const env = this.reader?.read(this.subjects.game(this.gameId, portal), data);
    if (!env) return;
    if (epochGame(env.e) !== this.gameId) return;
    const current = this.links.get(portal);
    if (env.r !== undefined) {
      if (env.r.startsWith(ErrorCodes.LINK_REPLACED)) {
        current?.epoch.close(new PortalError(ErrorCodes.LINK_REPLACED, `portal ${portal}: ${env.r}`));
        this.replacedBy(portal);
      } else if (env.e.endsWith("~0.0")) this.log("error", ErrorCodes.LINK_VERSION, `portal ${portal} refused this game: ${env.r}`);
      else if (current && current.epoch.id === env.e) {
        current.epoch.close(new PortalError(ErrorCodes.LINK_DOWN, `portal ${portal} ended the link: ${env.r}`));
        this.helloTo(portal);
      }
      return;
    }
    if (current && current.epoch.id === env.e) {
      current.epoch.receive(env);
      return;
    }
    if (env.s !== 1) {
      // An epoch this process does not have (it lost it, or never saw its start): the portal starts a new one on hello.
      this.helloTo(portal, env.e);
      return;
    }
    if (current) {
      current.superseded = true;
      current.epoch.close();
    }
    this.openEpoch(portal, env);
  }

  private openEpoch(portal: string, first: Envelope): void {
    const logger = this.options.logger;
    const link: PortalLink = { epoch: undefined as unknown as ReliableEpoch, synced: false, superseded: false };
    link.epoch = new ReliableEpoch({
      id: first.e, clock: this.clock, maxFrameBytes: this.link.maxFrameBytes, batchMaxBytes: this.link.batchMaxBytes,
      heartbeatMs: this.link.heartbeatMs, heartbeatTimeoutMs: this.link.heartbeatTimeoutMs, resendMs: this.options.nats.resendMs,
      maxBufferedBytes: this.link.maxBufferedBytes, publish: (env) => this.publish(portal, env),
    }, {
      frame: (raws) => this.onFrame(portal, link, raws),
      fault: (err) => logger?.warn({ code: err.code, portal }, err.message),
      closed: (err) => {
        if (this.links.get(portal) === link) this.links.delete(portal);
        if (link.superseded) return;
        if (err) logger?.warn({ code: err.code, portal }, `link to portal ${portal} lost: ${err.message}`);
        this.events.down(portal, err);
      },
    });
    this.links.set(portal, link);
    link.epoch.receive(first);
  }

  private onFrame(portal: string, link: PortalLink, raws: unknown[]): void {
    const msgs: PortalToGame[] = [];
    for (const raw of raws) {
      const parsed = parsePortalMessage(raw);
      if (!parsed.ok) {
        const { code, message } = parseRefusal(parsed);
        this.reader?.drop(this.subjects.game(this.gameId, portal), code, `message from portal ${portal} dropped: ${message}`);
        continue;
      }
      const msg = parsed.msg;
      if (msg.op === "portal-sync") link.synced = false;
      if (msg.op === "portal-sync-end") link.synced = true;
      if (msg.op === "error") {
        this.options.logger?.warn({ code: msg.code as never, portal }, `portal ${portal}: ${msg.message}`);
        if (msg.code === ErrorCodes.LINK_REPLACED) this.replacedBy(portal);
      }
      msgs.push(msg);
    }
    if (msgs.length > 0) this.events.frame(portal, msgs);
  }

  /** Another game process took over: this one stops saying hello (as a replaced game stops redialing over TCP). */
  private replacedBy(portal: string): void {
    if (this.replaced) return;
    this.replaced = true;
    this.log("error", ErrorCodes.LINK_REPLACED, `another game process said hello to the portals (portal ${portal} says so); this one stops linking`);
  }

  private publish(portal: string, env: OutgoingEnvelope): void {
    const nc = this.nc;
    if (!nc || nc.isClosed()) return;
    try {
      nc.publish(this.subjects.portal(portal), encodeEnvelope(env));
    } catch {
      // Unacknowledged frames go again later.
    }
  }

  private log(level: "warn" | "error", code: string, message: string): void {
    this.options.logger?.[level]({ code: code as never }, message);
  }
}

const silent: Logger = {
  debug() {}, info() {}, warn() {}, error() {},
  child() {
    return silent;
  },
} as unknown as Logger;
