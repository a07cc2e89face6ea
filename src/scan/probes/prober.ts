/** What every TCP prober (native or net.Socket connect, raw SYN) offers the engine; its own file so the probers and their batch layer import it without a cycle. */
/** The TCP prober a scan used: the native or net.Socket connect prober, or the raw SYN prober. */
export type ProberKind = 'native' | 'net-socket' | 'raw-syn';

export interface ProbeOutcomeHandler {
  /** outcome: 'connected', 'self-connect' or an errno name; icmpType/icmpCode -1 when unknown. */
  onOutcome(slot: number, outcome: string, rttMs: number, icmpType: number, icmpCode: number): void;
  onBatchEnd(): void;
}

export interface ConnectProber {
  readonly kind: ProberKind;
  /** Queues a connect; queued commands go out at flush(). */
  connect(slot: number, port: number): void;
  abort(slot: number): void;
  /** Sends the queued connects and aborts in one batch. */
  flush(): void;
  /** Delivers outcomes that are ready now, so a timeout is never judged on an unread answer. */
  drain(): void;
  /**
   * When the slot's probe really went out (performance.now() clock), undefined while it waits to
   * be sent: a timeout runs from there, since a loaded machine can hold a queued probe back.
   */
  sentAt(slot: number): number | undefined;
  close(): void;
}
