export * from './fluent-bit.js';
export * from './realistic.js';
export { random } from './random.js';
