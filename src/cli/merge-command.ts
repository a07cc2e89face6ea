/**
 * `portmatrix merge <audit.json...>`: shard or site results joined into one audit and report
 * set, each host keeping its own vantage point; a host judged against different matrix versions
 * is refused (exit 2) unless --allow-mixed-matrices.
 */
import type { Command } from 'commander';
import { mergeAudits } from '../audit/merge.js';
import { renderAuditTable } from '../audit/report/table.js';
import { AUDIT_FILE_FORMATS, renderAuditJson, writeAuditReports, type AuditFileFormat } from '../audit/report/write.js';
import { parseAuditText } from '../audit/schema.js';
import { PortmatrixError } from '../errors.js';
import { shouldColor } from '../output/reports.js';
import { readResult } from './read-result.js';

interface MergeFlags {
  allowMixedMatrices?: boolean;
  format?: string[];
  output?: string;
}

export function registerMergeCommand(program: Command): Command {
  return program
    .command('merge')
    .description('join audit results (shards, sites) into one audit and report set; exit code as the audit\'s')
    .argument('<audits...>', 'audit.json files written by portmatrix audit --output')
    .option('--allow-mixed-matrices', 'keep a host judged against different matrix versions in different parts (both are kept)')
    .option('--format <formats>', `report files with --output: ${AUDIT_FILE_FORMATS.join(', ')} (default: all)`, (value: string, previous: string[] = []) => [...previous, ...value.split(',')])
    .option('--output <dir>', 'folder for the merged report set (audit.json, index.html, hosts/, audit.md, audit.junit.xml)')
    .action(async (files: string[], flags: MergeFlags) => {
      const formats = (flags.format && flags.format.length > 0 ? flags.format : AUDIT_FILE_FORMATS) as AuditFileFormat[];
      const unknown = formats.find((format) => !AUDIT_FILE_FORMATS.includes(format));
      if (unknown !== undefined) throw new PortmatrixError('E_USAGE', `unknown --format "${unknown}" for merge`, { hint: `formats: ${AUDIT_FILE_FORMATS.join(', ')}` });
      const parts = await Promise.all(files.map(async (file) => parseAuditText(await readResult(file), file)));
      const merged = mergeAudits(parts, { allowMixedMatrices: flags.allowMixedMatrices ?? false, now: new Date(), files });
      if (flags.output !== undefined) {
        for (const file of await writeAuditReports(merged, flags.output, formats)) process.stderr.write(`wrote ${file}\n`);
        process.stdout.write(renderAuditTable(merged, { color: shouldColor({ stdout: process.stdout, env: process.env }) }));
      } else process.stdout.write(renderAuditJson(merged));
      process.exitCode = merged.exitCode;
    });
}
