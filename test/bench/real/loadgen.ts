import { performance } from "node:perf_hooks";
import { latencyOf, type Latency } from "../stats.js";
import { openClient, sourceAddress, type LineClient } from "./line-clients.js";
import { cpuWindow } from "./process-info.js";
import type { ConnectResult, CpuWindow, FanoutResult, GenCommand, GenMessage, GenStats, LoadResult, ReloadProbeResult } from "./loadgen-protocol.js";

/**
 * The load generator: a child process of the bench, driven over IPC (test/bench/real/generator.ts).
 * It holds the client connections and does all the timing; the bench only orchestrates.
 * Replies are recognised by the bench game's words: a banner containing "Welcome", "Logged in as",
 * "echo: <line>", "fan: <tag>", "Server restarted.", "You are ...".
 */
const clients: LineClient[] = [];
/** Per client: what to do with a line in the current phase. */
let onLine: (i: number, line: string) => void = () => {};
let closedCount = 0;
const now = () => performance.now();

function send(msg: GenMessage): void {
  process.send!(msg);
}

function progress(text: string): void {
  send({ progress: text });
}

function latency(samplesUs: number[]): Latency | null {
  return samplesUs.length === 0 ? null : latencyOf(Float64Array.from(samplesUs));
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function connectAll(c: Extract<GenCommand, { cmd: "connect" }>): Promise<ConnectResult> {
  const base = clients.length;
  const startedAt = new Float64Array(c.count);
  const bannerAt = new Float64Array(c.count);
  const loginAt = new Float64Array(c.count);
  const errors: string[] = [];
  let banners = 0;
  let loggedIn = 0;
  let failed = 0;
  let opened = 0;
  let firstLogin = 0;
  const t0 = now();
  const finished = () => banners + failed >= c.count && (!c.login || loggedIn + failed >= c.count);
  onLine = (i, line) => {
    const k = i - base;
    if (k < 0) return;
    if (bannerAt[k] === 0 && line.includes("Welcome")) {
      bannerAt[k] = now();
      banners += 1;
      if (c.login) {
        if (firstLogin === 0) firstLogin = now();
        clients[i]!.send(`login b${i}`);
      }
    } else if (c.login && loginAt[k] === 0 && line.startsWith("Logged in as")) {
      loginAt[k] = now();
      loggedIn += 1;
    }
  };
  const deadline = t0 + c.timeoutMs;
  let lastReport = t0;
  while (!finished() && now() < deadline) {
    const inFlight = opened - banners - failed;
    const room = c.parallel <= 0 ? c.count - opened : Math.min(c.count - opened, c.parallel - inFlight);
    for (let n = 0; n < room; n += 1) {
      const k = opened;
      const i = base + k;
      startedAt[k] = now();
      const client = openClient(c.spec, c.spread ? sourceAddress(i) : undefined);
      clients.push(client);
      client.onLine = (line) => onLine(i, line);
      client.onClose = (error) => {
        closedCount += 1;
        if (bannerAt[k] === 0 || (c.login && loginAt[k] === 0)) {
          failed += 1;
          if (errors.length < 5) errors.push(error ?? "closed before its banner");
        }
      };
      opened += 1;
    }
    if (now() - lastReport > 2000) {
      lastReport = now();
      progress(`connected ${banners}/${c.count}${c.login ? `, logged in ${loggedIn}` : ""}${failed ? `, failed ${failed}` : ""}`);
    }
    await sleep(c.parallel <= 0 ? 5 : 1);
  }
  onLine = () => {};
  const bannerUs: number[] = [];
  let over1s = 0;
  let last = 0;
  let lastLogin = 0;
  for (let k = 0; k < c.count; k += 1) {
    if (bannerAt[k]! > 0) {
      const ms = bannerAt[k]! - startedAt[k]!;
      bannerUs.push(ms * 1000);
      if (ms > 1000) over1s += 1;
      last = Math.max(last, bannerAt[k]!);
    }
    lastLogin = Math.max(lastLogin, loginAt[k]!);
  }
  const connected = c.login ? loggedIn : banners;
  if (connected < c.count && errors.length < 5) errors.push(`${c.count - connected - failed} neither answered nor closed within ${c.timeoutMs} ms`);
  return {
    connected, failed, errors,
    allBannersMs: last > 0 ? last - t0 : 0,
    banner: latency(bannerUs),
    over1s,
    allLoggedInMs: c.login && lastLogin > 0 ? lastLogin - firstLogin : 0,
  };
}

/** Waits until `pending()` is 0 or `ms` passed. */
async function drain(pending: () => number, ms: number): Promise<void> {
  const end = now() + ms;
  while (pending() > 0 && now() < end) await sleep(5);
}

async function closedLoop(c: Extract<GenCommand, { cmd: "closed" }>): Promise<LoadResult> {
  const n = Math.min(c.sessions, clients.length);
  const sentAt = new Float64Array(n);
  const samples: number[] = [];
  let phase: "warmup" | "measure" | "drain" = "warmup";
  let seq = 0;
  let sent = 0;
  let replies = 0;
  let outstanding = 0;
  const closed0 = closedCount;
  const fire = (i: number) => {
    sentAt[i] = now();
    outstanding += 1;
    if (phase === "measure") sent += 1;
    clients[i]!.send(`hello ${seq++}`);
  };
  onLine = (i, line) => {
    if (i >= n || !line.startsWith("echo: ")) return;
    outstanding -= 1;
    if (phase === "measure") {
      replies += 1;
      samples.push((now() - sentAt[i]!) * 1000);
    }
    if (phase !== "drain") fire(i);
  };
  for (let i = 0; i < n; i += 1) fire(i);
  await sleep(c.warmupMs);
  phase = "measure";
  sent = 0;
  const stop = cpuWindow(c.pids, "generator");
  await sleep(c.durationMs);
  const window = stop();
  phase = "drain";
  const measuredReplies = replies;
  await drain(() => outstanding, 3000);
  onLine = () => {};
  return { ...window, sent, replies: measuredReplies, perSecond: measuredReplies / window.seconds, lost: outstanding, closed: closedCount - closed0, latency: latency(samples) };
}

async function pacedLoop(c: Extract<GenCommand, { cmd: "paced" }>): Promise<LoadResult> {
  const n = clients.length;
  const intervalMs = 1000 / (c.perSessionPerSecond * n);
  /** Per client, the send times of its unanswered lines (replies come back in order). */
  const queues: number[][] = Array.from({ length: n }, () => []);
  const samples: number[] = [];
  let measuring = false;
  let sent = 0;
  let replies = 0;
  let outstanding = 0;
  let lost = 0;
  let k = 0;
  const closed0 = closedCount;
  onLine = (i, line) => {
    if (!line.startsWith("echo: ")) return;
    const at = queues[i]!.shift();
    if (at === undefined) return;
    outstanding -= 1;
    if (at > 0) {
      replies += 1;
      samples.push((now() - at) * 1000);
    }
  };
  const t0 = now();
  const measureFrom = t0 + c.warmupMs;
  const measureTo = measureFrom + c.durationMs;
  let stop: (() => CpuWindow) | undefined;
  let window: CpuWindow | undefined;
  let lastReport = t0;
  while (now() < measureTo) {
    const t = now();
    if (!measuring && t >= measureFrom) {
      measuring = true;
      stop = cpuWindow(c.pids, "generator");
    }
    const due = Math.floor((t - t0) / intervalMs);
    for (; k < due; k += 1) {
      const i = k % n;
      // Unmeasured sends are marked with a negative time so their replies are not counted.
      queues[i]!.push(measuring ? now() : -1);
      outstanding += 1;
      if (measuring) sent += 1;
      clients[i]!.send(`hello ${k}`);
    }
    if (t - lastReport > 2000) {
      lastReport = t;
      progress(`${measuring ? "measuring" : "warming up"}: ${Math.round((t - t0) / 1000)} s of ${Math.round((c.warmupMs + c.durationMs) / 1000)}, ${outstanding} waiting`);
    }
    await sleep(1);
  }
  window = stop!();
  await drain(() => outstanding, 3000);
  for (const q of queues) for (const at of q) if (at > 0) lost += 1;
  onLine = () => {};
  return { ...window, sent, replies, perSecond: replies / window.seconds, lost, closed: closedCount - closed0, latency: latency(samples) };
}

async function fanout(c: Extract<GenCommand, { cmd: "fanout" }>): Promise<FanoutResult> {
  const rounds: FanoutResult["rounds"] = [];
  for (let r = 0; r < c.rounds; r += 1) {
    const tag = `t${r}-${Date.now()}`;
    const want = `fan: ${tag}`;
    let received = 0;
    let first = 0;
    let last = 0;
    onLine = (_i, line) => {
      // Portico's telnet output ends a line with an ANSI reset.
      if (line !== want && !line.startsWith(`${want}\x1b`)) return;
      received += 1;
      last = now();
      if (first === 0) first = last;
    };
    const t0 = now();
    clients[0]!.send(`fanout ${tag}`);
    const end = t0 + c.timeoutMs;
    while (received < clients.length && now() < end) await sleep(1);
    rounds.push({ firstMs: first - t0, lastMs: last - t0, received });
    if (received < clients.length) break;
    await sleep(200);
  }
  onLine = () => {};
  return { rounds, sessions: clients.length };
}

async function reloadProbe(c: Extract<GenCommand, { cmd: "reload-probe" }>): Promise<ReloadProbeResult> {
  const n = clients.length;
  const noticeAt = new Float64Array(n);
  const answeredAt = new Float64Array(n);
  const answers = new Uint8Array(n);
  let wrong = 0;
  let answered = 0;
  const closed0 = closedCount;
  const t0 = now();
  // Each session asks "whoami" now (held by the portal while no game is linked, or answered by
  // the old game), and again as soon as the new game's restart notice arrives: its second answer
  // is the answer to its next command after the reload.
  onLine = (i, line) => {
    if (line.startsWith("Server restarted")) {
      if (noticeAt[i] === 0) {
        noticeAt[i] = now();
        clients[i]!.send("whoami");
      }
      return;
    }
    if (!line.startsWith("You are ")) return;
    if (line.startsWith("You are not logged in")) wrong += 1;
    answers[i] += 1;
    if (answers[i]! >= 2 && noticeAt[i]! > 0 && answeredAt[i] === 0) {
      answeredAt[i] = now();
      answered += 1;
    }
  };
  for (const client of clients) client.send("whoami");
  const end = t0 + c.timeoutMs;
  while (answered + (closedCount - closed0) < n && now() < end) await sleep(2);
  onLine = () => {};
  const us: number[] = [];
  let lastNotice = 0;
  let lastAnswer = 0;
  for (let i = 0; i < n; i += 1) {
    if (answeredAt[i]! > 0) us.push((answeredAt[i]! - t0) * 1000);
    lastNotice = Math.max(lastNotice, noticeAt[i]!);
    lastAnswer = Math.max(lastAnswer, answeredAt[i]!);
  }
  return {
    sessions: n, lost: closedCount - closed0, wrong, answered,
    lastNoticeMs: lastNotice > 0 ? lastNotice - t0 : 0,
    allAnsweredMs: lastAnswer > 0 ? lastAnswer - t0 : 0,
    answer: latency(us),
  };
}

function stats(): GenStats {
  const m = process.memoryUsage();
  return { open: clients.length - closedCount, rssBytes: m.rss, heapUsedBytes: m.heapUsed };
}

async function run(c: GenCommand): Promise<unknown> {
  switch (c.cmd) {
    case "connect": return connectAll(c);
    case "closed": return closedLoop(c);
    case "paced": return pacedLoop(c);
    case "fanout": return fanout(c);
    case "reload-probe": return reloadProbe(c);
    case "stats": return stats();
    case "close":
      for (const client of clients) client.close();
      await drain(() => clients.length - closedCount, 5000);
      return { closed: closedCount };
  }
}

process.on("message", (m: { id: number; command: GenCommand }) => {
  run(m.command).then(
    (result) => send({ id: m.id, ok: true, result }),
    (err: unknown) => send({ id: m.id, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  );
});
// The bench is gone: stop.
process.on("disconnect", () => process.exit(0));
