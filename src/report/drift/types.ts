import type { Drift } from '../../conformance/drift.js';

export interface DriftRenderOptions {
  /** ANSI colour (terminal only); the caller decides. */
  color?: boolean;
}

export type DriftRenderer = (drift: Drift, options?: DriftRenderOptions) => string;
