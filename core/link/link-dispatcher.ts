import { ErrorCodes } from "../errors/error-codes.js";
import { PortalError, errorMessage } from "../errors/portal-error.js";
import type { Logger } from "../logging/logger.js";
import type { Launcher } from "../plugins/launcher.js";
import type { PortalSessionHandler } from "../sessions/portal-session-handler.js";
import type { GameChannel } from "./game-channel.js";
import type { ClusterPortal, GameToPortal, StopMode } from "./link-messages.js";

export interface PortalControl {
  /** The game asked to be restarted (`reload`/`reset`) or stopped; a supervisor (if any) acts on it. */
  gameStopRequested(mode: StopMode): void;
  /** The game asked the whole portal to shut down. */
  portalShutdownRequested(): void;
  /** Status for the `status` operation. */
  status(): Record<string, unknown>;
  /** The game answered a `cluster` request (see Portal.clusterStatus). */
  clusterReply(id: number, portals: ClusterPortal[]): void;
}

/** Maps each game → portal message to the handler or the portal. */
export class LinkDispatcher {
  constructor(
    private readonly handler: PortalSessionHandler,
    private readonly launcher: Launcher,
    private readonly channel: GameChannel,
    private readonly control: PortalControl,
    private readonly logger: Logger,
  ) {}

  handle(msg: GameToPortal): void {
    const h = this.handler;
    switch (msg.op) {
      case "data-out":
        h.data_out(msg.sessid, msg.cmds);
        return;
      case "data-out-many":
        h.data_out_many(msg.sessids, msg.cmds);
        return;
      case "login":
        h.server_logged_in(msg.sessid, msg.uid, msg.uname);
        return;
      case "disconnect":
        h.server_disconnect(msg.sessid, msg.reason ?? undefined);
        return;
      case "disconnect-all":
        h.server_disconnect_all(msg.reason ?? undefined);
        return;
      case "session-sync":
        this.sessionSync(msg);
        return;
      case "ack":
        h.server_ack(msg.seqs);
        return;
      case "server-connect":
        this.serverConnect(msg.id, msg.path, msg.config ?? {});
        return;
      case "reload":
        h.runState.requestStop(msg.mode ?? "reload");
        this.control.gameStopRequested(msg.mode ?? "reload");
        return;
      case "shutdown":
        h.runState.requestStop("shutdown");
        if (msg.scope === "portal") this.control.portalShutdownRequested();
        else this.control.gameStopRequested("shutdown");
        return;
      case "status":
        this.channel.send({ op: "reply", id: msg.id, ok: true, result: this.control.status() });
        return;
      case "cluster-reply":
        this.control.clusterReply(msg.id, msg.portals);
        return;
      case "hello":
      case "ping":
      case "pong":
        return;
    }
  }

  /** A session-sync part; the last part of one carrying an `id` gets a reply (what `handBack()` waits for). */
  private sessionSync(msg: Extract<GameToPortal, { op: "session-sync" }>): void {
    let outcome;
    try {
      outcome = this.handler.server_session_sync(msg.sessions, msg.clean, { ...(msg.gen !== undefined ? { gen: msg.gen } : {}), ...(msg.more !== undefined ? { more: msg.more } : {}) });
    } catch (err) {
      if (msg.id !== undefined && err instanceof PortalError) this.channel.send({ op: "reply", id: msg.id, ok: false, error: { code: err.code, message: err.message } });
      throw err;
    }
    if (!outcome) return;
    for (const r of outcome.refused) this.channel.send({ op: "error", code: r.code, message: `session ${r.sessid}: ${r.message}`, ref_op: "session-sync" });
    if (msg.id === undefined) return;
    if (outcome.refused.length === 0) {
      this.channel.send({ op: "reply", id: msg.id, ok: true, result: { applied: outcome.applied, closed: outcome.closed } });
      return;
    }
    const first = outcome.refused[0]!;
    this.channel.send({
      op: "reply", id: msg.id, ok: false,
      error: { code: first.code, message: `${outcome.refused.length} session(s) not taken whole: ${outcome.refused.slice(0, 5).map((r) => `${r.sessid} (${r.message})`).join("; ")}` },
    });
  }

  private serverConnect(id: number, path: string, config: Record<string, unknown>): void {
    this.launcher.launch(path, config).then(
      (result) => this.channel.send({ op: "reply", id, ok: true, result }),
      (err: unknown) => {
        const e = err instanceof PortalError ? err : new PortalError(ErrorCodes.PLUGIN_START, errorMessage(err));
        this.logger.warn({ code: e.code, path }, e.message);
        this.channel.send({ op: "reply", id, ok: false, error: { code: e.code, message: e.message } });
      },
    );
  }
}
