export { runDemo } from './demo.js';
export { describeToken, fingerprint, traceFetch } from './trace.js';
export type { Print } from './trace.js';
export { runCli, USAGE } from './cli.js';
export type { CliIo } from './cli.js';
