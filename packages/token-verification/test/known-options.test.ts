// A misspelt option is refused at construction, naming the key and the option meant: silently
// ignored, `requireRFC9068` or `acceptSenderConstraint` would leave a check off (or on) unnoticed.
import { describe, expect, it } from '@jest/globals';
import {
  cacheVerifiedTokens,
  ConfigurationError,
  createIntrospectionVerifier,
  createJwtVerifier,
  fetchAuthorizationServerMetadata,
  selectVerifierByIssuer,
  selectVerifierByTokenShape,
  type AuthInfo,
} from '../src/index.js';

const ISSUER = 'https://as.portcullis.test';
const RESOURCE = 'https://mcp.portcullis.test/mcp';
const jwt = { issuer: ISSUER, audience: RESOURCE };
const introspection = { endpoint: `${ISSUER}/introspect`, audience: RESOURCE, client: { method: 'client_secret_basic', clientId: 'rs', clientSecret: 'secret-value' } } as const;
const verifier = async (token: string): Promise<AuthInfo> => ({ token, clientId: '', scopes: [], claims: {} });

/** The ConfigurationError a factory throws. */
function refusal(build: () => unknown): ConfigurationError {
  try {
    build();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return error as ConfigurationError;
  }
  throw new Error('expected a ConfigurationError');
}

describe('unknown options are refused at construction', () => {
  it.each([
    ['createJwtVerifier()', 'requireRFC9068', 'requireRfc9068', () => createJwtVerifier({ ...jwt, requireRFC9068: true } as never)],
    ['createJwtVerifier()', 'acceptSenderConstraint', 'acceptSenderConstrained', () => createJwtVerifier({ ...jwt, acceptSenderConstraint: true } as never)],
    ['createJwtVerifier()', 'jwks_uri', 'jwksUri', () => createJwtVerifier({ ...jwt, jwks_uri: `${ISSUER}/jwks` } as never)],
    ['createJwtVerifier() cache', 'maxEntry', 'maxEntries', () => createJwtVerifier({ ...jwt, cache: { maxEntry: 5 } } as never)],
    ['createIntrospectionVerifier()', 'audiences', 'audience', () => createIntrospectionVerifier({ ...introspection, audiences: [RESOURCE] } as never)],
    ['createIntrospectionVerifier() client', 'clientSecert', 'clientSecret', () => createIntrospectionVerifier({ ...introspection, client: { ...introspection.client, clientSecert: 'x' } } as never)],
    ['cacheVerifiedTokens()', 'maxTTL', 'maxTtl', () => cacheVerifiedTokens(verifier, { maxTTL: 5 } as never)],
    ['selectVerifierByIssuer()', 'opaqe', 'opaque', () => selectVerifierByIssuer({ [ISSUER]: verifier }, { opaqe: verifier } as never)],
    ['selectVerifierByTokenShape()', 'fallback', undefined, () => selectVerifierByTokenShape({ jwt: verifier, opaque: verifier, fallback: verifier } as never)],
  ])('S-14 %s: "%s" is refused, naming %s', (where, key, meant, build) => {
    const error = refusal(build);
    expect(error.code).toBe('ERR_UNKNOWN_OPTION');
    expect(error.message).toContain(`${where}: unknown option "${key}"`);
    if (meant === undefined) expect(error.message).not.toContain('did you mean');
    else expect(error.message).toContain(`(did you mean "${meant}"?)`);
  });

  it('the message never quotes a value', () => {
    const error = refusal(() => createIntrospectionVerifier({ ...introspection, client: { ...introspection.client, secret: 'S3CR3T-VALUE' } } as never));
    expect(error.message).not.toContain('S3CR3T-VALUE');
  });

  it('fetchAuthorizationServerMetadata rejects an unknown option before any request', async () => {
    let requests = 0;
    const fetch = (async () => {
      requests++;
      return new Response('{}');
    }) as unknown as typeof globalThis.fetch;
    await expect(fetchAuthorizationServerMetadata(ISSUER, { fetch, timout: 5 } as never)).rejects.toMatchObject({ code: 'ERR_UNKNOWN_OPTION', message: expect.stringContaining('"timeout"') });
    expect(requests).toBe(0);
  });
});
