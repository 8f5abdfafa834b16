export * from './fluent-bit.js';
export * from './realistic.js';
