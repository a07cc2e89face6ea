/**
 * Selection: matrix + components + platform -> the listeners the scanned host should have.
 * Pure: no I/O.
 */
import { PortmatrixError } from '../errors.js';
import type { Transport } from '../model/port-state.js';
import type { Expectation, Selection } from './expectation.js';
import type { Matrix, MatrixRow } from './model.js';
import { parsePortSpec } from '../model/port-range.js';
import type { PortRange } from '../model/port-range.js';

export interface SelectOptions {
  /** Component ids; absent or empty: the components marked `default: true`. */
  components?: readonly string[];
  /** Platform id; absent: the first platform of the first selected component that all of them run on. */
  platform?: string;
}

export interface SelectedExpectations {
  selection: Selection;
  expectations: Expectation[];
}

/** Resolves and checks the components and platform the user asked for. */
export function resolveSelection(matrix: Matrix, options: SelectOptions = {}): Selection {
  const known = matrix.components.map((component) => component.id);
  const requested = options.components && options.components.length > 0 ? [...new Set(options.components)] : undefined;
  for (const id of requested ?? []) {
    if (!known.includes(id)) {
      throw new PortmatrixError('E_USAGE', `unknown component "${id}" for matrix ${matrix.id}`, {
        hint: `components of ${matrix.id}: ${known.join(', ')}`,
      });
    }
  }
  const components = matrix.components.filter((component) => (requested ? requested.includes(component.id) : component.default));
  if (components.length === 0) {
    throw new PortmatrixError('E_USAGE', `matrix ${matrix.id} marks no component as default`, {
      hint: `name one with --component: ${known.join(', ')}`,
    });
  }

  const platformIds = matrix.platforms.map((platform) => platform.id);
  const common = (components[0]?.platforms ?? []).filter((platform) => components.every((component) => component.platforms.includes(platform)));
  const platform = options.platform ?? common[0];
  if (platform === undefined) {
    throw new PortmatrixError('E_USAGE', `components ${components.map((c) => c.id).join(', ')} share no platform`, {
      hint: components.map((component) => `${component.id} runs on ${component.platforms.join(', ')}`).join('; '),
    });
  }
  if (!platformIds.includes(platform)) {
    throw new PortmatrixError('E_USAGE', `unknown platform "${platform}" for matrix ${matrix.id}`, {
      hint: `platforms of ${matrix.id}: ${platformIds.join(', ')}`,
    });
  }
  const unsupported = components.filter((component) => !component.platforms.includes(platform));
  if (unsupported.length > 0) {
    throw new PortmatrixError(
      'E_USAGE',
      `component ${unsupported.map((c) => c.id).join(', ')} does not run on platform "${platform}"`,
      { hint: unsupported.map((component) => `${component.id} runs on ${component.platforms.join(', ')}`).join('; ') },
    );
  }
  return { matrix: matrix.id, components: components.map((component) => component.id), platform };
}

/** Whether a row applies to the selection (component and platform), whatever its direction. */
export function rowApplies(row: MatrixRow, selection: Selection): boolean {
  return selection.components.includes(row.component) && (row.platforms === undefined || row.platforms.includes(selection.platform));
}

/** Ingress and intra-device rows are listeners of the product; egress rows are connections it makes. */
export function isListenerRow(row: MatrixRow): boolean {
  return row.direction !== 'egress';
}

/**
 * The expected listeners: one expectation per (transport, port) of each listener row that applies,
 * dynamic (media) ranges kept whole. Rows keep matrix order; each expectation cites its row.
 */
export function selectExpectations(matrix: Matrix, options: SelectOptions = {}): SelectedExpectations {
  const selection = resolveSelection(matrix, options);
  const expectations = matrix.rows
    .filter((row) => isListenerRow(row) && rowApplies(row, selection))
    .flatMap((row) => expectationsOfRow(matrix, row));
  return { selection, expectations };
}

function expectationsOfRow(matrix: Matrix, row: MatrixRow): Expectation[] {
  const ranges = rangesOf(row.ports, row.id);
  const spans = row.dynamic ? ranges : ranges.flatMap(expandRange);
  const configurable = row.configurable === undefined ? undefined : rangesOf(row.configurable, row.id);
  const transports: Transport[] = [...new Set(row.transports)];
  return spans.flatMap((span) =>
    transports.map((transport) => ({
      transport,
      start: span.start,
      end: span.end,
      state: row.state,
      optional: row.optional,
      dynamic: row.dynamic,
      internal: row.direction === 'intra-device',
      ...(row.condition ? { condition: row.condition } : {}),
      ...(configurable ? { configurable } : {}),
      protocol: row.protocol,
      component: row.component,
      description: row.description,
      ref: {
        matrix: matrix.id,
        document: matrix.document.title,
        rowId: row.id,
        table: row.ref.table,
        row: row.ref.row,
        ...(row.ref.line === undefined ? {} : { line: row.ref.line }),
      },
    })),
  );
}

function rangesOf(spec: string, rowId: string): PortRange[] {
  const parsed = parsePortSpec(spec);
  // The schema validated every spec; a failure here is a Matrix built without it.
  if (!parsed.ok) throw new PortmatrixError('E_MATRIX_INVALID', `row ${rowId}: ${parsed.error}`);
  return parsed.ranges;
}

function expandRange(range: PortRange): PortRange[] {
  const ports: PortRange[] = [];
  for (let port = range.start; port <= range.end; port += 1) ports.push({ start: port, end: port });
  return ports;
}
