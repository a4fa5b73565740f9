export { McpOAuthError, isMcpOAuthError } from './errors.js';
export type { McpOAuthErrorCode, McpOAuthErrorOptions } from './errors.js';
export { parseWwwAuthenticate, readResourceChallenge } from './www-authenticate.js';
export type { AuthChallenge, ResourceChallenge } from './www-authenticate.js';
