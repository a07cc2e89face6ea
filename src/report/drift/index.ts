/** The drift report formats: a name -> renderer map, one file per format. */
import { renderDriftHtml } from './html.js';
import { renderDriftJson } from './json.js';
import { renderDriftMarkdown } from './markdown.js';
import { renderDriftTable } from './table.js';
import type { DriftRenderer } from './types.js';

export type DriftFormat = 'table' | 'json' | 'markdown' | 'html';

export const DRIFT_RENDERERS: Readonly<Record<DriftFormat, DriftRenderer>> = {
  table: renderDriftTable,
  json: renderDriftJson,
  markdown: renderDriftMarkdown,
  html: renderDriftHtml,
};

export const DRIFT_FORMATS = Object.keys(DRIFT_RENDERERS) as DriftFormat[];

export function isDriftFormat(name: string): name is DriftFormat {
  return Object.hasOwn(DRIFT_RENDERERS, name);
}

export type { DriftRenderer, DriftRenderOptions } from './types.js';
export { countDrift, formatDriftSummary, DRIFT_SCHEMA_ID, DRIFT_SCHEMA_VERSION } from './view.js';
