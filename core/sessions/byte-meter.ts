/** Anything that counts its own traffic: `net.Socket`, `tls.TLSSocket`, or a plugin's counter. */
export interface ByteCounted {
  readonly bytesRead: number;
  readonly bytesWritten: number;
  /** When true the transport is finished; its totals are folded in and it is let go. */
  readonly destroyed?: boolean;
}

/** Sums the traffic of the transports a session used; finished ones are folded into a carried total. */
export class ByteMeter {
  private carriedRead = 0;
  private carriedWritten = 0;
  private readonly live = new Set<ByteCounted>();

  add(transport: ByteCounted): void {
    this.fold();
    this.live.add(transport);
  }

  get read(): number {
    this.fold();
    let n = this.carriedRead;
    for (const t of this.live) n += t.bytesRead;
    return n;
  }

  get written(): number {
    this.fold();
    let n = this.carriedWritten;
    for (const t of this.live) n += t.bytesWritten;
    return n;
  }

  private fold(): void {
    for (const t of this.live) {
      if (!t.destroyed) continue;
      this.carriedRead += t.bytesRead;
      this.carriedWritten += t.bytesWritten;
      this.live.delete(t);
    }
  }
}
