/**
 * The JavaScript half of the native probers (connect and SYN): commands (slot, port, ticket) go
 * out in batches through a shared Int32Array, outcome records come back in batches through
 * another, and every probe carries a ticket so an outcome that crossed an abort is dropped.
 * The records are 6 int32: slot, code, rtt (microseconds), icmp type, icmp code, ticket.
 */
import type { ConnectProber, ProbeOutcomeHandler, ProberKind } from './prober.js';

const RECORD_INTS = 6;
const RESULT_RECORDS = 4096;
const COMMAND_INTS = 3;
const COMMAND_CAPACITY = 4096;

/** What a native prober handle does once it exists. */
export interface NativeHandle {
  submit(count: number): void;
  drain(): void;
  destroy(): void;
}

/** The shared arrays a native prober works on; the native side writes sentAt/sentTickets when a probe leaves. */
export interface NativeArrays {
  results: Int32Array;
  commands: Int32Array;
  /** Per slot: when the native side sent the probe (performance.now() clock) ... */
  sentAt: Float64Array;
  /** ... and the ticket of the probe that time belongs to. */
  sentTickets: Int32Array;
}

export interface NativeBatchOptions {
  kind: ProberKind;
  slots: number;
  /** Creates the native handle over the shared arrays; throws when it cannot (the caller decides). */
  open(arrays: NativeArrays, onResults: (count: number) => void): NativeHandle;
  /** The outcome name of a record's code ('connected', 'syn-ack', an errno name ...). */
  outcomeName(code: number): string;
}

export function createNativeBatchProber(options: NativeBatchOptions, handler: ProbeOutcomeHandler): ConnectProber {
  const results = new Int32Array(RESULT_RECORDS * RECORD_INTS);
  const commands = new Int32Array(COMMAND_CAPACITY * COMMAND_INTS);
  let commandCount = 0;
  // The ticket of the probe each slot waits for (0: none).
  const tickets = new Int32Array(options.slots);
  const sentAt = new Float64Array(options.slots);
  const sentTickets = new Int32Array(options.slots);
  let lastTicket = 0;
  const onResults = (count: number): void => {
    for (let index = 0; index < count; index++) {
      const base = index * RECORD_INTS;
      const slot = results[base] ?? 0;
      const ticket = results[base + 5] ?? 0;
      if (tickets[slot] !== ticket) continue;
      tickets[slot] = 0;
      handler.onOutcome(
        slot,
        options.outcomeName(results[base + 1] ?? 0),
        (results[base + 2] ?? 0) / 1000,
        results[base + 3] ?? -1,
        results[base + 4] ?? -1,
      );
    }
    handler.onBatchEnd();
  };
  const handle = options.open({ results, commands, sentAt, sentTickets }, onResults);
  const flush = (): void => {
    if (commandCount === 0) return;
    const count = commandCount;
    commandCount = 0;
    handle.submit(count);
  };
  const push = (slot: number, port: number, ticket: number): void => {
    if (commandCount === COMMAND_CAPACITY) flush();
    const base = commandCount++ * COMMAND_INTS;
    commands[base] = slot;
    commands[base + 1] = port;
    commands[base + 2] = ticket;
  };
  return {
    kind: options.kind,
    connect(slot, port) {
      lastTicket = lastTicket === 0x7fffffff ? 1 : lastTicket + 1;
      tickets[slot] = lastTicket;
      push(slot, port, lastTicket);
    },
    abort(slot) {
      const ticket = tickets[slot] ?? 0;
      if (ticket === 0) return;
      tickets[slot] = 0;
      push(slot, 0, ticket);
    },
    flush,
    // Undefined while the slot's current probe is still queued on the native side.
    sentAt: (slot) => (sentTickets[slot] === tickets[slot] ? sentAt[slot] : undefined),
    drain: () => {
      flush();
      handle.drain();
    },
    close: () => handle.destroy(),
  };
}
