/** A bounded work queue: at most `concurrency` jobs run at once, at most `maxPending` wait; more are refused. */

export class QueueFullError extends Error {
  constructor() {
    super("work queue is full");
    this.name = "QueueFullError";
  }
}

export class QueueClosedError extends Error {
  constructor() {
    super("work queue is closed");
    this.name = "QueueClosedError";
  }
}

interface Job {
  run(): void;
  fail(err: Error): void;
}

export class WorkQueue {
  private running = 0;
  private readonly waiting: Job[] = [];
  private head = 0;
  private closed = false;

  constructor(
    readonly concurrency: number,
    readonly maxPending: number,
  ) {
    if (!(concurrency >= 1)) throw new RangeError("concurrency must be at least 1");
  }

  get pending(): number {
    return this.waiting.length - this.head;
  }

  /** Runs `fn` when a slot is free. Rejects with QueueFullError at once when too many wait. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new QueueClosedError());
    if (this.running >= this.concurrency && this.pending >= this.maxPending) return Promise.reject(new QueueFullError());
    return new Promise<T>((resolve, reject) => {
      const job: Job = {
        run: () => {
          this.running++;
          let p: Promise<T>;
          try {
            p = fn();
          } catch (err) {
            p = Promise.reject(err);
          }
          p.then(resolve, reject).finally(() => {
            this.running--;
            this.next();
          });
        },
        fail: reject,
      };
      if (this.running < this.concurrency) job.run();
      else this.waiting.push(job);
    });
  }

  /** Refuses new work and fails everything still waiting (running jobs finish). */
  close(): void {
    this.closed = true;
    const left = this.waiting.slice(this.head);
    this.waiting.length = 0;
    this.head = 0;
    for (const job of left) job.fail(new QueueClosedError());
  }

  private next(): void {
    while (this.running < this.concurrency && this.pending > 0) {
      const job = this.waiting[this.head++]!;
      if (this.head > 1024 && this.head * 2 > this.waiting.length) {
        this.waiting.splice(0, this.head);
        this.head = 0;
      }
      job.run();
    }
  }
}
