import type { ScanResult } from '../result/model.js';

export interface RenderOptions {
  /** ANSI colour; the caller decides (NO_COLOR, TTY), a renderer never looks at the process. */
  color?: boolean;
}

/** Every report format: a pure function of the saved result (and, for the terminal, colour). */
export type Renderer = (result: ScanResult, options?: RenderOptions) => string;
