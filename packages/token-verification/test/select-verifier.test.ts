import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  clientCredentialsToken,
  createTestKey,
  INTROSPECTOR,
  JWT_RESOURCE,
  mintAccessToken,
  OPAQUE_RESOURCE,
  startJwksServer,
  startTestAuthorizationServer,
  type DevAuthorizationServer,
  type JwksServer,
  type TestKey,
} from '@portcullis/test-fixtures';
import {
  ConfigurationError,
  createIntrospectionVerifier,
  createJwtVerifier,
  InvalidTokenError,
  isJwt,
  selectVerifierByIssuer,
  selectVerifierByTokenShape,
  type TokenVerifier,
} from '../src/index.js';
import { rejection } from './support.js';

const TENANT = 'https://tenant-b.portcullis.test';

describe('selectVerifierByIssuer / selectVerifierByTokenShape (real AS + a second issuer)', () => {
  let as: DevAuthorizationServer;
  let tenantKey: TestKey;
  let tenantJwks: JwksServer;
  let asJwt: TokenVerifier;
  let tenantJwt: TokenVerifier;
  let introspection: TokenVerifier;
  const audience = [JWT_RESOURCE, OPAQUE_RESOURCE];

  beforeAll(async () => {
    as = await startTestAuthorizationServer();
    tenantKey = await createTestKey('PS256');
    tenantJwks = await startJwksServer([tenantKey.publicJwk]);
    asJwt = createJwtVerifier({ issuer: as.issuer, audience, jwksUri: `${as.issuer}/jwks` });
    tenantJwt = createJwtVerifier({ issuer: TENANT, audience, jwksUri: tenantJwks.url });
    introspection = createIntrospectionVerifier({
      issuer: as.issuer,
      audience,
      client: { method: 'client_secret_basic', clientId: INTROSPECTOR.clientId, clientSecret: INTROSPECTOR.clientSecret },
    });
  });
  afterAll(async () => {
    await tenantJwks.close();
    await as.close();
  });

  it('S-12: routes each JWT to the verifier of its issuer, and opaque tokens to introspection', async () => {
    const verify = selectVerifierByIssuer({ [as.issuer]: asJwt, [TENANT]: tenantJwt }, { opaque: introspection });
    const fromAs = await clientCredentialsToken(as, { resource: JWT_RESOURCE, scope: 'mcp:tools' });
    const fromTenant = await mintAccessToken(tenantKey, { iss: TENANT, aud: JWT_RESOURCE, client_id: 'tenant-client', scope: 'files:read' });
    const opaque = await clientCredentialsToken(as, { resource: OPAQUE_RESOURCE, scope: 'files:write' });
    await expect(verify(fromAs.access_token)).resolves.toMatchObject({ issuer: as.issuer, scopes: ['mcp:tools'], resource: new URL(JWT_RESOURCE) });
    await expect(verify(fromTenant)).resolves.toMatchObject({ issuer: TENANT, clientId: 'tenant-client', scopes: ['files:read'] });
    const before = as.requestCount('/token/introspection');
    await expect(verify(opaque.access_token)).resolves.toMatchObject({ scopes: ['files:write'], resource: new URL(OPAQUE_RESOURCE) });
    expect(as.requestCount('/token/introspection')).toBe(before + 1);
  });

  it('S-12: a JWT from an issuer not on the allowlist is rejected before any network call', async () => {
    const verify = selectVerifierByIssuer({ [TENANT]: tenantJwt }, { opaque: introspection });
    const stranger = await createTestKey('ES256');
    const jwksBefore = tenantJwks.requests;
    const introspectionBefore = as.requestCount('/token/introspection');
    for (const iss of ['https://evil.test', `${TENANT}/`, 'HTTPS://TENANT-B.PORTCULLIS.TEST']) {
      await rejection(verify(await mintAccessToken(stranger, { iss, aud: JWT_RESOURCE })), InvalidTokenError, { status: 401 });
    }
    await rejection(verify(await mintAccessToken(stranger, { aud: JWT_RESOURCE })), InvalidTokenError, { status: 401 }); // no iss
    expect(tenantJwks.requests).toBe(jwksBefore);
    expect(as.requestCount('/token/introspection')).toBe(introspectionBefore); // never "fall back" to introspection
  });

  it('no chain: a JWT that fails its verifier is not retried with introspection', async () => {
    const verify = selectVerifierByIssuer({ [TENANT]: tenantJwt }, { opaque: introspection });
    const before = as.requestCount('/token/introspection');
    await rejection(verify(await mintAccessToken(tenantKey, { iss: TENANT, aud: 'https://other.test' })), InvalidTokenError, { status: 401 });
    expect(as.requestCount('/token/introspection')).toBe(before);
  });

  it('opaque tokens are rejected when no opaque verifier is configured; JWTs when no jwt verifier is', async () => {
    await rejection(selectVerifierByIssuer({ [TENANT]: tenantJwt })('opaque-token'), InvalidTokenError, { status: 401 });
    const token = await mintAccessToken(tenantKey, { iss: TENANT, aud: JWT_RESOURCE });
    await rejection(selectVerifierByTokenShape({ opaque: introspection })(token), InvalidTokenError, { status: 401 });
  });

  it('selectVerifierByTokenShape routes by shape alone', async () => {
    const verify = selectVerifierByTokenShape({ jwt: tenantJwt, opaque: introspection });
    await expect(verify(await mintAccessToken(tenantKey, { iss: TENANT, aud: OPAQUE_RESOURCE }))).resolves.toMatchObject({ issuer: TENANT });
    const opaque = await clientCredentialsToken(as, { resource: OPAQUE_RESOURCE, scope: 'mcp:tools' });
    await expect(verify(opaque.access_token)).resolves.toMatchObject({ scopes: ['mcp:tools'] });
  });

  it('isJwt tells JWS-compact JWTs from opaque tokens (a dotted opaque token stays opaque)', async () => {
    expect(isJwt(await mintAccessToken(tenantKey, { iss: TENANT }))).toBe(true);
    expect(isJwt('abc')).toBe(false);
    expect(isJwt('a.b.c')).toBe(false);
    expect(isJwt('eyJhbGciOiJSUzI1NiJ9.x.y.z.w')).toBe(false);
  });

  it('configuration errors name the option', () => {
    expect(() => selectVerifierByIssuer({})).toThrow(ConfigurationError);
    expect(() => selectVerifierByIssuer({ [TENANT]: 'nope' as never })).toThrow(/verifiers\["https:\/\/tenant-b/);
    expect(() => selectVerifierByTokenShape({})).toThrow(ConfigurationError);
  });
});
