/**
 * Scopes: reading them from claims, and deciding whether granted scopes cover required ones,
 * including scope hierarchies (S-21). Pure functions, no I/O.
 */
import type { AuthInfo } from './auth-info.js';
import { ConfigurationError, InsufficientScopeError } from './errors.js';

/**
 * Where a verifier finds scopes: claim names read in order (each a space-delimited string or an
 * array of strings), or a function mapping the verified claims to scopes.
 *
 * Default `['scope', 'scp']`: `scope` per RFC 9068 §2.2.3 / RFC 7662 §2.2, `scp` as used by Entra
 * ID and Okta. For providers that put them elsewhere: `['permissions']` (Auth0 RBAC) or
 * `(claims) => …` for anything more involved (e.g. Keycloak's `realm_access.roles`).
 */
export type ScopeClaims = readonly string[] | ((claims: Readonly<Record<string, unknown>>) => readonly string[]);

/** The default scope claims: `scope` (space-delimited) and `scp` (array or string). */
export const DEFAULT_SCOPE_CLAIMS: readonly string[] = Object.freeze(['scope', 'scp']);

/** Internal: checks a `scopeClaims` option at construction and returns the reader. */
export function scopeReader(option: unknown, name = 'scopeClaims'): (claims: Readonly<Record<string, unknown>>) => string[] {
  if (option === undefined) return (claims) => readScopes(claims, DEFAULT_SCOPE_CLAIMS);
  if (typeof option === 'function') {
    const map = option as (claims: Readonly<Record<string, unknown>>) => readonly string[];
    return (claims) => dedupe(map(claims).filter((s): s is string => typeof s === 'string' && s.length > 0));
  }
  if (Array.isArray(option) && option.length > 0 && option.every((c) => typeof c === 'string' && c.length > 0)) {
    const list = [...(option as string[])];
    return (claims) => readScopes(claims, list);
  }
  throw new ConfigurationError('ERR_INVALID_OPTIONS', `"${name}" must be a non-empty array of claim names or a function (claims) => string[]`);
}

/**
 * Reads scopes from the named claims, de-duplicated, in order. A string claim is split on spaces
 * (RFC 6749 §3.3); an array claim contributes its string members. Other values are ignored.
 *
 * @example readScopes({ scope: 'a b', scp: ['c'] }) // ['a', 'b', 'c']
 */
export function readScopes(claims: Readonly<Record<string, unknown>>, claimNames: readonly string[] = DEFAULT_SCOPE_CLAIMS): string[] {
  const scopes: string[] = [];
  for (const name of claimNames) {
    const value = claims[name];
    if (typeof value === 'string') scopes.push(...value.split(' '));
    else if (Array.isArray(value)) scopes.push(...value.filter((v): v is string => typeof v === 'string'));
  }
  return dedupe(scopes.filter((s) => s.length > 0));
}

function dedupe(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/**
 * A scope hierarchy (MCP 2026-07-28, S-21: a broader scope covers narrower ones).
 *
 * - `implies`: explicit implications, applied transitively, e.g.
 *   `{ 'files:write': ['files:read'], 'mcp:admin': ['files:write', 'mcp:tools'] }`.
 * - `separator`: a prefix rule. With `':'`, a granted `mcp:admin` covers `mcp:admin:users` and
 *   `mcp:admin:users:delete` (never `mcp:administrator`). Off by default: only opt in when your
 *   authorization server names scopes that way.
 */
export interface ScopeHierarchy {
  readonly implies?: Readonly<Record<string, readonly string[]>>;
  readonly separator?: string;
}

/**
 * Whether one granted scope covers a required scope, under an optional hierarchy.
 * Equality always covers; otherwise the prefix rule, then implications (transitively).
 *
 * @example scopeSatisfies('files:write', 'files:read', { implies: { 'files:write': ['files:read'] } }) // true
 */
export function scopeSatisfies(granted: string, required: string, hierarchy?: ScopeHierarchy): boolean {
  const seen = new Set<string>();
  const queue = [granted];
  while (queue.length > 0) {
    const scope = queue.shift()!;
    if (seen.has(scope)) continue;
    seen.add(scope);
    if (scope === required) return true;
    const separator = hierarchy?.separator;
    if (separator && required.startsWith(scope + separator)) return true;
    const implied = hierarchy?.implies && Object.hasOwn(hierarchy.implies, scope) ? hierarchy.implies[scope] : undefined;
    if (implied) queue.push(...implied);
  }
  return false;
}

/** Options for {@link assertScopes}. */
export interface AssertScopesOptions {
  /** How broader scopes cover narrower ones. Default: none (exact match only). */
  readonly hierarchy?: ScopeHierarchy;
}

/**
 * The required scopes not covered by any granted scope (empty when the token suffices).
 */
export function missingScopes(granted: readonly string[], required: readonly string[], hierarchy?: ScopeHierarchy): string[] {
  return required.filter((r) => !granted.some((g) => scopeSatisfies(g, r, hierarchy)));
}

/**
 * Throws `InsufficientScopeError` (403) unless the token's scopes cover every required scope.
 * The error lists *every* scope the operation needs, not only the missing ones, so one challenge
 * carries the whole set (RFC 6750 §3.1; S-18, S-19). Honours scope hierarchies (S-21). Pure.
 *
 * @example assertScopes(req.auth, ['files:read'], { hierarchy: { implies: { 'files:write': ['files:read'] } } });
 */
export function assertScopes(authInfo: Pick<AuthInfo, 'scopes'>, required: readonly string[], options: AssertScopesOptions = {}): void {
  const missing = missingScopes(authInfo.scopes, required, options.hierarchy);
  if (missing.length > 0) {
    throw new InsufficientScopeError([...new Set(required)], `The access token lacks required scopes: ${missing.join(' ')}`);
  }
}
