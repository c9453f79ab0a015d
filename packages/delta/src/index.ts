export type * from './actions/types.js';
export type * from './schema/types.js';
