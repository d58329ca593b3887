import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";
import type { Portal } from "../portal.js";

export interface MetricsSources {
  portal: Portal;
  /** Game process facts (from the supervisor), when one is supervised. */
  game?: () => { up: boolean; restarts: number; crashes: number };
}

/**
 * Prometheus metrics for one portal, in their own registry: sessions by protocol, logged-in count,
 * bytes in/out, commands, link state, queue depths, plugin (bot) states, game process, and
 * Node's default metrics (event-loop lag included). Values are read when scraped.
 */
export function createPortalMetrics(sources: MetricsSources): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "portico_" });
  const { portal } = sources;
  const handler = () => portal.handler;

  new Gauge({
    name: "portico_sessions", help: "Connected sessions by protocol and variant (e.g. the websocket subprotocol)", labelNames: ["protocol", "variant"], registers: [registry],
    collect() {
      this.reset();
      for (const s of handler().all()) this.inc({ protocol: s.protocol_key, variant: s.variant ?? "" });
    },
  });
  new Gauge({ name: "portico_sessions_logged_in", help: "Logged-in sessions", registers: [registry], collect() { this.set(handler().count_loggedin()); } });
  new Counter({
    name: "portico_bytes_total", help: "Bytes from and to clients by protocol", labelNames: ["protocol", "direction"], registers: [registry],
    collect() {
      this.reset();
      const totals = new Map<string, { in: number; out: number }>();
      for (const [protocol, b] of handler().stats.closedBytes) totals.set(protocol, { ...b });
      for (const s of handler().all()) {
        const t = totals.get(s.protocol_key) ?? { in: 0, out: 0 };
        t.in += s.bytesIn;
        t.out += s.bytesOut;
        totals.set(s.protocol_key, t);
      }
      for (const [protocol, t] of totals) {
        this.inc({ protocol, direction: "in" }, t.in);
        this.inc({ protocol, direction: "out" }, t.out);
      }
    },
  });
  new Counter({
    name: "portico_commands_total", help: "Inputs passed to the game (in) and output instructions delivered (out)", labelNames: ["direction"], registers: [registry],
    collect() {
      this.reset();
      this.inc({ direction: "in" }, handler().stats.commandsIn);
      this.inc({ direction: "out" }, handler().stats.commandsOut);
    },
  });
  new Counter({ name: "portico_inputs_rejected_total", help: "Inputs refused by the size and rate limits", registers: [registry], collect() { this.reset(); this.inc(handler().stats.inputsRejected); } });
  new Gauge({ name: "portico_link_up", help: "1 while a game is connected to the link", registers: [registry], collect() { this.set(portal.gameConnected ? 1 : 0); } });
  new Counter({
    name: "portico_link_drops_total", help: "Game links lost, by error code (clean for a plain close)", labelNames: ["code"], registers: [registry],
    collect() {
      this.reset();
      for (const [code, n] of portal.linkDrops) this.inc({ code }, n);
    },
  });
  new Gauge({ name: "portico_connection_queue_depth", help: "Connections waiting in the throttle", registers: [registry], collect() { this.set(handler().queuedConnections); } });
  new Gauge({ name: "portico_pending_inputs", help: "Inputs kept until the game acknowledges them (held while it is away, or on their way)", registers: [registry], collect() { this.set(handler().pendingInputs); } });
  new Gauge({ name: "portico_pending_input_bytes", help: "Bytes of input kept until the game acknowledges them", registers: [registry], collect() { this.set(handler().pendingInputBytes); } });
  new Gauge({
    name: "portico_plugins", help: "Running plugins (listeners and bots) by path, direction and state", labelNames: ["path", "direction", "state"], registers: [registry],
    collect() {
      this.reset();
      for (const p of portal.launcher.list()) this.inc({ path: p.path, direction: p.direction, state: String(p.status.state ?? "running") });
    },
  });
  new Gauge({
    name: "portico_plugin_status", help: "Numeric facts running plugins report in their status (e.g. a feed bot's fetches and failures)", labelNames: ["path", "id", "field"], registers: [registry],
    collect() {
      this.reset();
      for (const p of portal.launcher.list()) {
        for (const [field, value] of Object.entries(p.status)) if (typeof value === "number" && Number.isFinite(value)) this.set({ path: p.path, id: p.id, field }, value);
      }
    },
  });
  if (sources.game) {
    const game = sources.game;
    new Gauge({ name: "portico_game_up", help: "1 while the game process runs", registers: [registry], collect() { this.set(game().up ? 1 : 0); } });
    new Counter({ name: "portico_game_restarts_total", help: "Game process restarts (reloads and crashes)", registers: [registry], collect() { this.reset(); this.inc(game().restarts); } });
    new Counter({ name: "portico_game_crashes_total", help: "Game process deaths nobody asked for", registers: [registry], collect() { this.reset(); this.inc(game().crashes); } });
  }
  return registry;
}
