/** Inputs of {@link selectScopes}. */
export interface ScopeSelectionInput {
  /** `scope` of the current 401/403 challenge (authoritative for this request, C-20). */
  readonly challenged?: readonly string[];
  /** PRM `scopes_supported`. */
  readonly resourceScopesSupported?: readonly string[];
  /** AS metadata `scopes_supported` (only consulted for `offline_access`). */
  readonly authorizationServerScopesSupported?: readonly string[];
  /** Scopes granted to (or requested for) the current token: kept on step-up (C-22). */
  readonly granted?: readonly string[];
  /** Ask for `offline_access` when the AS advertises it (C-39). Default true. */
  readonly requestOfflineAccess?: boolean;
}

/**
 * The scopes to request (C-19…C-22, C-39), or undefined to omit `scope`: the challenge's scope, else
 * the PRM's `scopes_supported`, else none; unioned with what was granted before (step-up);
 * `offline_access` added only when the AS lists it and something else is requested, and removed when it does not.
 */
export function selectScopes(input: ScopeSelectionInput): string[] | undefined {
  const base = input.challenged ?? input.resourceScopesSupported ?? [];
  const scopes = new Set<string>([...(input.granted ?? []), ...base]);
  const asSupportsOffline = input.authorizationServerScopesSupported?.includes('offline_access') === true;
  if (!asSupportsOffline) scopes.delete('offline_access');
  else if (scopes.size > 0 && input.requestOfflineAccess !== false) scopes.add('offline_access');
  return scopes.size === 0 ? undefined : [...scopes];
}

/** Splits a space-separated scope string. */
export function splitScope(scope: string | undefined): string[] {
  return scope ? scope.split(' ').filter(Boolean) : [];
}
