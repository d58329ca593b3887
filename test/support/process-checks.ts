/** What `portico status --json` says of the supervised game (the fields the fault tests read). */
export interface GameStatus {
  state: string;
  pid: number | null;
  restarts: number;
  crashes: number;
  unresponsive_kills: number;
  linked: boolean;
}

/** Whether a process with this pid exists (signal 0 checks without sending anything). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Sends SIGKILL to pid if it still exists (a SIGSTOPped game left behind by a failed test). */
export function killIfAlive(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    /* gone */
  }
}
