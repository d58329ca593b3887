import type { ClusterPortal } from "../link/link-messages.js";

/** Renders the admin /status answer for people. */
export function formatStatus(s: Record<string, unknown>): string {
  const link = (s.link ?? {}) as { connected?: boolean; address?: { host?: string; port?: number; transport?: string; prefix?: string; servers?: string[]; connected_server?: string | null }; restart_mode?: string };
  const a = link.address;
  const where = !a ? "" : a.transport === "nats" ? ` over NATS ${a.connected_server ?? (a.servers ?? []).join(", ")} (prefix ${a.prefix ?? "?"})` : ` on ${a.host}:${a.port}`;
  const sessions = (s.sessions ?? {}) as { total?: number; logged_in?: number; by_protocol?: Record<string, number>; by_variant?: Record<string, number> };
  const game = s.game as { state?: string; pid?: number | null; restarts?: number; crashes?: number } | null;
  const plugins = (s.plugins ?? []) as { path: string; direction: string; status: Record<string, unknown> }[];
  const admin = s.admin as { host: string; port: number } | null;
  const lines = [
    `portico running (pid ${String(s.pid)}, up ${String(s.uptime_s)} s, portal ${String(s.portal_id)}, run ${String(s.portal_run)})`,
    `  link:      ${link.connected ? "game connected" : "no game connected"}${where}`,
    `  game:      ${game ? `${game.state ?? "?"}${game.pid ? `, pid ${game.pid}` : ""}, restarts ${game.restarts ?? 0}, crashes ${game.crashes ?? 0}` : "not supervised"}`,
    `  sessions:  ${sessions.total ?? 0} (${sessions.logged_in ?? 0} logged in)${Object.entries(sessions.by_protocol ?? {}).map(([p, n]) => `, ${p} ${n}`).join("")}`,
    ...(Object.keys(sessions.by_variant ?? {}).length > 0 ? [`  variants:  ${Object.entries(sessions.by_variant ?? {}).map(([v, n]) => `${v} ${n}`).join(", ")}`] : []),
    `  queues:    ${String(s.queued_connections ?? 0)} connections waiting, ${String(s.pending_inputs ?? 0)} inputs not yet acknowledged by the game (${String(s.pending_input_bytes ?? 0)} bytes)`,
  ];
  const failed = (p: { status: Record<string, unknown> }) => p.status.state === "failed";
  for (const p of plugins.filter((x) => x.direction === "inbound" && !failed(x))) lines.push(`  listener:  ${p.path} port ${String(p.status.port)}${p.status.tls ? " (TLS)" : ""}`);
  const bots = plugins.filter((x) => x.direction === "outbound" && !failed(x));
  lines.push(`  bots:      ${bots.length === 0 ? "none" : bots.map((b) => `${b.path} (${String(b.status.bot ?? b.status.state ?? "running")})`).join(", ")}`);
  for (const p of plugins.filter(failed)) {
    const error = (p.status.error ?? {}) as { code?: string; message?: string };
    lines.push(`  failed:    ${p.path}: [${error.code ?? "?"}] ${error.message ?? ""}`);
  }
  if (admin) lines.push(`  admin:     http://${admin.host}:${admin.port}`);
  return lines.join("\n") + "\n";
}

/** Renders `portico status --cluster`: the portals the game sees, or why there is no answer. */
export function formatCluster(portals: ClusterPortal[] | null): string {
  if (portals === null) return "no game is linked to this portal, or it did not answer within 3 s\n";
  const lines = [`the game sees ${portals.length} portal${portals.length === 1 ? "" : "s"}:`];
  const width = Math.max(0, ...portals.map((p) => p.portal_id.length));
  for (const p of portals) {
    lines.push(`  ${p.portal_id.padEnd(width)}  run ${p.run}  ${p.linked ? "linked    " : "not linked"}  ${p.sessions} session${p.sessions === 1 ? "" : "s"} (${p.logged_in} logged in)`);
  }
  return lines.join("\n") + "\n";
}
