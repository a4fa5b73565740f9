import { missingScopes, type ScopeHierarchy } from '@portcullis/token-verification';

export type { ScopeHierarchy };

/** The required scopes that no granted scope covers, under the core's hierarchy rules (S-21). */
export function uncoveredScopes(granted: readonly string[], required: readonly string[], hierarchy?: ScopeHierarchy): string[] {
  return missingScopes(granted, required, hierarchy);
}
