export * from './constants.js';
export * from './entry-points.js';
export type * from './minidriver-v4.js';
export type * from './minidriver-v5.js';
export type * from './minidriver-v6.js';
export type * from './minidriver-v7.js';
export type * from './plugin.js';
export * from './properties.js';
export * from './structures.js';
