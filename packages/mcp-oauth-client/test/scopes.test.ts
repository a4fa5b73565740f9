import { describe, expect, it } from '@jest/globals';
import { selectScopes, type ScopeSelectionInput } from '../src/scopes.js';

describe('selectScopes', () => {
  it.each<[string, ScopeSelectionInput, string[] | undefined]>([
    ['C-19 conf:auth/scope-from-www-authenticate: the challenge wins', { challenged: ['a'], resourceScopesSupported: ['a', 'b'] }, ['a']],
    ['C-19 conf:auth/scope-from-scopes-supported: else all of PRM scopes_supported', { resourceScopesSupported: ['a', 'b'] }, ['a', 'b']],
    ['C-19 conf:auth/scope-omitted-when-undefined: else none', {}, undefined],
    ['C-20 challenged scopes need no relation to scopes_supported', { challenged: ['x'], resourceScopesSupported: ['a'] }, ['x']],
    ['C-22 conf:auth/scope-step-up: union of granted and challenged', { challenged: ['b'], granted: ['a'] }, ['a', 'b']],
    ['C-39 conf:auth/offline-access-scope: offline_access added when the AS advertises it', { resourceScopesSupported: ['a'], authorizationServerScopesSupported: ['a', 'offline_access'] }, ['a', 'offline_access']],
    ['C-39 conf:auth/offline-access-not-supported: removed when the AS does not', { challenged: ['a', 'offline_access'], authorizationServerScopesSupported: ['a'] }, ['a']],
    ['C-39 not added on its own when nothing else is requested', { authorizationServerScopesSupported: ['offline_access'] }, undefined],
    ['C-39 not added when the caller opts out', { challenged: ['a'], authorizationServerScopesSupported: ['offline_access'], requestOfflineAccess: false }, ['a']],
  ])('%s', (_title, input, expected) => {
    expect(selectScopes(input)).toEqual(expected);
  });
});
