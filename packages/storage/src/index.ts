export * from './bytes.js';
export * from './errors.js';
export * from './keys.js';
export * from './local-store.js';
export * from './location.js';
export * from './memory-store.js';
export * from './object-store.js';
