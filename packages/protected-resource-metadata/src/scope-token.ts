import { ConfigurationError } from '@portcullis/token-verification';

/** RFC 6749 §3.3 `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`: no space, `"` or `\`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/** Whether `value` is a syntactically valid scope token. */
export function isScopeToken(value: unknown): value is string {
  return typeof value === 'string' && SCOPE_TOKEN.test(value);
}

/**
 * Validates a list of scopes given as configuration and returns a frozen, de-duplicated copy.
 * `offline_access` is refused where it would be advertised (S-09, spec 2026-07-28 §Refresh Tokens).
 */
export function validateScopes(value: unknown, option: string, { advertised = false } = {}): readonly string[] {
  if (!Array.isArray(value)) {
    throw new ConfigurationError('ERR_INVALID_SCOPES', `${option} must be an array of scope strings`);
  }
  for (const scope of value) {
    if (!isScopeToken(scope)) {
      throw new ConfigurationError(
        'ERR_INVALID_SCOPES',
        `${option} contains ${JSON.stringify(scope)}, which is not a valid scope token (RFC 6749 §3.3: no spaces, quotes or backslashes)`,
      );
    }
    if (advertised && scope === 'offline_access') {
      throw new ConfigurationError(
        'ERR_INVALID_SCOPES',
        `${option} must not advertise offline_access (MCP 2026-07-28 §Refresh Tokens, S-09); clients ask for it themselves`,
      );
    }
  }
  return Object.freeze([...new Set(value as string[])]);
}
