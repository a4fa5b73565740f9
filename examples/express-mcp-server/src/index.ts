export { startExampleServer } from './server.js';
export type { ExampleServer } from './server.js';
export type { ExampleServerOptions, ExampleUpstreamOptions } from './options.js';
export { optionsFromEnv } from './config.js';
export { createMcpServer } from './tools.js';
export type { UpstreamTool } from './tools.js';
export { startUpstreamApi, UPSTREAM_SCOPE } from './upstream-api.js';
export type { UpstreamApi, UpstreamApiOptions } from './upstream-api.js';
