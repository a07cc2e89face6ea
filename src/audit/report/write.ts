/**
 * The audit's report set in one folder: audit.json, index.html with a page per host under
 * hosts/, audit.md, audit.junit.xml; each file written atomically. With a previous run (history
 * or baseline) the index, the Markdown and the terminal summary carry a "since the previous run"
 * section, and drift.json holds that drift as data. An interrupted audit writes
 * the same set, marked incomplete.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { renderHtml } from '../../report/html.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { toJsonText } from '../../util/untrusted-text.js';
import type { AuditSincePrevious } from '../drift.js';
import { renderDriftJson } from '../../report/drift/json.js';
import type { AuditResult } from '../model.js';
import { renderAuditIndexHtml } from './html.js';
import { renderAuditJunit } from './junit.js';
import { renderAuditMarkdown } from './markdown.js';
import { hostPageName } from './view.js';

export type AuditFileFormat = 'json' | 'html' | 'markdown' | 'junit';
export const AUDIT_FILE_FORMATS: readonly AuditFileFormat[] = ['json', 'html', 'markdown', 'junit'];

export function renderAuditJson(audit: AuditResult): string {
  return `${toJsonText(audit)}\n`;
}

/** Writes the formats asked for into `folder` (created if missing); returns the files written. */
export async function writeAuditReports(audit: AuditResult, folder: string, formats: readonly AuditFileFormat[], sincePrevious?: AuditSincePrevious): Promise<string[]> {
  await mkdir(folder, { recursive: true });
  const files: [string, string][] = [];
  if (formats.includes('json')) {
    files.push(['audit.json', renderAuditJson(audit)]);
    if (sincePrevious) files.push(['drift.json', renderDriftJson(sincePrevious.drift)]);
  }
  if (formats.includes('html')) {
    files.push(['index.html', renderAuditIndexHtml(audit, sincePrevious)]);
    await mkdir(path.join(folder, 'hosts'), { recursive: true });
    for (const host of audit.hosts) files.push([hostPageName(host.address), renderHtml(host.result)]);
  }
  if (formats.includes('markdown')) files.push(['audit.md', renderAuditMarkdown(audit, sincePrevious)]);
  if (formats.includes('junit')) files.push(['audit.junit.xml', renderAuditJunit(audit)]);
  const written: string[] = [];
  for (const [name, content] of files) {
    const file = path.join(folder, name);
    await writeFileAtomic(file, content);
    written.push(file);
  }
  return written;
}
