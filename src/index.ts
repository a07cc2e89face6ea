/** The library API. The CLI is built on exactly these functions. */
export * from './errors.js';
export * from './defaults.js';
export * from './version.js';
export type * from './scan/model.js';
export type * from './matrix/model.js';
export type * from './matrix/expectation.js';
export type * from './conformance/model.js';
export type * from './result/model.js';
export * from './matrix/port-spec.js';
export * from './matrix/load.js';
export * from './matrix/select.js';
