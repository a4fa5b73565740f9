export { startDevAuthorizationServer } from './server.js';
export type { DevAuthorizationServer } from './server.js';
export type { DevAuthorizationServerOptions, DevResource } from './options.js';
