/**
 * Scope hierarchy checks (S-21). Mirrors `@portcullis/token-verification`'s `ScopeHierarchy` /
 * `missingScopes`; kept behind this one module so it can be swapped for the core's exports.
 */

/**
 * How broader scopes cover narrower ones (MCP 2026-07-28, S-21).
 * - `implies`: explicit implications, transitive: `{ 'files:write': ['files:read'] }`.
 * - `separator`: prefix rule; with `':'` a granted `mcp:admin` covers `mcp:admin:users`.
 */
export interface ScopeHierarchy {
  readonly implies?: Readonly<Record<string, readonly string[]>>;
  readonly separator?: string;
}

function covers(granted: string, required: string, hierarchy: ScopeHierarchy | undefined): boolean {
  const seen = new Set<string>();
  const queue = [granted];
  while (queue.length > 0) {
    const scope = queue.shift()!;
    if (seen.has(scope)) continue;
    seen.add(scope);
    if (scope === required) return true;
    if (hierarchy?.separator && required.startsWith(scope + hierarchy.separator)) return true;
    const implied = hierarchy?.implies && Object.hasOwn(hierarchy.implies, scope) ? hierarchy.implies[scope] : undefined;
    if (implied) queue.push(...implied);
  }
  return false;
}

/** The required scopes that no granted scope covers. */
export function uncoveredScopes(granted: readonly string[], required: readonly string[], hierarchy?: ScopeHierarchy): string[] {
  return required.filter((r) => !granted.some((g) => covers(g, r, hierarchy)));
}
