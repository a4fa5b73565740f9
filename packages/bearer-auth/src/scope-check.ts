import { InsufficientScopeError, missingScopes, type ScopeHierarchy } from '@portcullis/token-verification';

export type { ScopeHierarchy };


/**
 * The 403 for a token that lacks scopes, or undefined when it has them all. The challenge lists every
 * scope the request needs (S-18, S-19); the description names only those the token lacks.
 */
export function scopeRefusal(granted: readonly string[], required: readonly string[], hierarchy?: ScopeHierarchy): InsufficientScopeError | undefined {
  const missing = missingScopes(granted, required, hierarchy); // under the core's hierarchy rules (S-21)
  return missing.length === 0 ? undefined : new InsufficientScopeError(required, `The access token lacks required scopes: ${missing.join(' ')}`);
}
