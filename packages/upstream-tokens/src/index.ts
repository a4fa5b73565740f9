export { ACCESS_TOKEN_TYPE, createTokenExchanger, TOKEN_EXCHANGE_GRANT_TYPE } from './token-exchange.js';
export type { ExchangeTarget, TokenExchanger, TokenExchangerOptions } from './token-exchange.js';
export { createClientCredentialsSource } from './client-credentials.js';
export type { ClientCredentialsSource, ClientCredentialsSourceOptions } from './client-credentials.js';
export { upstreamFetch } from './upstream-fetch.js';
export type { TokenCacheOptions, UpstreamToken } from './token-cache.js';
export type { ClientAuthentication, TokenEndpointLocation, TokenEndpointOptions } from './token-endpoint.js';
export { UpstreamTokenError } from './errors.js';
export type { UpstreamTokenErrorCode } from './errors.js';
