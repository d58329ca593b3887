import type { Latency } from "../stats.js";
import type { ClientSpec } from "./line-clients.js";

/** Commands the bench sends to a load generator over IPC (one at a time). */
export type GenCommand =
  | { cmd: "connect"; spec: ClientSpec; count: number; spread: boolean; parallel: number; login: boolean; timeoutMs: number }
  | { cmd: "closed"; sessions: number; warmupMs: number; durationMs: number; pids: Record<string, number> }
  | { cmd: "paced"; perSessionPerSecond: number; warmupMs: number; durationMs: number; pids: Record<string, number> }
  | { cmd: "fanout"; rounds: number; timeoutMs: number }
  | { cmd: "reload-probe"; timeoutMs: number }
  | { cmd: "stats" }
  | { cmd: "close" };

export interface ConnectResult {
  connected: number;
  failed: number;
  errors: string[];
  /** From the first connect() to the last banner (ms). */
  allBannersMs: number;
  /** Per client, from its connect() to its banner. */
  banner: Latency | null;
  /** Clients whose banner took more than 1 s (a SYN retry after a listen-queue overflow takes 1 s). */
  over1s: number;
  /** From the first login sent to the last one answered (ms); 0 without login. */
  allLoggedInMs: number;
}

export interface CpuWindow {
  seconds: number;
  /** CPU µs used in the window by each named pid, and by the generator itself ("generator"). */
  cpuUs: Record<string, number | null>;
}

export interface LoadResult extends CpuWindow {
  sent: number;
  replies: number;
  perSecond: number;
  /** Sent in the window but never answered (after a drain wait). */
  lost: number;
  /** Clients closed during the run. */
  closed: number;
  latency: Latency | null;
}

export interface FanoutResult {
  /** Per round, from the line being sent to the first and to the last session receiving it (ms). */
  rounds: { firstMs: number; lastMs: number; received: number }[];
  sessions: number;
}

export interface ReloadProbeResult {
  sessions: number;
  /** Closed during the reload. */
  lost: number;
  /** Answered "not logged in" after the restart. */
  wrong: number;
  /** Sessions that saw the restart notice and both answers. */
  answered: number;
  lastNoticeMs: number;
  /** From the probe's start to the last session's answer after the restart notice (ms). */
  allAnsweredMs: number;
  answer: Latency | null;
}

export interface GenStats {
  open: number;
  rssBytes: number;
  heapUsedBytes: number;
}

export type GenMessage =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: string }
  | { progress: string };
