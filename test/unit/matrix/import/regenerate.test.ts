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
