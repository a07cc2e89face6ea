/**
 * The built-in matrices are what the importer makes of the seeds plus the reviewed overrides:
 * re-import every seed (the vendor documents, scripts/source-documents.ts) and compare byte for byte with
 * matrices/<id>.yaml. Without the documents these tests skip (named in the summary); CI runs them.
 * Also: each seed's import report names its known defective rows by line number, and documents
 * exported differently (spaces for tabs, CRLF, NBSP, footers removed) import to the same matrix.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { importMatrixDocument } from '../../../../src/matrix/import/import-document.js';
import type { Matrix } from '../../../../src/matrix/model.js';
import { generateMatrix, listOverrideIds } from '../../../../scripts/regenerate-matrices.js';
import { sourceDocumentPath } from '../../../../scripts/source-documents.js';
import { describeNeeding } from '../../../helpers/requirements.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const ids = await listOverrideIds(repoRoot);

describe('built-in matrices', () => {
  it('has overrides for the five built-in matrices', () => {
    expect(ids).toEqual(['aacc-7.1.2', 'client-sdk-4', 'cms-r20', 'ip-office-9.1', 'wfos-5.2.3']);
  });
});

describeNeeding('built-in matrices are regenerated from their documents', { sources: true }, () => {
  for (const id of ids) {
    it(`${id}: matrices/${id}.yaml is what the importer makes of the seed (run npm run matrices:regenerate)`, async () => {
      const generated = await generateMatrix(repoRoot, id);
      expect(generated.report.unreadable).toEqual([]);
      const committed = await readFile(generated.path, 'utf8');
      expect(committed).toBe(generated.yaml);
    });
  }
});

/** Lines of the import report: repaired, overridden, unreadable and skipped, with what was said. */
function reportedLines(report: Awaited<ReturnType<typeof generateMatrix>>['report']): Map<number, string> {
  const lines = new Map<number, string>();
  const add = (line: number, text: string) => lines.set(line, `${lines.get(line) ?? ''} ${text}`);
  for (const row of report.repaired) add(row.line, row.repairs.join('; '));
  for (const row of report.overridden) add(row.line, `override: ${row.reason}`);
  for (const row of report.unreadable) add(row.line, `unreadable: ${row.problems.join('; ')}`);
  for (const line of report.skipped) add(line.line, `skipped: ${line.reason}`);
  return lines;
}

describeNeeding('the import report lists the defective rows of each document by line', { sources: true }, () => {
  it('ip-office-9.1: UPD typos, the row without a protocol, rows split by page breaks', async () => {
    const lines = reportedLines((await generateMatrix(repoRoot, 'ip-office-9.1')).report);
    for (const line of [103, 104, 106, 151]) expect(lines.get(line)).toMatch(/typo UPD/);
    expect(lines.get(145)).toMatch(/protocol column is missing/);
    expect(lines.get(145)).toMatch(/override: Protocol column missing/);
    expect(lines.get(214)).toMatch(/continues on line 220/);
    expect(lines.get(229)).toMatch(/continues on line 235/);
  });

  it('aacc-7.1.2: ports in the source column, split numbers, duplicates, the impossible range, empty cells', async () => {
    const lines = reportedLines((await generateMatrix(repoRoot, 'aacc-7.1.2')).report);
    expect(lines.get(224)).toMatch(/source column.*"715 0".*7150/s);
    expect(lines.get(225)).toMatch(/7155/);
    expect(lines.get(276)).toMatch(/duplicate of row 46 \(line 275\)/);
    expect(lines.get(335)).toMatch(/duplicate of row 5 \(line 330\)/);
    expect(lines.get(331)).toMatch(/106275/);
    expect(lines.get(284)).toMatch(/source column \("3389"\)/);
    expect(lines.get(286)).toMatch(/source column \("9070-9073"\)/);
    expect(lines.get(297)).toMatch(/Ephermeral/);
    expect(lines.get(347)).toMatch(/state cell is empty/);
    expect(lines.get(348)).toMatch(/optional and state cells are empty/);
    expect(lines.get(349)).toMatch(/asterisk/);
    expect(lines.get(376)).toMatch(/line of dashes/);
  });

  it('cms-r20, wfos-5.2.3, client-sdk-4: the protocol "NA", the SNMP trap port, the row split by a page break', async () => {
    expect(reportedLines((await generateMatrix(repoRoot, 'cms-r20')).report).get(90)).toMatch(/"NA"/);
    expect(reportedLines((await generateMatrix(repoRoot, 'wfos-5.2.3')).report).get(126)).toMatch(/SNMP traps/);
    expect(reportedLines((await generateMatrix(repoRoot, 'client-sdk-4')).report).get(91)).toMatch(/continues on line 97/);
  });

  it('without overrides, the rows that need a human are reported unreadable with their lines, and the rest imports', async () => {
    const cases: [string, number[]][] = [
      ['001_c225dded3e857ec3.txt', [145]],
      ['003_9d5b127af8ce3520.txt', [90]],
      ['004_daeddb05e15e2a34.txt', [331, 347, 348]],
    ];
    for (const [file, lines] of cases) {
      const text = await readFile(sourceDocumentPath(file), 'utf8');
      const { report, matrix } = importMatrixDocument(text, { sourceName: file, self: ['CMS', 'AACC', 'AAMS'] });
      expect(report.unreadable.map((row) => row.line)).toEqual(lines);
      expect(matrix.rows.length).toBeGreaterThan(10);
    }
  });
});

// ------------------------------------------------------------------ prose: conditions, several systems, contradictions

type Report = Awaited<ReturnType<typeof generateMatrix>>['report'];

function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

/** What the import report says about the prose of one document, counted per kind. */
function proseSummary(report: Report) {
  return {
    conditional: countBy(report.conditional, (row) => row.kind),
    multiSystem: report.multiSystem.length,
    contradictions: countBy(report.contradictions, (row) => row.rule),
    undecided: report.contradictions.filter((row) => row.decision === 'undecided').length,
    documentNotes: countBy(report.documentNotes, (note) => note.rule),
  };
}

describeNeeding('the import report lists every conditional, multi-system and contradictory row', { sources: true }, () => {
  const expected: Record<string, ReturnType<typeof proseSummary>> = {
    'aacc-7.1.2': {
      conditional: { multicast: 1, 'client-side': 1, ha: 9, legacy: 2, role: 1 },
      multiSystem: 2,
      contradictions: { 'client-port-at-destination': 1, 'listener-at-source': 6, 'monitor-written-as-egress': 3, 'port-on-source-side': 3 },
      undecided: 0,
      documentNotes: { 'old-ports-remain': 1, 'block-after-upgrade': 1 },
    },
    'client-sdk-4': { conditional: {}, multiSystem: 0, contradictions: {}, undecided: 0, documentNotes: {} },
    'cms-r20': {
      conditional: { 'localhost-only': 1, ha: 1 },
      multiSystem: 0,
      contradictions: {},
      undecided: 0,
      documentNotes: { 'all-ports-open': 1, 'unlisted-ports-closable': 1 },
    },
    'ip-office-9.1': { conditional: { legacy: 1 }, multiSystem: 0, contradictions: { 'state-on-egress': 3 }, undecided: 0, documentNotes: {} },
    'wfos-5.2.3': { conditional: { feature: 2, role: 1, ha: 1 }, multiSystem: 0, contradictions: {}, undecided: 0, documentNotes: {} },
  };
  for (const id of ids) {
    it(`${id}: counts per kind, every contradiction decided with a quote`, async () => {
      const { report, matrix } = await generateMatrix(repoRoot, id);
      expect(proseSummary(report)).toEqual(expected[id]);
      for (const row of report.contradictions) expect(row.quote, `${row.table} row ${row.row}`).toBeTruthy();
      // Every conditional row of the report is a matrix row carrying that condition.
      for (const entry of report.conditional) {
        const row = matrix.rows.find((candidate) => candidate.ref.line === entry.line);
        expect(row?.condition, `line ${entry.line}`).toEqual({ kind: entry.kind, text: entry.text });
      }
      expect(matrix.notes.map((note) => note.line)).toEqual(report.documentNotes.map((note) => note.line));
    });
  }

  it('names the rule that fired and keeps the document\'s words', async () => {
    const cms = (await generateMatrix(repoRoot, 'cms-r20')).report;
    expect(cms.conditional.find((row) => row.line === 88)).toMatchObject({ kind: 'localhost-only', rule: 'localhost-only', text: 'Open only for localhost.' });
    const aacc = (await generateMatrix(repoRoot, 'aacc-7.1.2')).report;
    // CCMM's Ejabberd clustering ports: used only on HA installations.
    for (const line of [315, 316, 317]) expect(aacc.conditional.find((row) => row.line === line)).toMatchObject({ kind: 'ha', rule: 'ha-only' });
    expect(aacc.conditional.find((row) => row.line === 236)).toMatchObject({ kind: 'legacy', rule: 'legacy-recommend-close' });
    expect(aacc.conditional.find((row) => row.line === 349)).toMatchObject({ kind: 'ha', rule: 'state-if-ha', text: 'Open if HA' });
    const wfos = (await generateMatrix(repoRoot, 'wfos-5.2.3')).report;
    expect(wfos.conditional.find((row) => row.line === 131)).toMatchObject({ kind: 'role', rule: 'role-central' });
  });

  it('attaches a destination that names several systems to each of their components', async () => {
    const { matrix, report } = await generateMatrix(repoRoot, 'aacc-7.1.2');
    expect(report.multiSystem.find((row) => row.line === 345)).toMatchObject({ systems: ['AACC', 'ACCS', 'AAMS'], components: ['aams', 'contact-center'] });
    const snmp = matrix.rows.filter((row) => row.ref.line === 345);
    expect(snmp.map((row) => [row.id, row.component])).toEqual([['aams-3', 'aams'], ['aams-3-contact-center', 'contact-center']]);
  });

  it('without overrides, contradictory rows are listed undecided and read as their columns say', async () => {
    const text = await readFile(sourceDocumentPath('004_daeddb05e15e2a34.txt'), 'utf8');
    const { report, matrix } = importMatrixDocument(text, { sourceName: '004', self: ['AACC', 'ACCS', 'SGM', 'CCMA'] });
    expect(report.contradictions.every((row) => row.decision === 'undecided')).toBe(true);
    // SGM's SIP listening ports (234-237) and JMX ports (241-244) written as egress, the client PC port (223), ports on the client side.
    expect(report.contradictions.map((row) => row.line)).toEqual([223, 234, 235, 236, 237, 241, 242, 244, 270, 284, 286]);
    expect(matrix.rows.find((row) => row.ref.line === 241)?.direction).toBe('egress');
  });
});

// ------------------------------------------------------------------ variants

const FOOTER = /^\**(Avaya( – Proprietary)?|Use pursuant to the terms of your signed agreement or Avaya policy\.)\**\s*$/u;

const variants: Record<string, { transform: (text: string) => string; movesLines?: boolean }> = {
  'tabs as two spaces': { transform: (text) => text.replace(/\t/gu, '  ') },
  'tabs as three spaces': { transform: (text) => text.replace(/\t/gu, '   ') },
  'CRLF line endings': { transform: (text) => text.replace(/\n/gu, '\r\n') },
  'non-breaking spaces': { transform: (text) => text.replace(/ /gu, '\u00a0') },
  'page footers removed': {
    transform: (text) => text.split('\n').filter((line) => !FOOTER.test(line.trim())).join('\n'),
    movesLines: true,
  },
};

/** Line numbers move when footer lines are removed; everything else must stay the same. */
function withoutLineNumbers(matrix: Matrix): unknown {
  return JSON.parse(
    JSON.stringify(matrix, (key, value: unknown) => (key === 'line' ? undefined : value)).replace(/\blines? \d+( and \d+)?/gu, 'line N'),
  );
}

describeNeeding('documents exported differently import to the same matrix', { sources: true }, () => {
  for (const id of ids) {
    for (const [name, variant] of Object.entries(variants)) {
      it(`${id}: ${name}`, async () => {
        const original = await generateMatrix(repoRoot, id);
        const changed = await generateMatrix(repoRoot, id, variant.transform);
        if (variant.movesLines) {
          expect(changed.matrix.rows.length).toBe(original.matrix.rows.length);
          expect(withoutLineNumbers(changed.matrix)).toEqual(withoutLineNumbers(original.matrix));
          expect(changed.report.furnitureLines).toBeLessThanOrEqual(original.report.furnitureLines);
        } else {
          expect(changed.matrix).toEqual(original.matrix);
        }
      });
    }
  }

  it('the committed YAML parses back to the generated matrix', async () => {
    const generated = await generateMatrix(repoRoot, 'ip-office-9.1');
    expect(parse(generated.yaml)).toEqual(JSON.parse(JSON.stringify(generated.matrix)));
  });
});
