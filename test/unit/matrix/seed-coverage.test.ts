/**
 * Acceptance: no row of a current port table of a source document is missing from its built-in matrix.
 *
 * The reader here is deliberately simple and independent of the importer (src/matrix/import/): it reads
 * the tab-separated rows between "Port Tables" and "Port Table Changes", takes the destination port
 * (or, where the document left it empty or "Ephemeral", the port it wrote in the source column), the
 * transport from the protocol words, and the direction from the table heading (numbered tables) or from
 * whether the destination system is the product (source/destination tables). It then looks for a matrix
 * row with that port, transport and direction. Known document defects are tolerated only through the
 * explicit list below.
 */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { listBuiltinMatrices } from '../../../src/matrix/load.js';
import type { Matrix } from '../../../src/matrix/model.js';
import { parsePortSpec, rangesContain } from '../../../src/model/port-range.js';
import { sourceDocumentPath } from '../../../scripts/source-documents.js';
import { describeNeeding } from '../../helpers/requirements.js';


type Transport = 'tcp' | 'udp';
/** listener: ingress or intra-device (source/destination tables cannot tell those two apart); any: the document does not say. */
type DirectionClass = 'ingress' | 'egress' | 'intra-device' | 'listener' | 'any';

interface SeedRow {
  line: number;
  ports: { start: number; end: number }[];
  transports: Transport[];
  direction: DirectionClass;
}

interface Seed {
  file: string;
  matrix: string;
  style: 'numbered' | 'source-destination';
  /** Systems of the product itself in source/destination tables: a row whose destination is one is a listener. */
  own?: RegExp;
}

const seeds: Seed[] = [
  { file: '000_22b4c4b94ed60b67.txt', matrix: 'client-sdk-4', style: 'source-destination', own: /^Communication Services Package/ },
  { file: '001_c225dded3e857ec3.txt', matrix: 'ip-office-9.1', style: 'numbered' },
  {
    file: '002_2b4b67945b36f2be.txt',
    matrix: 'wfos-5.2.3',
    style: 'source-destination',
    own: /^(Primary |Secondary )?Recorder$|^CTI Adapter$|^(Local |Central )?Media ?Manager$|^Unified messaging$|^Web$|^Apache$|^Speech Middleware$|^Analytics$|^SysAdmin$|^SIPAdapter$|^AvayaAdapter/i,
  },
  { file: '003_9d5b127af8ce3520.txt', matrix: 'cms-r20', style: 'source-destination', own: /^CMS\b/ },
  {
    file: '004_daeddb05e15e2a34.txt',
    matrix: 'aacc-7.1.2',
    style: 'source-destination',
    own: /^(Avaya Agent Desktop|AACC|CCMA|CCMS|CCMM|CCT|SGM|GigaSpaces|License Manager$|Tomcat|Cach|AAMS|Linux AAMS|Windows AAMS|Element Manager on AAMS|MySql Server on AMS|TAO Naming|Ejabberd|istio|etcd|kafka|kube|admin-adapter|IIS \(CCMA\)|Video Media Processor|ConfMP|IvrMP|Resource Manager|SIP UA|VoiceXML|Stream Source|CMF Host)/i,
  },
];

/**
 * Rows of the documents that cannot be found as written, each with the reason. Keys: "<matrix>:<line>".
 * Every entry must still be missing (a stale entry fails the test), so the list cannot hide a fixed row.
 */
const knownDefects: Record<string, string> = {
  // "715 0" / "715 5": a space inside a port number; the matrix reads 7150 and 7155, this reader sees 715 and 0.
  'aacc-7.1.2:224': 'port written "715 0" (7150)',
  'aacc-7.1.2:225': 'port written "715 5" (7155)',
  // "(6225 - 106275)": an impossible upper bound; the matrix keeps 6225-65535 with a note.
  'aacc-7.1.2:331': 'impossible range 6225-106275',
  // SGM -> JMX client rows marked INTERNAL ONLY: the client monitors SGM, so the reviewed overrides read the
  // JMX ports as SGM's own intra-device listeners; this reader sees SGM as the source and expects egress.
  'aacc-7.1.2:242': 'JMX port 3413 of SGM, written as egress',
  'aacc-7.1.2:244': 'JMX port 3571 of SGM, written as egress',
  // "Default Range is (5004 – 5203) Available Range is (1024-65535)": the matrix keeps the default range and
  // records the available range as configurable; this reader takes both as ports.
  'client-sdk-4:101': 'available range 1024-65535 is where the media range may be moved, not a listener',
};

const TCP_WORDS = /\b(TLS|SSL|HTTPS?|SSH|S?FTP|SMTP|LDAP|IMAP4?|WSS|SIPS|Telnet|JDBC|JMX|SOAP|POP3|MSSQL|XMPP|BOSH|Log4j|TAPI|Tomcat)\b/i;
const UDP_WORDS = /\b(SNMP|S?NTP|DHCP|BOOTP|TFTP|S?RTC?P|RIP|IKE|L2TP|DNS|TIME)\b/i;

function transportsOf(protocol: string): Transport[] {
  const explicit: Transport[] = [];
  if (/\bTCP/i.test(protocol)) explicit.push('tcp');
  if (/\bU[DP]{2}\b|\bUDP/i.test(protocol)) explicit.push('udp');
  if (explicit.length > 0) return explicit;
  if (TCP_WORDS.test(protocol)) return ['tcp'];
  if (UDP_WORDS.test(protocol)) return ['udp'];
  return [];
}

/** Port numbers and ranges written in a cell: "5060-5061 (Configurable ...)", "5488/5489", "Default Range is (5004 – 5203)". */
function portsOf(cell: string): { start: number; end: number }[] {
  const beforeParenthesis = cell.split('(')[0] ?? '';
  const text = /\d/.test(beforeParenthesis) ? beforeParenthesis : cell;
  return [...text.matchAll(/(\d+)(?:\s*[-–]\s*(\d+))?/g)].map((match) => {
    const start = Number(match[1]);
    return { start, end: match[2] === undefined ? start : Number(match[2]) };
  });
}

function readSeed(seed: Seed): SeedRow[] {
  const lines = readFileSync(sourceDocumentPath(seed.file), 'utf8').split('\n');
  const start = lines.findIndex((line) => /Port Tables\s*$/.test(line));
  const changes = lines.findIndex((line) => /Port Table Changes/.test(line));
  const end = changes === -1 ? lines.length : changes;
  const rows: SeedRow[] = [];
  let heading: DirectionClass = 'any';
  for (let index = start + 1; index < end; index += 1) {
    const cells = (lines[index] ?? '').split('\t').map((cell) => cell.trim());
    const line = index + 1;
    if (seed.style === 'numbered') {
      const title = cells[0] ?? '';
      if (/^INGRESS/.test(title)) heading = 'ingress';
      else if (/^EGRESS/.test(title)) heading = 'egress';
      else if (/^INTRA-DEVICE/.test(title)) heading = 'intra-device';
      if (!/^\d+$/.test(title) || cells.length < 4) continue;
      const ports = portsOf(cells[1] ?? '');
      if (ports.length === 0) continue; // "None"
      rows.push({ line, ports, transports: transportsOf(cells[2] ?? ''), direction: heading });
    } else {
      // Header lines, and the second half of a row split by a page break (its first cell is empty).
      if (cells.length < 7 || cells[0] === '' || /^(Source|System)\b/.test(cells[0] ?? '')) continue;
      const [sourceSystem = '', sourcePort = '', destinationSystem = '', destinationPort = '', protocol = ''] = cells;
      // Where the destination port is empty or "Ephemeral", the document wrote the port in the source column.
      const ports = portsOf(/\d/.test(destinationPort) ? destinationPort : sourcePort);
      if (ports.length === 0) continue;
      const own = seed.own ?? /$^/;
      const direction: DirectionClass = own.test(destinationSystem) ? 'listener' : own.test(sourceSystem) ? 'egress' : 'any';
      rows.push({ line, ports, transports: transportsOf(protocol), direction });
    }
  }
  return rows;
}

function directionMatches(wanted: DirectionClass, actual: Matrix['rows'][number]['direction']): boolean {
  if (wanted === 'any') return true;
  if (wanted === 'listener') return actual !== 'egress';
  return wanted === actual;
}

/** What of a seed row the matrix lacks, one text per (port, transport); empty when all is there. */
function missingFrom(matrix: Matrix, row: SeedRow): string[] {
  const parsedRows = matrix.rows.map((matrixRow) => {
    const parsed = parsePortSpec(matrixRow.ports);
    return { matrixRow, ranges: parsed.ok ? parsed.ranges : [] };
  });
  const missing: string[] = [];
  // A row without transport words (e.g. protocol "NA") is looked up on either transport.
  const transports: (Transport | undefined)[] = row.transports.length > 0 ? row.transports : [undefined];
  for (const range of row.ports) {
    for (const transport of transports) {
      const found = [range.start, range.end].every((port) =>
        parsedRows.some(
          ({ matrixRow, ranges }) =>
            rangesContain(ranges, port) &&
            (transport === undefined || matrixRow.transports.includes(transport)) &&
            directionMatches(row.direction, matrixRow.direction),
        ),
      );
      if (!found) {
        const ports = range.start === range.end ? `${range.start}` : `${range.start}-${range.end}`;
        missing.push(`${ports}/${transport ?? 'any'} ${row.direction}`);
      }
    }
  }
  return missing;
}

const builtins = await listBuiltinMatrices();

describeNeeding('every row of every current port table is in the built-in matrix', { sources: true }, () => {
  for (const seed of seeds) {
    it(`${seed.matrix} (${seed.file})`, () => {
      const rows = readSeed(seed);
      // The reader must have found the tables at all: every document has more than ten current rows.
      expect(rows.length).toBeGreaterThan(10);
      const loaded = builtins.find((candidate) => candidate.matrix.id === seed.matrix);
      expect(loaded, `built-in matrix ${seed.matrix}`).toBeDefined();
      if (!loaded) return;
      const missing: Record<string, string> = {};
      for (const row of rows) {
        const lacking = missingFrom(loaded.matrix, row);
        if (lacking.length > 0) missing[`${seed.matrix}:${row.line}`] = lacking.join(', ');
      }
      const tolerated = Object.keys(knownDefects).filter((key) => key.startsWith(`${seed.matrix}:`));
      expect(Object.keys(missing).sort(), JSON.stringify(missing, null, 1)).toEqual(tolerated.sort());
    });
  }
});

describeNeeding('the independent seed reader', { sources: true }, () => {
  it('reads the IP Office tables with their direction headings, lists and transports', () => {
    const rows = readSeed(seeds[1] as Seed);
    const at = (port: number) => rows.filter((row) => row.ports.some((range) => range.start === port));
    expect(at(5060).map((row) => [row.direction, row.transports])).toEqual([
      ['ingress', ['tcp', 'udp']],
      ['egress', ['tcp', 'udp']],
    ]);
    expect(at(5488)[0]?.ports).toEqual([
      { start: 5488, end: 5488 },
      { start: 5489, end: 5489 },
    ]);
    expect(at(17777)[0]?.direction).toBe('intra-device');
  });
});
