export { startDevAuthorizationServer } from './server.js';
export type { DevAuthorizationServer } from './server.js';
export type { DevAuthorizationServerOptions, DevResource, DevTokenExchange } from './options.js';
export { ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT_TYPE } from './token-exchange.js';
