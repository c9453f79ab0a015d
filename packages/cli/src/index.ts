/** @weir/cli — the `weir` command as a library (for embedding and tests). */
export { createProgram, main, VERSION } from './main.js';
export type { CliIo } from './context.js';
