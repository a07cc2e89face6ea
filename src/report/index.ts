/** The report formats for library callers: the registry (formats.ts) with every renderer loaded. */
import { loadAllRenderers, type ReportFormat } from './formats.js';
import type { Renderer } from './types.js';

export const RENDERERS: Readonly<Record<ReportFormat, Renderer>> = await loadAllRenderers();

export { FORMAT_EXTENSIONS, isReportFormat, loadRenderer, REPORT_FORMATS } from './formats.js';
export type { ReportFormat } from './formats.js';
export type { Renderer, RenderOptions } from './types.js';
export { parseResultText } from './parse-result.js';
