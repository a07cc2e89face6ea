/** What an application-protocol probe reports about one connection. */
import type { HttpSeen } from '../model.js';

export interface AppAnswer {
  /** answered: the protocol asked for; other: something else answered; silent: nothing readable came back. */
  status: 'answered' | 'other' | 'silent';
  /** Untrusted, sanitised and capped. */
  banner?: string;
  http?: HttpSeen;
  /** Our own words on what happened. */
  detail?: string;
}

/** The read budget of one exchange: greetings and status lines are short. */
export const MAX_READ_BYTES = 8192;
/** Longest untrusted line kept in a result. */
export const MAX_BANNER_LENGTH = 200;
