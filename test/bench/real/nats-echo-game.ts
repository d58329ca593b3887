import { createInterface } from "node:readline";
import { resolvePortalConfig } from "../../../core/config/portal-config.js";
import { GameSessionHandler, NatsGameTransport, type GameSession } from "../../../core/game/index.js";
import { JsonLineLogger } from "../../../core/logging/logger.js";

/**
 * The bench's echo game linked over NATS (the TCP bench runs test/fixtures/echo-game.ts under
 * `portico start`; this one is a process of its own, as a game serving several portals is). It
 * answers the load generator's words: a "Welcome" banner, `login <name>` with "Logged in as",
 * `fanout <tag>` with `fan: <tag>` to every logged-in session of every portal (one announce), and
 * anything else with `echo: <line>`.
 * Env: PORTICO_BENCH_NATS (the server's URL), PORTICO_BENCH_PREFIX (the subject prefix).
 * Stdout: "SYNC <portal id>" after each portal's sync, warnings as JSON lines, and for each
 * "stats <k>" line on stdin "STATS <k> <json>": its NATS connection's message and byte counts, the
 * link epochs' resend counters, and the echoes and announces it made.
 */
const { link } = resolvePortalConfig({ link: { transport: "nats", nats: { servers: [process.env.PORTICO_BENCH_NATS ?? ""], prefix: process.env.PORTICO_BENCH_PREFIX ?? "bench" } } });
const logger = new JsonLineLogger("warn", { part: "bench-nats-game" }, (line) => process.stdout.write(line));
const transport = new NatsGameTransport({ nats: link.nats, credentials: {}, link, info: { name: "bench-nats-echo" }, logger });
const counted = { echoes: 0, announces: 0 };

const game: GameSessionHandler = new GameSessionHandler({
  transport,
  logger,
  callbacks: {
    onConnect: (s) => game.msg(s, "Welcome (echo over NATS)."),
    onSync: ({ portalId }) => process.stdout.write(`SYNC ${portalId}\n`),
    onInput: (s, name, args) => {
      if (name === "text") answer(s, String(args[0] ?? ""));
    },
  },
});

function answer(s: GameSession, line: string): void {
  const words = line.trim().split(/\s+/);
  if (words[0] === "fanout") {
    counted.announces += 1;
    game.announce(`fan: ${words.slice(1).join(" ")}`, true);
    return;
  }
  if (words[0] === "login" && words[1] !== undefined) {
    game.login(s, words[1], words[1]);
    game.msg(s, `Logged in as ${words[1]}.`);
    return;
  }
  counted.echoes += 1;
  game.msg(s, `echo: ${line}`);
}

/** The transport keeps its NATS connection and epochs private; the bench reads their counters, nothing else. */
interface TransportInside {
  nc?: { stats(): { inMsgs: number; outMsgs: number; inBytes: number; outBytes: number } };
  links: Map<string, { epoch: { stats: { resent: number; duplicates: number; gaps: number } } }>;
}

function stats(): Record<string, number> {
  const inside = transport as unknown as TransportInside;
  const epochs = { resent: 0, duplicates: 0, gaps: 0 };
  for (const { epoch } of inside.links.values()) {
    epochs.resent += epoch.stats.resent;
    epochs.duplicates += epoch.stats.duplicates;
    epochs.gaps += epoch.stats.gaps;
  }
  return { ...(inside.nc?.stats() ?? {}), ...epochs, ...counted };
}

createInterface({ input: process.stdin }).on("line", (line) => {
  const [word, k] = line.split(" ");
  if (word === "stats") process.stdout.write(`STATS ${k} ${JSON.stringify(stats())}\n`);
});
game.start();
process.on("SIGTERM", () => void game.stop().then(() => process.exit(0)));
