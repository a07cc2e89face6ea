import type { ChecksSection } from '../checks/model.js';
import type { Drift } from '../conformance/drift.js';
import type { Finding, FailOn, HostFinding } from '../conformance/model.js';
import type { Expectation, Selection } from '../matrix/expectation.js';
import type { DocumentNote } from '../matrix/model.js';
import type { HostScan } from '../model/port-state.js';

export const RESULT_SCHEMA_ID = 'portmatrix/result';
export const RESULT_SCHEMA_VERSION = 1;

/**
 * Everything one run produced, enough to repeat the scan and re-render every report
 * (`portmatrix report` re-renders a saved result byte-identically).
 */
export interface ScanResult {
  schema: typeof RESULT_SCHEMA_ID;
  schemaVersion: typeof RESULT_SCHEMA_VERSION;
  tool: { name: string; version: string };
  startedAt: string;
  finishedAt: string;
  /** False when the scan was interrupted or stopped early: what is here is what was scanned. */
  complete: boolean;
  incompleteReason?: string;
  /** Where the scan ran from: what is seen depends on it. */
  vantage: { hostname: string; sourceAddresses: string[] };
  /** Every effective parameter: profile, caps, timeouts, port plans, privileges. */
  parameters: Record<string, unknown>;
  hosts: HostScan[];
  /** What the service checks after the port scan saw (--checks); absent with --checks none. */
  checks?: ChecksSection;
  conformance?: {
    matrix: { id: string; product: string; version: string; document: string };
    selection: Selection;
    failOn: FailOn;
    /** Conditions declared to hold (policy `conditions:` and --condition); absent: none. */
    conditions?: string[];
    /** The document's notes that change what a scan should expect ("by default all ports are open"). */
    notes?: DocumentNote[];
    expectations: Expectation[];
    findings: Finding[];
    /** One per host that was not up: it was not judged (its ports have no findings). */
    hostFindings: HostFinding[];
  };
  /** What changed since the previous run (--history's latest, or --baseline); absent when there was none to compare with. */
  sincePrevious?: SincePrevious;
}

/** The "since the previous run" section of a run's reports. */
export interface SincePrevious {
  /** Where the previous run was read from: a history entry or the --baseline file. */
  source: string;
  /**
   * Set when the previous run was judged against another matrix (or none): its observations were
   * judged again against this run's matrix (or its findings left out without one), so the drift
   * shows what changed on the host, not what changed in the documents.
   */
  matrixChanged?: { before: string; after: string };
  drift: Drift;
}
