/** @weir/cli — the `weir` command as a library (for embedding and tests). */

export type { CliIo } from './context.js';
export { createProgram, main, VERSION } from './main.js';
