/** The report formats: a name -> renderer map (one file per format), and where each is written. */
import { renderHtml } from './html.js';
import { renderJson } from './json.js';
import { renderJunit } from './junit.js';
import { renderMarkdown } from './markdown.js';
import { renderNmapXml } from './nmap-xml.js';
import { renderTable } from './table.js';
import type { Renderer } from './types.js';

export type ReportFormat = 'table' | 'json' | 'markdown' | 'html' | 'junit' | 'nmap-xml';

export const RENDERERS: Readonly<Record<ReportFormat, Renderer>> = {
  table: renderTable,
  json: renderJson,
  markdown: renderMarkdown,
  html: renderHtml,
  junit: renderJunit,
  'nmap-xml': renderNmapXml,
};

export const REPORT_FORMATS = Object.keys(RENDERERS) as ReportFormat[];

/** File name endings, used when one --output base names several formats. */
export const FORMAT_EXTENSIONS: Readonly<Record<ReportFormat, string>> = {
  table: '.txt',
  json: '.json',
  markdown: '.md',
  html: '.html',
  junit: '.junit.xml',
  'nmap-xml': '.nmap.xml',
};

export function isReportFormat(name: string): name is ReportFormat {
  return Object.hasOwn(RENDERERS, name);
}

export type { Renderer, RenderOptions } from './types.js';
export { parseResultText } from './parse-result.js';
