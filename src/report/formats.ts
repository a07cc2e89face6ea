/**
 * The report format names and file endings, without the renderers: the CLI checks --format
 * before scanning and loads only the renderers it writes (each pulls its own dependencies,
 * e.g. cli-table3 for the terminal table).
 */
import type { Renderer } from './types.js';

export type ReportFormat = 'table' | 'json' | 'markdown' | 'html' | 'junit' | 'nmap-xml';

export const REPORT_FORMATS: readonly ReportFormat[] = ['table', 'json', 'markdown', 'html', 'junit', 'nmap-xml'];

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
  return (REPORT_FORMATS as readonly string[]).includes(name);
}

/** The renderer of one format, loading only its module. */
export async function loadRenderer(format: ReportFormat): Promise<Renderer> {
  switch (format) {
    case 'table':
      return (await import('./table.js')).renderTable;
    case 'json':
      return (await import('./json.js')).renderJson;
    case 'markdown':
      return (await import('./markdown.js')).renderMarkdown;
    case 'html':
      return (await import('./html.js')).renderHtml;
    case 'junit':
      return (await import('./junit.js')).renderJunit;
    case 'nmap-xml':
      return (await import('./nmap-xml.js')).renderNmapXml;
  }
}
