import { basename } from 'node:path';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { PortmatrixError } from '../errors.js';
import { importMatrixDocument, type ImportReport } from '../matrix/import/import-document.js';
import { overridesSchema, type MatrixOverrides } from '../matrix/import/overrides.js';
import { renderMatrixYaml } from '../matrix/import/render.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { readInputText } from '../util/read-input.js';
import { toTerminalLines, toTerminalText } from '../util/untrusted-text.js';

/** Exit code when the draft was written but some rows could not be read and need a human. */
export const EXIT_ROWS_NEED_REVIEW = 4;

interface ImportCommandOptions {
  product?: string;
  version?: string;
  id?: string;
  self?: string;
  overrides?: string;
  output?: string;
}

function readInput(path: string): Promise<string> {
  return readInputText(path, { label: path, code: 'E_IMPORT', hint: 'give the path of a text export of a port-matrix document' });
}

async function readOverrides(path: string): Promise<MatrixOverrides> {
  const text = await readInput(path);
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (cause) {
    throw new PortmatrixError('E_IMPORT', `${path}: not valid YAML: ${(cause as Error).message.split('\n')[0]}`, { cause });
  }
  const parsed = overridesSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new PortmatrixError('E_IMPORT', `${path}: ${issue.path.join('.') || '(top)'}: ${issue.message}`, {
      hint: 'see matrices/overrides/*.yaml for examples',
    });
  }
  return parsed.data;
}

/** The import report, for a human: tables, counts, every repaired and unreadable row with its line. */
export function formatImportReport(report: ImportReport, outputName: string): string {
  const lines: string[] = [];
  const portTables = report.tables.filter((table) => table.kind === 'ports');
  const changeTables = report.tables.filter((table) => table.kind === 'changes');
  lines.push(`${report.source}: ${portTables.length} port tables, ${changeTables.length} change tables -> ${outputName}`);
  for (const table of report.tables) {
    lines.push(`  line ${table.line}: ${table.title} (${table.style}${table.kind === 'changes' ? ', history' : ''}): ${table.rows} rows`);
  }
  lines.push(
    `rows read: ${report.rowsRead}; history entries: ${report.historyEntries}; repaired: ${report.repaired.length}; ` +
      `overridden: ${report.overridden.length}; unreadable: ${report.unreadable.length}; conditional: ${report.conditional.length}; ` +
      `multi-system: ${report.multiSystem.length}; contradictory: ${report.contradictions.length}; ` +
      `page headers/footers removed: ${report.furnitureLines}; repeated column headers: ${report.repeatedHeaders}`,
  );
  if (report.repaired.length > 0) lines.push('repaired:');
  for (const row of report.repaired) lines.push(`  ${report.source}:${row.line}: ${row.table} row ${row.row}: ${row.repairs.join('; ')}`);
  if (report.overridden.length > 0) lines.push('overridden (reviewed):');
  for (const row of report.overridden) lines.push(`  ${report.source}:${row.line}: ${row.table} row ${row.row}: ${row.reason}`);
  if (report.conditional.length > 0) lines.push('conditional (expected only when the condition holds; rule that fired):');
  for (const row of report.conditional) lines.push(`  ${report.source}:${row.line}: ${row.table} row ${row.row}: ${row.kind} [${row.rule}] "${row.text}"`);
  if (report.multiSystem.length > 0) lines.push('several systems in the destination (a listener of each):');
  for (const row of report.multiSystem) lines.push(`  ${report.source}:${row.line}: ${row.table} row ${row.row}: ${row.systems.join(' / ')} -> ${row.components.join(', ')}`);
  if (report.contradictions.length > 0) lines.push('contradictory (the words contradict the columns; decided by the overrides):');
  for (const row of report.contradictions) {
    lines.push(`  ${report.source}:${row.line}: ${row.table} row ${row.row}: [${row.rule}] ${row.text}; ${row.decision === 'undecided' ? 'UNDECIDED' : `decided: ${row.decision}`}`);
  }
  if (report.documentNotes.length > 0) lines.push('document notes that change what a scan should expect:');
  for (const note of report.documentNotes) lines.push(`  ${report.source}:${note.line}: [${note.rule}] "${note.text}"`);
  if (report.skipped.length > 0) lines.push('skipped lines:');
  for (const line of report.skipped) lines.push(`  ${report.source}:${line.line}: ${line.table}: ${line.reason}`);
  if (report.unreadable.length > 0) lines.push(`unreadable (not in the draft, need a human):`);
  for (const row of report.unreadable) lines.push(`  ${report.source}:${row.line}: ${row.table} row ${row.row}: ${row.problems.join('; ')}`);
  // Table titles, cells and the file name come from the document: each line made safe for the terminal.
  return `${toTerminalLines(lines.join('\n'))}\n`;
}

export function registerMatrixImportCommand(matrix: Command): void {
  // `matrix import --version 9.1` names the product version: the program's own --version must only
  // be recognised before the subcommand.
  matrix.parent?.enablePositionalOptions();
  matrix
    .command('import')
    .description('turn the text export of a vendor port-matrix document into a matrix draft, with an import report')
    .argument('<document>', 'text export of the document (tab-separated tables, page headers and footers may stay in)')
    .option('--product <name>', 'product name (default: read from the title block)')
    .option('--version <version>', 'product version (default: read from the title block)')
    .option('--id <id>', 'matrix id (default: from product and version)')
    .option('--self <names>', 'comma-separated names of the product\'s own systems in source/destination tables, e.g. "CMS,AACC/ACCS"')
    .option('--overrides <file>', 'a reviewed overrides file (as in matrices/overrides/)')
    .option('-o, --output <file>', 'write the draft here (default: standard output, the report then goes to standard error)')
    .addHelpText(
      'after',
      `
Exit codes:
  0  every row was read (repairs are listed in the report)
  ${EXIT_ROWS_NEED_REVIEW}  the draft was written, but some rows could not be read, or contradict their columns and need a
     decision (an override with a quote): the report lists them with line numbers
  2  not a port matrix (empty, binary, no port table), an unreadable file or a bad option`,
    )
    .action(async (document: string, options: ImportCommandOptions) => {
      const text = await readInput(document);
      const overrides = options.overrides ? await readOverrides(options.overrides) : undefined;
      const self = options.self
        ?.split(',')
        .map((name) => name.trim())
        .filter((name) => name !== '');
      const { matrix, report } = importMatrixDocument(text, {
        sourceName: basename(document),
        ...(options.product ? { product: options.product } : {}),
        ...(options.version ? { version: options.version } : {}),
        ...(options.id ? { id: options.id } : {}),
        ...(self && self.length > 0 ? { self } : {}),
        ...(overrides ? { overrides } : {}),
      });
      const yaml = renderMatrixYaml(matrix, ` Draft imported by \`portmatrix matrix import\` from ${toTerminalText(basename(document))}: review before use.`);
      if (options.output) {
        await writeFileAtomic(options.output, yaml);
        process.stdout.write(formatImportReport(report, options.output));
      } else {
        process.stdout.write(yaml);
        process.stderr.write(formatImportReport(report, 'standard output'));
      }
      const needHuman = report.unreadable.length + report.contradictions.filter((row) => row.decision === 'undecided').length;
      if (needHuman > 0) {
        const rows = needHuman === 1 ? '1 row needs' : `${needHuman} rows need`;
        process.stderr.write(`portmatrix: ${rows} a human (see the report); exit ${EXIT_ROWS_NEED_REVIEW}\n`);
        process.exitCode = EXIT_ROWS_NEED_REVIEW;
      }
    });
}
