/** Anything that counts its own traffic: `net.Socket`, `tls.TLSSocket`, or a plugin's counter. */
export interface ByteCounted {
  readonly bytesRead: number;
  readonly bytesWritten: number;
  /** When true the transport is finished; its totals are folded in and it is let go. */
  readonly destroyed?: boolean;
}

/**
 * Sums the traffic of the transports a session used; finished ones are folded into a carried total.
 * Most sessions have one transport for life: it is held in a field, and a set is made only when a
 * session (a resumed websocket, a reconnecting bot) has more than one live at once.
 */
export class ByteMeter {
  private carriedRead = 0;
  private carriedWritten = 0;
  private first: ByteCounted | undefined;
  private more: Set<ByteCounted> | undefined;

  add(transport: ByteCounted): void {
    this.fold();
    if (this.first === undefined) this.first = transport;
    else if (this.first !== transport) (this.more ??= new Set()).add(transport);
  }

  get read(): number {
    this.fold();
    let n = this.carriedRead + (this.first?.bytesRead ?? 0);
    if (this.more) for (const t of this.more) n += t.bytesRead;
    return n;
  }

  get written(): number {
    this.fold();
    let n = this.carriedWritten + (this.first?.bytesWritten ?? 0);
    if (this.more) for (const t of this.more) n += t.bytesWritten;
    return n;
  }

  private fold(): void {
    if (this.first?.destroyed) {
      this.carry(this.first);
      this.first = undefined;
    }
    if (!this.more) return;
    for (const t of this.more) {
      if (!t.destroyed) continue;
      this.carry(t);
      this.more.delete(t);
    }
    if (this.first === undefined && this.more.size > 0) {
      const [next] = this.more;
      this.more.delete(next!);
      this.first = next;
    }
    if (this.more.size === 0) this.more = undefined;
  }

  private carry(t: ByteCounted): void {
    this.carriedRead += t.bytesRead;
    this.carriedWritten += t.bytesWritten;
  }
}
