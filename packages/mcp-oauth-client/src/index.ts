export { McpOAuthError, isMcpOAuthError } from './errors.js';
export type { McpOAuthErrorCode, McpOAuthErrorOptions } from './errors.js';
export { parseWwwAuthenticate, readResourceChallenge } from './www-authenticate.js';
export type { AuthChallenge, ReadResourceChallengeOptions, ResourceChallenge } from './www-authenticate.js';
export {
  assertFetchableUrl,
  assertResolvedAddresses,
  createSafeFetch,
  isBlockedAddress,
  isLoopbackAddress,
  isLoopbackHost,
  nodeTransport,
} from './safe-fetch.js';
export type { FetchLike, HostLookup, ResolvedAddress, SafeFetchOptions, SafeFetchTransport, TransportRequest } from './safe-fetch.js';
export {
  authorizationServerMetadataUrls,
  canonicalServerUrl,
  discover,
  discoverAuthorizationServer,
  discoverLegacyAuthorizationServer,
  discoverProtectedResource,
  legacyIssuer,
  protectedResourceMetadataUrls,
  resourceMatchesServer,
  validateAuthorizationServerMetadata,
  validateProtectedResourceMetadata,
} from './discovery.js';
export type {
  AuthorizationServerMetadata,
  DiscoverOptions,
  DiscoveryOptions,
  DiscoveryResult,
  ProtectedResourceMetadata,
} from './discovery.js';
export { clientAuthentication, selectTokenEndpointAuthMethod } from './client-authentication.js';
export type { ClientCredentials, ClientPrivateKey } from './client-authentication.js';
export { assertClientMetadataUrl, buildRegistrationRequest, registerClient, resolveClient } from './registration.js';
export type { ClientMetadata, PreRegisteredClient, RegistrationOptions, ResolvedClient } from './registration.js';
export { selectScopes, splitScope } from './scopes.js';
export type { ScopeSelectionInput } from './scopes.js';
export {
  assertAuthorizationUrl,
  assertPkceSupported,
  buildAuthorizationRequest,
  exchangeAuthorizationCode,
  refreshTokens,
  requestClientCredentialsToken,
  requestJwtBearerToken,
  toStoredTokens,
  validateAuthorizationResponse,
} from './authorization.js';
export type { AuthorizationRequestInput, PendingAuthorization, TokenRequestContext } from './authorization.js';
export { asStoredClient, asStoredTokens, clientKey, createMemoryStore, tokensKey } from './token-store.js';
export type { StoredClient, StoredTokens, StoredValue, TokenStore } from './token-store.js';
export { createFileLock, createInProcessLock } from './refresh-lock.js';
export type { FileLockOptions, RefreshLock } from './refresh-lock.js';
export { createTokenLifecycle } from './token-lifecycle.js';
export type { Refresher, TokenLifecycle, TokenLifecycleOptions } from './token-lifecycle.js';
export { createOAuthClient } from './oauth-client.js';
export type { AssertionContext, AuthorizationHandler, GrantOptions, McpOAuthClient, OAuthClientOptions, ServerContext } from './oauth-client.js';
export { withOAuth } from './with-oauth.js';
export { isAuthStrategy } from './auth-strategy.js';
export type { AuthStrategy, StrategyChallenge, StrategyDecision, StrategyRequest } from './auth-strategy.js';
export { staticToken } from './static-token.js';
export type { StaticTokenOptions } from './static-token.js';
export { clientCredentialsStrategy, oauthStrategy } from './oauth-strategy.js';
export type { ClientCredentialsStrategyOptions, OAuthStrategy, OAuthStrategyState } from './oauth-strategy.js';
export type { OAuthFetch, WithOAuthOptions } from './with-oauth.js';
export { createHeadlessAuthorizationHandler } from './headless-authorization.js';
export type { HeadlessAuthorizationOptions } from './headless-authorization.js';
export { createDpopProof } from './dpop.js';
export type { DpopProofInput } from './dpop.js';
export { consoleLogger, silentLogger } from './logger.js';
export type { Logger } from './logger.js';
export { createEncryptedFileStore, defaultKeySource, keyFileSource } from './encrypted-file-store.js';
export type { EncryptedFileStoreOptions, KeychainEntry, KeychainOpener, KeySource } from './encrypted-file-store.js';
export { createLoopbackAuthorizationHandler, openBrowser, startLoopbackRedirectServer } from './loopback-redirect.js';
export type { LoopbackAuthorizationOptions, LoopbackRedirectOptions, LoopbackRedirectServer, OpenBrowserOptions, SpawnFunction } from './loopback-redirect.js';
export { mcpTransportOAuth } from './mcp-sdk.js';
export type { McpTransportOAuthOptions } from './mcp-sdk.js';
export { enterpriseManagedAuthorization, ID_JAG_TOKEN_TYPE, ID_TOKEN_TYPE, requestIdJag, TOKEN_EXCHANGE_GRANT } from './enterprise-managed-authorization.js';
export type { EnterpriseManagedAuthorizationOptions, IdJagRequest, IdpClient } from './enterprise-managed-authorization.js';
