// Run by test/torture/abuse-vanish.test.ts inside a private network namespace (`unshare -n`, its own
// loopback), never on its own: clients that vanish without a FIN or RST. A real `portico start` and its
// clients all live in the namespace; once the clients are sessions, an nftables rule in the namespace
// drops every packet to and from their addresses (127.80.0.0/16), so to the portal they are peers that
// went away silently (a machine that lost power, a NAT that forgot them). The driver measures what
// cleans them up and prints one line: `VANISH-RESULT {json}` (or `VANISH-ERROR message`).
//
// Env: VANISH_TELNET, VANISH_WS (counts), VANISH_KEEPALIVE_MS (telnet keepaliveMs), VANISH_PING_MS
// (websocket pingIntervalMs), VANISH_GRACE_MS (resumeGraceMs), VANISH_BUDGET_MS (how long to wait).
import { execFileSync } from "node:child_process";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { sleep, waitFor } from "../../core/testing/wait-for.js";
import { RawConn, TelnetPlayer, TorturePortal, WebPlayer, addressAt, banner, canary, listeners, percentile, pool, webStatus } from "./abuse-support.js";

const num = (name: string) => Number(process.env[name]);

async function main(): Promise<Record<string, unknown>> {
  const telnetN = num("VANISH_TELNET");
  const wsN = num("VANISH_WS");
  const keepaliveMs = num("VANISH_KEEPALIVE_MS");
  const pingMs = num("VANISH_PING_MS");
  const graceMs = num("VANISH_GRACE_MS");
  const budgetMs = num("VANISH_BUDGET_MS");
  const portal = await TorturePortal.start({
    limits: { maxConnectionRate: 0 },
    listeners: listeners({ keepaliveMs }, { pingIntervalMs: pingMs, resumeGraceMs: graceMs }),
  });
  const clients: { destroy(): void }[] = [];
  try {
    const player = await TelnetPlayer.login(portal.telnetPort, addressAt(79, 0), "canary");
    clients.push({ destroy: () => player.close() });
    const telnet = await pool(telnetN, 100, async (i) => {
      const c = await RawConn.open(portal.telnetPort, addressAt(80, i), 4096);
      clients.push(c);
      return c;
    });
    await pool(wsN, 50, async (i) => {
      const w = await WebPlayer.connect(portal.webPort, addressAt(80, telnetN + i));
      w.on("error", () => undefined);
      clients.push({ destroy: () => w.terminate() });
    });
    await waitFor(() => telnet.every((c) => c.has(banner())), 60_000, "every telnet client has its banner", 100);
    await waitFor(async () => (await portal.sessions()) === 1 + telnetN + wsN, 60_000, "all sessions", 100);

    // ---- they vanish: nothing to or from 127.80.0.0/16 gets through any more ----
    const rules = [
      "add table inet vanish",
      "add chain inet vanish input { type filter hook input priority 0; policy accept; }",
      "add rule inet vanish input ip saddr 127.80.0.0/16 drop",
      "add rule inet vanish input ip daddr 127.80.0.0/16 drop",
    ];
    for (const r of rules) execFileSync("nft", r.split(" "), { stdio: "pipe" });
    const vanishedAt = performance.now();
    const watch = canary(player, 500);
    let telnetGoneMs = NaN;
    let wsDroppedMs = NaN;
    let wsGoneMs = NaN;
    while (performance.now() - vanishedAt < budgetMs) {
      const s = await portal.status();
      const web = webStatus(s);
      const now = performance.now() - vanishedAt;
      if (Number.isNaN(telnetGoneMs) && (s.sessions.by_protocol.telnet ?? 0) === 1) telnetGoneMs = now;
      if (Number.isNaN(wsDroppedMs) && web.detached === wsN) wsDroppedMs = now;
      if (Number.isNaN(wsGoneMs) && web.sessions === 0) wsGoneMs = now;
      if (!Number.isNaN(telnetGoneMs) && !Number.isNaN(wsGoneMs)) break;
      await sleep(250);
    }
    await watch.stop();
    const s = await portal.status();
    // the client side still believes every telnet connection is open (nothing came through)
    const clientsOpen = telnet.filter((c) => !c.closed).length;
    return {
      telnetN, wsN, keepaliveMs, pingMs, graceMs,
      tcpRetries2: Number(execFileSync("sysctl", ["-n", "net.ipv4.tcp_retries2"]).toString().trim()),
      telnetGoneMs, wsDroppedMs, wsGoneMs,
      telnetLeft: (s.sessions.by_protocol.telnet ?? 1) - 1, wsLeft: webStatus(s).sessions, clientsOpen,
      canaryPings: watch.rtts.length, canaryFailures: watch.failures.length, canaryP99: percentile(watch.rtts, 99),
      pingDrops: portal.msgCount("web client did not answer a ping; its socket is dropped"),
    };
  } finally {
    for (const c of clients) c.destroy();
    await portal.stop();
  }
}

// Only when run as a program (`node abuse-vanish-driver.js`), never when merely imported (a test runner's glob).
if (process.argv[1] === fileURLToPath(import.meta.url)) main().then(
  (result) => {
    process.stdout.write(`VANISH-RESULT ${JSON.stringify(result)}\n`);
    process.exit(0);
  },
  (err: Error) => {
    process.stdout.write(`VANISH-ERROR ${err.stack ?? err.message}\n`.replace(/\n(?!$)/g, " | "));
    process.exit(1);
  },
);
