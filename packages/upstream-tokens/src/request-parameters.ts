import { ConfigurationError } from '@portcullis/token-verification';

/** RFC 6749 §3.3 `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`: no space, quote or backslash. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/**
 * The RFC 8707 `resource` parameter, or undefined when not given. RFC 8707 §2: an absolute URI
 * without a fragment; anything else is refused before a request is sent.
 */
export function resourceParameter(value: URL | string | undefined, option: string): string | undefined {
  if (value === undefined) return undefined;
  const resource = String(value);
  // A '#' can only be the fragment delimiter in a URI that parses (elsewhere it is percent-encoded).
  if (!URL.canParse(resource) || resource.includes('#')) throw new ConfigurationError('ERR_INVALID_RESOURCE', `${option} must be an absolute URI without a fragment (RFC 8707 §2)`);
  // Sent verbatim, so it must be the URI it parses to: the AS and the upstream API may read a string
  // that URL parsing repairs as two different resources (the same rule as protected-resource-metadata).
  if (needsRepair(resource)) throw new ConfigurationError('ERR_INVALID_RESOURCE', `${option} must be written as it parses: no space, control character, backslash or dot segment`);
  return resource;
}

/** A space or control character anywhere (URL parsing drops or encodes them), `\`, or a `.`/`..` path segment (`%2e` too). */
function needsRepair(uri: string): boolean {
  if (/[\x00-\x20\x7f\\]/.test(uri)) return true;
  const path = uri.replace(/^[^:]*:(?:\/\/[^/?#]*)?/, '').split('?', 1)[0]!;
  return path.split('/').some((segment) => /^(?:\.|%2e){1,2}$/i.test(segment));
}

/**
 * The `scope` parameter, space-joined, or undefined for none (not given, `''`, `[]`). Each scope must be
 * an RFC 6749 §3.3 scope-token, so a list entry cannot smuggle in a second scope.
 */
export function scopeParameter(value: string | readonly string[] | undefined, option: string): string | undefined {
  if (value === undefined) return undefined;
  const scopes = typeof value === 'string' ? (value === '' ? [] : value.split(' ')) : value;
  for (const scope of scopes) {
    if (typeof scope !== 'string' || !SCOPE_TOKEN.test(scope)) throw new ConfigurationError('ERR_INVALID_SCOPES', `${option} has ${JSON.stringify(scope)}, which is not a scope-token (RFC 6749 §3.3: printable ASCII without space, quote or backslash)`);
  }
  return scopes.length === 0 ? undefined : scopes.join(' ');
}
