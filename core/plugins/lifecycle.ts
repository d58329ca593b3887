import { ErrorCodes } from "../errors/error-codes.js";
import { PortalError } from "../errors/portal-error.js";

/**
 * A plugin instance's state, one name each: `idle` (made, not started), `starting`, `running`,
 * `stopping`, `stopped`, `failed` (start() rejected). An instance is started at most once.
 */
export type FactoryState = "idle" | "starting" | "running" | "stopping" | "stopped" | "failed";

/**
 * Makes start() and stop() idempotent and safe to overlap: a second start() gets the first one's
 * promise, a second stop() the first stop's; stop() during start() does not wait for the start (it
 * may never finish) — the start sees `cancelled` and undoes what it made.
 */
export class Lifecycle {
  private current: FactoryState = "idle";
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;

  get state(): FactoryState {
    return this.current;
  }

  /** True once stop() was called: a start still in progress must undo its work. */
  get cancelled(): boolean {
    return this.current === "stopping" || this.current === "stopped";
  }

  start(run: () => Promise<void>): Promise<void> {
    if (this.cancelled) return Promise.reject(new PortalError(ErrorCodes.PORTAL_STATE, "a stopped plugin instance cannot be started again"));
    if (this.starting) return this.starting;
    this.current = "starting";
    this.starting = (async () => {
      try {
        await run();
      } catch (err) {
        if (!this.cancelled) this.current = "failed";
        throw err;
      }
      if (this.current === "starting") this.current = "running";
    })();
    return this.starting;
  }

  stop(run: () => Promise<void>): Promise<void> {
    if (this.stopping) return this.stopping;
    const neverStarted = this.current === "idle";
    this.current = "stopping";
    this.stopping = (async () => {
      try {
        if (!neverStarted) await run();
      } finally {
        this.current = "stopped";
      }
    })();
    return this.stopping;
  }
}
