import { describe, expect, it } from '@jest/globals';
import { assertScopes, InsufficientScopeError, missingScopes, readScopes, scopeSatisfies, type ScopeHierarchy } from '../src/index.js';

describe('readScopes', () => {
  it.each([
    [{ scope: 'a b  c' }, ['a', 'b', 'c']],
    [{ scp: ['a', 'b'] }, ['a', 'b']],
    [{ scp: 'a b' }, ['a', 'b']],
    [{ scope: 'a b', scp: ['b', 'c'] }, ['a', 'b', 'c']],
    [{ scope: 42, scp: [1, 'x', null] }, ['x']],
    [{}, []],
  ])('%j → %j', (claims, expected) => {
    expect(readScopes(claims)).toEqual(expected);
  });
  it('reads other claims when named (permissions, roles)', () => {
    expect(readScopes({ permissions: ['read:x'], roles: 'admin' }, ['permissions', 'roles'])).toEqual(['read:x', 'admin']);
  });
});

describe('S-21: scope hierarchy', () => {
  const hierarchy: ScopeHierarchy = {
    implies: { 'files:write': ['files:read'], 'mcp:admin': ['files:write', 'mcp:tools'] },
    separator: ':',
  };
  it.each([
    ['files:read', 'files:read', undefined, true],
    ['files:write', 'files:read', undefined, false],
    ['files:write', 'files:read', hierarchy, true],
    ['mcp:admin', 'files:read', hierarchy, true], // transitive
    ['files:read', 'files:write', hierarchy, false], // narrower never covers broader
    ['mcp:admin', 'mcp:admin:users', hierarchy, true], // prefix rule
    ['mcp:admin', 'mcp:admin:users:delete', hierarchy, true],
    ['mcp:admin', 'mcp:administrator', hierarchy, false], // only at the separator
    ['mcp:admin', 'mcp:admin:users', { implies: {} }, false], // prefix rule is opt-in
    ['files', 'files:read', hierarchy, true],
    ['toString', 'files:read', hierarchy, false], // no prototype lookups
  ] as const)('%s covers %s (%j): %s', (granted, required, h, expected) => {
    expect(scopeSatisfies(granted, required, h)).toBe(expected);
  });
  it('terminates on cyclic implications', () => {
    expect(scopeSatisfies('a', 'c', { implies: { a: ['b'], b: ['a'] } })).toBe(false);
  });
});

describe('assertScopes', () => {
  it('passes when every required scope is covered', () => {
    expect(() => assertScopes({ scopes: ['files:write'] }, ['files:read'], { hierarchy: { implies: { 'files:write': ['files:read'] } } })).not.toThrow();
    expect(() => assertScopes({ scopes: [] }, [])).not.toThrow();
  });
  it('S-18 S-19: throws InsufficientScopeError (403) listing every required scope, not only the missing one', () => {
    let caught: unknown;
    try {
      assertScopes({ scopes: ['files:read'] }, ['files:read', 'files:write', 'mcp:tools']);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InsufficientScopeError);
    expect(caught).toMatchObject({ status: 403, code: 'insufficient_scope', requiredScopes: ['files:read', 'files:write', 'mcp:tools'] });
    expect((caught as Error).message).toMatch(/files:write mcp:tools/);
  });
  it('missingScopes lists only what is not covered', () => {
    expect(missingScopes(['a'], ['a', 'b', 'c'])).toEqual(['b', 'c']);
  });
});
