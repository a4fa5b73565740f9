import { createRemoteJWKSet, errors as joseErrors, jwtVerify } from 'jose';
import { InvalidTokenError, VerifierUnavailableError, type AuthInfo, type TokenVerifier } from '@portcullis/token-verification';
import { defineProtectedResource, type ProtectedResource } from '@portcullis/protected-resource-metadata';
import { clientCredentialsToken, JWT_RESOURCE, startTestAuthorizationServer, type DevAuthorizationServer } from '@portcullis/test-fixtures';

/**
 * A JWT verifier for tests, on jose against the real AS's JWKS (interim, until the core's
 * createJwtVerifier is exported; then this delegates to it).
 */
export function testJwtVerifier({ issuer, audience, jwksUri }: { issuer: string; audience: string; jwksUri: string }): TokenVerifier {
  const jwks = createRemoteJWKSet(new URL(jwksUri));
  return async (token) => {
    try {
      const { payload } = await jwtVerify(token, jwks, { issuer, audience, algorithms: ['ES256', 'RS256', 'PS256', 'EdDSA'], typ: 'at+jwt', requiredClaims: ['exp'] });
      const scopes = typeof payload['scope'] === 'string' ? [...new Set(payload['scope'].split(' ').filter(Boolean))] : [];
      const info: AuthInfo = {
        token,
        clientId: String(payload['client_id'] ?? payload['azp'] ?? ''),
        scopes,
        ...(payload.exp !== undefined ? { expiresAt: payload.exp } : {}),
        resource: new URL(audience),
        ...(payload.sub !== undefined ? { subject: payload.sub } : {}),
        ...(payload.iss !== undefined ? { issuer: payload.iss } : {}),
        claims: payload,
      };
      return info;
    } catch (error) {
      if (error instanceof joseErrors.JWKSTimeout || (error instanceof TypeError && /fetch/.test(error.message))) {
        throw new VerifierUnavailableError('The authorization server keys are unavailable', { cause: error });
      }
      throw new InvalidTokenError('The access token is not valid', { cause: error });
    }
  };
}

export interface Fixture {
  readonly as: DevAuthorizationServer;
  readonly resource: ProtectedResource;
  readonly verifier: TokenVerifier;
  /** A real access token from the AS's token endpoint for {@link JWT_RESOURCE}. */
  token(scope: string): Promise<string>;
  close(): Promise<void>;
}

/** A real oidc-provider on 127.0.0.1, the protected resource configured for it, and its verifier. */
export async function startFixture(): Promise<Fixture> {
  const as = await startTestAuthorizationServer();
  const resource = defineProtectedResource({
    resource: JWT_RESOURCE,
    authorizationServers: [as.issuer],
    scopesSupported: ['mcp:tools', 'files:read', 'files:write', 'mcp:admin'],
  });
  const verifier = testJwtVerifier({ issuer: as.issuer, audience: resource.resource, jwksUri: `${as.issuer}/jwks` });
  return {
    as,
    resource,
    verifier,
    token: async (scope) => (await clientCredentialsToken(as, { resource: JWT_RESOURCE, scope })).access_token,
    close: () => as.close(),
  };
}

export const METADATA_URL = 'https://mcp.portcullis.test/.well-known/oauth-protected-resource/mcp';

/** Parses a `WWW-Authenticate: Bearer k="v", …` header for assertions (test-only, simple). */
export function parseChallenge(header: string | undefined): { scheme: string; params: Record<string, string> } {
  if (!header) throw new Error('no WWW-Authenticate header');
  const [scheme, rest = ''] = header.split(/ (.*)/s);
  const params: Record<string, string> = {};
  for (const m of rest.matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)) params[m[1]!] = m[2]!.replace(/\\(.)/g, '$1');
  return { scheme: scheme!, params };
}
