/** Builds the saved result of a run (src/result/model.ts). Pure: the caller passes times and vantage. */
import type { ChecksSection } from '../checks/model.js';
import type { HostScan } from '../model/port-state.js';
import { RESULT_SCHEMA_ID, RESULT_SCHEMA_VERSION, type ScanResult } from './model.js';
import { TOOL_NAME, TOOL_VERSION } from '../version.js';

export interface BuildScanResultOptions {
  startedAt: Date;
  finishedAt: Date;
  complete: boolean;
  incompleteReason?: string;
  vantage: { hostname: string; sourceAddresses: string[] };
  parameters: Record<string, unknown>;
  hosts: HostScan[];
  checks?: ChecksSection;
}

export function buildScanResult(options: BuildScanResultOptions): ScanResult {
  return {
    schema: RESULT_SCHEMA_ID,
    schemaVersion: RESULT_SCHEMA_VERSION,
    tool: { name: TOOL_NAME, version: TOOL_VERSION },
    startedAt: options.startedAt.toISOString(),
    finishedAt: options.finishedAt.toISOString(),
    complete: options.complete,
    ...(options.complete ? {} : { incompleteReason: options.incompleteReason ?? 'stopped early' }),
    vantage: { hostname: options.vantage.hostname, sourceAddresses: [...new Set(options.vantage.sourceAddresses)].sort() },
    parameters: options.parameters,
    hosts: options.hosts,
    ...(options.checks ? { checks: options.checks } : {}),
  };
}
