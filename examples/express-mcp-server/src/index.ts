export { startExampleServer } from './server.js';
export type { ExampleServer } from './server.js';
export type { ExampleServerOptions } from './options.js';
export { optionsFromEnv } from './config.js';
export { createMcpServer } from './tools.js';
