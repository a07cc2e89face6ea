/**
 * The one registry of report formats: name -> file ending and the renderer's module, loaded on
 * first use. The CLI checks --format before scanning and loads only the renderers it writes
 * (each pulls its own dependencies, e.g. cli-table3 for the terminal table); the library's
 * RENDERERS (src/report/index.ts) is every entry loaded at once.
 */
import type { Renderer } from './types.js';

interface FormatEntry {
  /** File name ending, used when one --output base names several formats. */
  extension: string;
  load: () => Promise<Renderer>;
}

const FORMATS = {
  table: { extension: '.txt', load: async () => (await import('./table.js')).renderTable },
  json: { extension: '.json', load: async () => (await import('./json.js')).renderJson },
  markdown: { extension: '.md', load: async () => (await import('./markdown.js')).renderMarkdown },
  html: { extension: '.html', load: async () => (await import('./html.js')).renderHtml },
  junit: { extension: '.junit.xml', load: async () => (await import('./junit.js')).renderJunit },
  'nmap-xml': { extension: '.nmap.xml', load: async () => (await import('./nmap-xml.js')).renderNmapXml },
} as const satisfies Record<string, FormatEntry>;

export type ReportFormat = keyof typeof FORMATS;

export const REPORT_FORMATS = Object.keys(FORMATS) as readonly ReportFormat[];

export const FORMAT_EXTENSIONS: Readonly<Record<ReportFormat, string>> = Object.fromEntries(
  REPORT_FORMATS.map((format) => [format, FORMATS[format].extension]),
) as Record<ReportFormat, string>;

export function isReportFormat(name: string): name is ReportFormat {
  return Object.hasOwn(FORMATS, name);
}

/** The renderer of one format, loading only its module. */
export function loadRenderer(format: ReportFormat): Promise<Renderer> {
  return FORMATS[format].load();
}

/** Every renderer, for callers that render many formats from code. */
export async function loadAllRenderers(): Promise<Record<ReportFormat, Renderer>> {
  const loaded = await Promise.all(REPORT_FORMATS.map(async (format) => [format, await loadRenderer(format)] as const));
  return Object.fromEntries(loaded) as Record<ReportFormat, Renderer>;
}
