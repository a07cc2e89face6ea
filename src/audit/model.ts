/**
 * A fleet audit's result: one self-describing file per run or shard (schema portmatrix/audit),
 * holding each host's own scan result (its matrix, its vantage point, its findings), so shards
 * run anywhere can be merged and any two audits diffed.
 */
import type { ScanResult } from '../result/model.js';
import type { Shard } from './shard.js';

export const AUDIT_SCHEMA_ID = 'portmatrix/audit';
export const AUDIT_SCHEMA_VERSION = 1;

export interface AuditHost {
  /** The address audited (hosts are keyed by it, as in every result). */
  address: string;
  /** The inventory's label, when it gave one. */
  name?: string;
  site?: string;
  tags: string[];
  /** 0 conformant, 1 findings at its --fail-on, 3 not judged (down or unreachable), 130 interrupted. */
  exitCode: number;
  result: ScanResult;
}

export interface AuditResult {
  schema: typeof AUDIT_SCHEMA_ID;
  schemaVersion: typeof AUDIT_SCHEMA_VERSION;
  tool: { name: string; version: string };
  startedAt: string;
  finishedAt: string;
  complete: boolean;
  incompleteReason?: string;
  /** The inventory audited: its file and content hash (shards of one inventory share it), and its host count. */
  inventory: { file: string; sha256: string; hosts: number };
  /** The part of the inventory this run covered; absent for the whole, or after a merge of every part. */
  shard?: Shard;
  /** Parts merged into this result (merge), with the vantage each ran from. */
  parts?: { shard?: Shard; startedAt: string; vantage: string }[];
  sites?: string[];
  parameters: { parallel: number; warnWaiverDays: number; [key: string]: unknown };
  hosts: AuditHost[];
  /** Waivers that expire within warnWaiverDays, per host (notices). */
  expiringWaivers: ExpiringWaiver[];
  exitCode: number;
}

export interface ExpiringWaiver {
  address: string;
  transport: string;
  port: number;
  ticket?: string;
  reason: string;
  expires: string;
  daysLeft: number;
}
