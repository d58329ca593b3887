/**
 * Keeps one kind of warning from filling the log. The first occurrence is logged in full; later ones
 * are only counted, and at the end of every interval that counted any, one summary line says how many
 * were not logged (and from which addresses, up to `MAX_REMOTES`). An interval that counted none ends
 * the quiet period: the next occurrence is logged in full again. A sustained flood of T ms therefore
 * logs at most 1 + T / intervalMs lines.
 */
export class LogLimiter {
  static readonly MAX_REMOTES = 10;
  private suppressed = 0;
  private remotes = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly summarise: (suppressed: number, remotes: string[]) => void,
  ) {}

  /** One occurrence: `logFull` runs unless an interval is open, in which case it is only counted. */
  hit(remote: string | undefined, logFull: () => void): void {
    if (this.timer) {
      this.suppressed++;
      if (remote !== undefined && this.remotes.size < LogLimiter.MAX_REMOTES) this.remotes.add(remote);
      return;
    }
    logFull();
    this.arm();
  }

  /** Logs the summary of what is counted so far and ends the interval (at shutdown). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.report();
  }

  private arm(): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.report()) this.arm();
    }, this.intervalMs);
    this.timer.unref();
  }

  private report(): boolean {
    if (this.suppressed === 0) return false;
    const n = this.suppressed;
    const remotes = [...this.remotes];
    this.suppressed = 0;
    this.remotes.clear();
    this.summarise(n, remotes);
    return true;
  }
}
