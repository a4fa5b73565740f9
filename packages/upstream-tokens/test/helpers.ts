import type { TokenVerifier } from '@portcullis/token-verification';
import { startLocalServer, type DevAuthorizationServer } from '@portcullis/test-fixtures';

/**
 * A second local service (the "upstream API") on 127.0.0.1: verifies Bearer JWTs with
 * `createJwtVerifier` for its own audience and records what it saw.
 */
export interface UpstreamService {
  readonly url: string;
  /** Raw Authorization token values received. */
  readonly tokensSeen: string[];
  /** Verified claims of each accepted request. */
  readonly claimsSeen: Readonly<Record<string, unknown>>[];
  /** Set once the AS is up. */
  verifier: TokenVerifier | undefined;
  close(): Promise<void>;
}

export async function startUpstreamService(): Promise<UpstreamService> {
  const tokensSeen: string[] = [];
  const claimsSeen: Readonly<Record<string, unknown>>[] = [];
  const state = { verifier: undefined as TokenVerifier | undefined };
  const local = await startLocalServer((req, res) => {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!token || !state.verifier) {
      res.writeHead(401, { 'www-authenticate': 'Bearer' }).end();
      return;
    }
    tokensSeen.push(token);
    state.verifier(token).then(
      (auth) => {
        claimsSeen.push(auth.claims);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ sub: auth.subject, act: auth.claims['act'] ?? null }));
      },
      (error: { status?: number; message?: string }) => res.writeHead(error.status ?? 500, { 'www-authenticate': 'Bearer error="invalid_token"' }).end(),
    );
  });
  return {
    url: `${local.url}/api`,
    tokensSeen,
    claimsSeen,
    get verifier() {
      return state.verifier;
    },
    set verifier(value) {
      state.verifier = value;
    },
    close: local.close,
  };
}

/** Registers a client over HTTP (RFC 7591): objects built in Jest's VM fail oidc-provider's `jwks` check. */
export async function registerClient(as: DevAuthorizationServer, metadata: Record<string, unknown>): Promise<{ client_id: string; client_secret?: string }> {
  const response = await fetch(`${as.issuer}/reg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ response_types: [], redirect_uris: [], ...metadata }),
  });
  const body = (await response.json()) as { client_id: string; client_secret?: string; error?: string; error_description?: string };
  if (!response.ok) throw new Error(`registration failed: ${body.error} ${body.error_description ?? ''}`);
  return body;
}
