/**
 * Every default in one place. The profile caps are what keep a scan safe for a
 * production IP500 V2: `gentle` is the default, faster profiles are opt-in.
 */
export type ProfileName = 'gentle' | 'normal' | 'fast';

export interface ScanCaps {
  /** Connections (TCP) or probes (UDP) in flight at once, per scan. */
  maxConcurrency: number;
  /** New connections or probes per second, per host. 0: no cap. */
  maxRatePerSecond: number;
  /** Retries after the first probe, for ports that gave no answer. */
  maxRetries: number;
  /** Bounds of the adaptive per-probe timeout (nmap's min/max-rtt-timeout). */
  minRttTimeoutMs: number;
  maxRttTimeoutMs: number;
  /** Timeout before any RTT has been measured. */
  initialRttTimeoutMs: number;
}

export const PROFILES: Record<ProfileName, ScanCaps> = {
  gentle: {
    maxConcurrency: 32,
    maxRatePerSecond: 300,
    maxRetries: 2,
    minRttTimeoutMs: 100,
    maxRttTimeoutMs: 3000,
    initialRttTimeoutMs: 1000,
  },
  normal: {
    maxConcurrency: 256,
    maxRatePerSecond: 3000,
    maxRetries: 2,
    minRttTimeoutMs: 100,
    maxRttTimeoutMs: 2000,
    initialRttTimeoutMs: 1000,
  },
  fast: {
    maxConcurrency: 2048,
    maxRatePerSecond: 0,
    maxRetries: 2,
    minRttTimeoutMs: 50,
    maxRttTimeoutMs: 1250,
    initialRttTimeoutMs: 500,
  },
};

export const DEFAULT_PROFILE: ProfileName = 'gentle';

/** CIDR blocks larger than this need --max-hosts. */
export const DEFAULT_MAX_HOSTS = 256;

/** Default SNMP community for the UDP sysDescr probe. */
export const DEFAULT_SNMP_COMMUNITY = 'public';

/** Default severity that makes the exit code non-zero. */
export const DEFAULT_FAIL_ON = 'error' as const;
