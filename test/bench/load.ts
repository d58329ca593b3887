import { latencyOf, takeSample, throughputBetween, type Latency, type Sample, type Throughput } from "./stats.js";

/** Something that echoes messages: the raw TCP echo or Portico with the echo game. */
export interface EchoTarget {
  /** Sends `n` more messages now. */
  send(n: number): void;
  /** Set by the load driver; the target calls it with the number of replies that just arrived. */
  onReplies: (n: number) => void;
  /** CPU time used so far by the process at the other end (ms), where measurable. */
  childCpuMs(): number | undefined;
  /** Rejects when the target dies. */
  readonly failed: Promise<never>;
}

export interface ClosedLoopOptions {
  /** Messages kept in flight. */
  window: number;
  /** Run before measuring (JIT, buffers). */
  warmupMs: number;
  /** Measuring stops after this long ... */
  durationMs: number;
  /** ... or after this many replies, whichever comes first (0: no cap). */
  maxMessages: number;
  /** How long to wait for the last in-flight replies before calling them lost. */
  drainMs: number;
}

export interface ClosedLoopResult extends Throughput {
  sent: number;
  received: number;
  /** Sent but never answered (after the drain wait). */
  lost: number;
}

/** Pipelined load: `window` messages in flight, one new message for every reply. */
export function closedLoop(target: EchoTarget, o: ClosedLoopOptions): Promise<ClosedLoopResult> {
  let phase: "warmup" | "measure" | "drain" = "warmup";
  let sent = 0;
  let received = 0;
  let start: Sample | undefined;
  let end: Sample | undefined;
  const timers: NodeJS.Timeout[] = [];
  const childCpu = () => target.childCpuMs();

  const done = new Promise<ClosedLoopResult>((resolve) => {
    const finish = () => {
      for (const t of timers) clearTimeout(t);
      target.onReplies = () => {};
      resolve({ ...throughputBetween(start!, end!), sent, received, lost: sent - received });
    };
    const stopMeasuring = () => {
      if (phase !== "measure") return;
      end = takeSample(received, childCpu);
      phase = "drain";
      if (received >= sent) finish();
      else timers.push(setTimeout(finish, o.drainMs));
    };
    target.onReplies = (n) => {
      received += n;
      if (phase === "drain") {
        if (received >= sent) finish();
        return;
      }
      if (phase === "measure" && o.maxMessages > 0 && received - start!.received >= o.maxMessages) {
        stopMeasuring();
        return;
      }
      sent += n;
      target.send(n);
    };
    timers.push(setTimeout(() => {
      start = takeSample(received, childCpu);
      phase = "measure";
      timers.push(setTimeout(stopMeasuring, o.durationMs));
    }, o.warmupMs));
    sent += o.window;
    target.send(o.window);
  });
  return Promise.race([done, target.failed]).finally(() => {
    for (const t of timers) clearTimeout(t);
    target.onReplies = () => {};
  });
}

export interface SequentialOptions {
  count: number;
  warmup: number;
  timeoutMs: number;
}

/** One message at a time; the time from send to reply of each (after `warmup` unmeasured ones). */
export function sequential(target: EchoTarget, o: SequentialOptions): Promise<Latency> {
  const us = new Float64Array(o.count);
  let i = 0;
  let t0 = 0n;
  let timer: NodeJS.Timeout | undefined;
  const done = new Promise<Latency>((resolve, reject) => {
    timer = setTimeout(() => {
      target.onReplies = () => {};
      reject(new Error(`sequential run: only ${i} of ${o.warmup + o.count} replies within ${o.timeoutMs} ms`));
    }, o.timeoutMs);
    target.onReplies = () => {
      const dt = Number(process.hrtime.bigint() - t0) / 1000;
      if (i >= o.warmup) us[i - o.warmup] = dt;
      i += 1;
      if (i < o.warmup + o.count) {
        t0 = process.hrtime.bigint();
        target.send(1);
        return;
      }
      clearTimeout(timer);
      target.onReplies = () => {};
      resolve(latencyOf(us));
    };
    t0 = process.hrtime.bigint();
    target.send(1);
  });
  return Promise.race([done, target.failed]).finally(() => clearTimeout(timer));
}
