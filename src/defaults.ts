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

/**
 * gentle (default): made for a production IP500 V2, an embedded appliance whose one CPU also
 *   runs call control. At most 32 connections in flight and 300 new connections a second: each
 *   probe costs the target one SYN and one RST (or one handshake that we abort at once with an
 *   RST, so no service ever holds a half-open session), far below the SIP/H.323 signalling load
 *   the box carries, and no burst fills its SYN backlog or connection table. A full 1-65535
 *   sweep takes about 3.6 minutes. Retries (at most 4) go only to ports that stayed silent.
 * normal: a server-class target (IP Office Server Edition, Contact Center) in a maintenance
 *   window: 256 in flight, 3000 a second, about 25 s for the full range.
 * fast: no rate cap, 4096 in flight (bounded by the open-file limit), nmap -T4's retry cap
 *   and timeouts a little tighter: for lab hosts and hardened hosts that drop everything. The
 *   cap is reached only where it pays (silent ports, slow paths): the engine's answer window
 *   (src/scan/timing.ts) keeps about 256 in flight on a host that answers at once.
 */
export const PROFILES: Record<ProfileName, ScanCaps> = {
  gentle: {
    maxConcurrency: 32,
    maxRatePerSecond: 300,
    maxRetries: 4,
    minRttTimeoutMs: 100,
    maxRttTimeoutMs: 3000,
    initialRttTimeoutMs: 1000,
  },
  normal: {
    maxConcurrency: 256,
    maxRatePerSecond: 3000,
    maxRetries: 6,
    minRttTimeoutMs: 100,
    maxRttTimeoutMs: 2000,
    initialRttTimeoutMs: 1000,
  },
  fast: {
    maxConcurrency: 4096,
    maxRatePerSecond: 0,
    maxRetries: 6,
    minRttTimeoutMs: 50,
    maxRttTimeoutMs: 1250,
    initialRttTimeoutMs: 500,
  },
};

export const DEFAULT_PROFILE: ProfileName = 'gentle';

/** CIDR blocks larger than this need --max-hosts. */
export const DEFAULT_MAX_HOSTS = 256;

/**
 * all: every silent port ends open, closed or filtered (about one second per closed port);
 * documented: the documented ports only, the rest may stay open|filtered; none: no confirmation
 * round under an ICMP rate limit (as fast as nmap -sU, as unsure); auto: all when at most
 * AUTO_CONFIRM_MAX_SILENT ports are silent after the first pass (src/scan/probes/udp.ts), else documented.
 */
export type UdpConfirm = 'auto' | 'all' | 'documented' | 'none';
export const UDP_CONFIRM_MODES: readonly UdpConfirm[] = ['auto', 'all', 'documented', 'none'];
/** About two minutes of confirmation at Linux's one ICMP answer a second: worth it for a definite answer. */
export const AUTO_CONFIRM_MAX_SILENT = 120;
export const DEFAULT_UDP_CONFIRM: UdpConfirm = 'auto';

/** Default SNMP community for the UDP sysDescr probe. */
export const DEFAULT_SNMP_COMMUNITY = 'public';

/**
 * When a host's TCP answers stop meaning listeners (src/scan/answers-everything.ts): more than
 * half of the scanned ports open, with at least minOpenPorts of them (an IP Office has ~40 TCP
 * listeners, a Contact Center server a few hundred; a SYN proxy answers all 65535), or at least
 * minInvalidAnswers answers failing validation and more than invalidShare of the probes sent
 * (a genuine path sends none: answers to our source port come only from our own SYNs).
 */
export const ANSWERS_EVERYTHING = { minOpenPorts: 512, openShare: 0.5, minInvalidAnswers: 32, invalidShare: 0.01 } as const;

/** Default severity that makes the exit code non-zero. */
export const DEFAULT_FAIL_ON = 'error' as const;

/**
 * Largest input file read (matrix, policy, saved result, targets, imported document): 16 MiB.
 * The largest built-in matrix is about 60 KiB and a full two-transport scan of one host saves
 * a few MiB; a bigger input is a mistake or an attack, and is refused before it is parsed.
 */
export const MAX_INPUT_BYTES = 16 * 1024 * 1024;

/** YAML alias expansions allowed in a matrix or policy file (a "billion laughs" file needs millions). */
export const MAX_YAML_ALIAS_COUNT = 100;

/** Nesting depth allowed in a saved result (the format itself needs 7). */
export const MAX_JSON_DEPTH = 64;

export interface ValueRange {
  min: number;
  max: number;
}

/**
 * The accepted range of every numeric option; a value outside is refused (exit 2), never
 * clamped. Timeouts stop at 60 s: Node's timers silently turn anything above 2^31-1 ms into
 * 1 ms, which made every closed UDP port open|filtered. 65536 hosts is a /16.
 */
export const VALUE_RANGES = {
  maxConcurrency: { min: 1, max: 65536 },
  maxRatePerSecond: { min: 0, max: 1_000_000 },
  maxRetries: { min: 0, max: 50 },
  minRttTimeoutMs: { min: 1, max: 60_000 },
  maxRttTimeoutMs: { min: 1, max: 60_000 },
  initialRttTimeoutMs: { min: 1, max: 60_000 },
  seed: { min: 0, max: 2 ** 32 - 1 },
  maxHosts: { min: 1, max: 65536 },
} as const satisfies Record<keyof ScanCaps | 'seed' | 'maxHosts', ValueRange>;

/**
 * Hosts an audit scans at once. A fleet is bound by waiting (each host held to its profile's
 * per-host rate), not by CPU: 32 gentle hosts hold 32 x 32 sockets, well within the budget.
 */
export const DEFAULT_AUDIT_PARALLEL = 32;

/**
 * Planned ports an audit scans at once, over all its hosts: a scan holds about half a kilobyte of
 * state per planned port while it runs (measured: 8 hosts x 20000 ports, 80 MB of heap; V8 keeps
 * about as much again before it collects), so this keeps an audit's peak near 200 MB whatever the
 * fleet (a /24 with --ports all measured in bench:fleet). 32 hosts x 5000 ports fit; with
 * --ports all, 2 hosts run at once.
 */
export const AUDIT_PORTS_IN_FLIGHT = 160_000;

/** Waivers that expire within this many days are reported as notices by an audit. */
export const DEFAULT_WAIVER_WARNING_DAYS = 14;

/**
 * Service checks (src/checks/) after the port scan, per profile: checks at once, and the time
 * each connection of a check may take (connect, handshake, answer). A check opens one
 * connection, a TLS check one more per TLS version below the negotiated one; every connection is
 * closed as soon as its exchange is done. gentle runs two at a time: a TLS handshake costs an
 * IP500 V2 real CPU, and its call control shares that CPU.
 */
export interface CheckLimits {
  concurrency: number;
  timeoutMs: number;
}

export const CHECK_LIMITS: Record<ProfileName, CheckLimits> = {
  gentle: { concurrency: 2, timeoutMs: 5000 },
  normal: { concurrency: 8, timeoutMs: 4000 },
  fast: { concurrency: 16, timeoutMs: 3000 },
};

export const DEFAULT_CHECKS_MODE = 'documented' as const;

/** Lowest TLS version a listener may still accept before it is a finding (policy `checks.tlsFloor`). */
export const DEFAULT_TLS_FLOOR = 'TLSv1.2' as const;

/** A certificate that expires within this many days is a finding (policy `checks.certificateExpiryDays`). */
export const DEFAULT_CERTIFICATE_EXPIRY_DAYS = 30;

/** Runs a --history folder keeps (--keep). */
export const DEFAULT_HISTORY_KEEP = 30;

/** Exit code when a notification could not be delivered and --notify-required asked for it to count. */
export const EXIT_NOTIFY_FAILED = 5;
