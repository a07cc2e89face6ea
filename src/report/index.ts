/** The report formats: a name -> renderer map (one file per format), and where each is written. */
import { renderHtml } from './html.js';
import { renderJson } from './json.js';
import { renderJunit } from './junit.js';
import { renderMarkdown } from './markdown.js';
import { renderNmapXml } from './nmap-xml.js';
import { renderTable } from './table.js';
import type { ReportFormat } from './formats.js';
import type { Renderer } from './types.js';

export const RENDERERS: Readonly<Record<ReportFormat, Renderer>> = {
  table: renderTable,
  json: renderJson,
  markdown: renderMarkdown,
  html: renderHtml,
  junit: renderJunit,
  'nmap-xml': renderNmapXml,
};

export { FORMAT_EXTENSIONS, isReportFormat, loadRenderer, REPORT_FORMATS } from './formats.js';
export type { ReportFormat } from './formats.js';
export type { Renderer, RenderOptions } from './types.js';
export { parseResultText } from './parse-result.js';
