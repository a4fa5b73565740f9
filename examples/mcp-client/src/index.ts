export { runDemo } from './demo.js';
export { describeToken, fingerprint, traceFetch } from './trace.js';
export type { Print } from './trace.js';
