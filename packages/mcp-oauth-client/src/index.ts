export { McpOAuthError, isMcpOAuthError } from './errors.js';
export type { McpOAuthErrorCode, McpOAuthErrorOptions } from './errors.js';
export { parseWwwAuthenticate, readResourceChallenge } from './www-authenticate.js';
export type { AuthChallenge, ResourceChallenge } from './www-authenticate.js';
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
