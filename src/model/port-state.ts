/** The observed-state vocabulary, fixed in one place (nmap's words, so users read it without a legend). */
export type Transport = 'tcp' | 'udp';
export const TRANSPORTS: readonly Transport[] = ['tcp', 'udp'];

/** The key of one port in a set or map: "tcp/443". */
export function portKey(transport: Transport, port: number): string {
  return `${transport}/${port}`;
}

export type PortState = 'open' | 'closed' | 'filtered' | 'open|filtered';
export const PORT_STATES: readonly PortState[] = ['open', 'closed', 'filtered', 'open|filtered'];

/** Why a port got its state. Every observation carries one. */
export type Reason =
  | 'syn-ack' // TCP handshake completed (connect or SYN scan)
  | 'conn-refused' // TCP RST to our SYN
  | 'reset' // RST seen by a raw (SYN) scan
  | 'no-response' // nothing came back after all retries
  | 'udp-response' // a UDP datagram came back
  | 'icmp-port-unreach' // ICMP type 3 code 3
  | 'icmp-net-unreach' // code 0
  | 'icmp-host-unreach' // code 1
  | 'icmp-proto-unreach' // code 2
  | 'icmp-net-prohibited' // code 9
  | 'icmp-host-prohibited' // code 10
  | 'icmp-admin-prohibited' // code 13
  | 'host-unreach' // EHOSTUNREACH without a raw socket to read the code
  | 'net-unreach' // ENETUNREACH without a raw socket to read the code
  | 'send-denied'; // EPERM: a firewall on the scanning host itself refused to send the probe

export interface Observation {
  transport: Transport;
  port: number;
  state: PortState;
  reason: Reason;
  /** Round-trip time of the answer that decided the state; null when nothing answered. */
  rttMs: number | null;
  /** Probes sent to this port. */
  attempts: number;
  /** Service name the probe assumed (udp payload, banner guess), when known. */
  service?: string;
  /** Untrusted text read from the network (banner, SNMP sysDescr, SIP Server header). */
  banner?: string;
  /** Why the port got its state when the state alone does not say (our own text): e.g. why a UDP port stayed open|filtered. */
  detail?: string;
  /** Open on the main pass but not on a second look just before the report (src/scan/second-look.ts). */
  flapping?: true;
}

/**
 * A host whose TCP answers cannot be told from listeners: a SYN proxy or middlebox that answers
 * every SYN, or one that sends answers failing validation (src/scan/answers-everything.ts).
 */
export interface AnswersEverything {
  transport: 'tcp';
  openPorts: number;
  scannedPorts: number;
  /** Answers from the host that failed validation against our sequence numbers (SYN scan only). */
  invalidAnswers: number;
}

/** Ports that were scanned but are not listed one by one (as nmap folds them; see HostScan.folded). */
export interface FoldedPorts {
  transport: Transport;
  state: PortState;
  reason: Reason;
  count: number;
}

/**
 * Whether a host was there to judge (nmap's "Host seems down", decided before port states mean
 * anything): up when some port answered, down when nothing did, unreachable when this machine
 * could not send to it. Decided once per host by src/scan/host-status.ts.
 */
export type HostState = 'up' | 'down' | 'unreachable';
export type HostReason =
  | 'port-answered' // up: some port answered open or closed, or the host's firewall answered for it
  | 'no-response' // down: no answer to any probe
  | 'host-unreach' // down: the stack or a router said host unreachable (no ARP/NDP answer) and nothing answered
  | 'no-route' // unreachable: the routing table has no usable route to the address; no probe was sent
  | 'net-unreach' // unreachable: network unreachable, and nothing answered
  | 'send-denied'; // unreachable: a firewall on the scanning host refused the probes

export interface HostStatus {
  state: HostState;
  reason: HostReason;
  /** --assume-up: the host was judged as up although the evidence (reason) says otherwise. */
  assumed?: boolean;
}

export interface HostScan {
  /** The target as the user wrote it (an address, a name, or the CIDR block this host came from). */
  target: string;
  /** The address actually scanned (names are resolved once): the host's identity in findings, reports and drift. */
  address: string;
  family: 4 | 6;
  /** The host name the address was resolved from, when the target was a name. */
  name?: string;
  /** What was planned, as port specs ("1-65535", "" when the transport was not scanned). */
  plan: { tcp: string; udp: string };
  /** Every port that is not folded, sorted by transport then port. */
  observations: Observation[];
  /**
   * Ports not listed in observations; every planned port is in exactly one of the two. Per
   * transport at most ONE state is folded: the more common of closed and filtered (a hardened
   * host folds filtered and lists its few closed ports), possibly under several reasons. Open,
   * open|filtered and ports with a banner are always listed. So an unlisted planned port of a
   * complete host has its transport's folded state (src/scan/fold.ts findFoldedState).
   */
  folded: FoldedPorts[];
  /** False when the scan of this host stopped early (interrupt, fatal error). */
  complete: boolean;
  /** Set when the host answers on (nearly) every TCP port: its open ports say nothing about listeners. */
  answersEverything?: AnswersEverything;
  /** Up, down or unreachable, with the evidence; only an up host's ports are judged against a matrix. */
  status: HostStatus;
}
