/** The effective parameters a result records, so that an audit can be repeated. */
import type { ChecksMode } from '../checks/model.js';
import type { CheckLimits, ProfileName, ScanCaps, UdpConfirm } from '../defaults.js';
import type { EngineDetails } from '../scan/engine.js';
import type { Privileges, ScanTypeDecision } from '../scan/privileges.js';

export interface RunParameters {
  command: string;
  targets: string[];
  profile: ProfileName;
  caps: ScanCaps;
  /** Port specs as scanned ("1-65535", "" when the transport was not scanned). */
  ports: string;
  udp: string;
  maxHosts: number;
  seed: number;
  scanType: ScanTypeDecision['scanType'];
  privileges: Privileges;
  prober: EngineDetails['prober'];
  effectiveTcpConcurrency: number;
  udpConcurrency: number;
  udpScanned: boolean;
  udpConfirm: UdpConfirm;
  assumeUp: boolean;
  udpRawIcmp: boolean;
  fdSoftLimit: number;
  tcpTiming: EngineDetails['tcp'];
  checks: ChecksMode;
  checkLimits: CheckLimits;
  secondLook: EngineDetails['secondLook'];
}
