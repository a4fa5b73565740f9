import { createJwtVerifier, type TokenVerifier } from '@portcullis/token-verification';
import { defineProtectedResource, type ProtectedResource } from '@portcullis/protected-resource-metadata';
import { clientCredentialsToken, JWT_RESOURCE, startTestAuthorizationServer, type DevAuthorizationServer } from '@portcullis/test-fixtures';

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
  // The core verifier, configured from the same ProtectedResource: audience = resource.resource.
  const verifier = createJwtVerifier({ issuer: as.issuer, audience: resource.resource, jwksUri: `${as.issuer}/jwks`, requireRfc9068: true });
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
