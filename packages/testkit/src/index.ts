export * from './fluent-bit.js';
