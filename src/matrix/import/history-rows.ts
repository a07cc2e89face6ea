/**
 * Rows of the change tables ("Added / Changed / Removed") -> the matrix's history entries.
 */
import type { HistoryEntry } from '../model.js';
import { cleanProtocolText, stripNoteMarkers } from './cells.js';
import { matchesSystem, summarize } from './row-cells.js';
import type { RawRow, RawTable } from './tables.js';

export function readHistory(
  table: RawTable,
  raw: RawRow,
  self: readonly string[],
  ref: HistoryEntry['ref'],
  descriptions: 'document' | 'summary',
): HistoryEntry {
  const notes: string[] = [...raw.repairs];
  if (table.style === 'change-list') {
    const [, changeCell = '', port = '', protocol = '', newPort = '', notesCell = ''] = raw.cells;
    const change = /^(added|changed|removed)$/iu.exec(changeCell.trim())?.[1]?.toLowerCase() as HistoryEntry['change'] | undefined;
    if (!change) notes.push(`change "${changeCell}" is not Added, Changed or Removed; read as changed`);
    return {
      change: change ?? 'changed',
      ports: port || newPort,
      ...(newPort && port ? { newPorts: newPort } : {}),
      protocol: cleanProtocolText(protocol),
      description: descriptions === 'document' ? notesCell : summarizeChange(change ?? 'changed', cleanProtocolText(protocol), port, newPort),
      ref,
      ...(notes.length > 0 ? { notes } : {}),
    };
  }
  let change = raw.change.toLowerCase() as HistoryEntry['change'] | '';
  if (!change) {
    change = 'changed';
    notes.push('the change table does not say whether the row was added, changed or removed; read as changed');
  }
  if (table.style === 'numbered') {
    const [, port = '', protocol = '', , , peer = '', description = ''] = raw.cells;
    const scope = raw.section ? ` (${raw.section.toLowerCase()})` : '';
    return {
      change,
      ports: stripNoteMarkers(port).text,
      protocol: cleanProtocolText(protocol),
      description: descriptions === 'document' ? description : `${cleanProtocolText(protocol) || 'Port'}${peer ? `, ${peer}` : ''}${scope}`,
      ref,
      ...(notes.length > 0 ? { notes } : {}),
    };
  }
  const [sourceSystem = '', , destinationSystem = '', destinationPort = '', protocol = '', , , description = ''] = raw.cells;
  const listener = matchesSystem(destinationSystem, self);
  return {
    change,
    ports: stripNoteMarkers(destinationPort).text,
    protocol: cleanProtocolText(protocol),
    description:
      descriptions === 'document'
        ? stripNoteMarkers(description).text
        : summarize(listener ? 'ingress' : 'egress', cleanProtocolText(protocol), listener ? sourceSystem : destinationSystem),
    ref,
    ...(notes.length > 0 ? { notes } : {}),
  };
}

function summarizeChange(change: HistoryEntry['change'], protocol: string, port: string, newPort: string): string {
  if (change === 'changed' && port && newPort) return `${protocol} moved from ${port} to ${newPort}`;
  if (change === 'added') return `${protocol} added on ${newPort || port}`;
  return `${protocol} on ${port || newPort} ${change}${newPort && port ? ` (replacement: ${newPort})` : ''}`;
}
