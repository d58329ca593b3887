import type { RestartMode, StopMode } from "./link-messages.js";

/**
 * The one owner of "how did the last game process end": a stop the game announced (`reload`,
 * `shutdown`) or the portal asked for (`server-stop`) is recorded here, and turned into the
 * restart mode the next portal-sync reports when that game's link closes.
 */
export class GameRunState {
  private requested: StopMode | undefined;
  private mode: RestartMode = "cold";

  /** What the next portal-sync reports. */
  get restartMode(): RestartMode {
    return this.mode;
  }

  /** The stop announced or asked for since the current game linked, if any. */
  get stopRequested(): StopMode | undefined {
    return this.requested;
  }

  /** The game said it will stop, or the portal asked it to. */
  requestStop(mode: StopMode): void {
    this.requested = mode;
  }

  /** The game's link closed: a stop announced before makes it a reload/reset/cold start, anything else a crash. */
  linkClosed(): void {
    const mode = this.requested;
    this.mode = mode === "reload" || mode === "reset" ? mode : mode === "shutdown" ? "cold" : "crash";
    this.requested = undefined;
  }

  /** A new game linked and was synced; stops announced before belong to the previous one. */
  linked(): void {
    this.requested = undefined;
  }
}
