import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bearerAuth } from '@portcullis/bearer-auth';
import { defineProtectedResource, protectedResourceMetadata } from '@portcullis/protected-resource-metadata';
import { createJwtVerifier, type AuthInfo } from '@portcullis/token-verification';

/** The scope the upstream API needs. */
export const UPSTREAM_SCOPE = 'upstream:read';

/** Options of {@link startUpstreamApi}. */
export interface UpstreamApiOptions {
  /** Port on 127.0.0.1. Default 0 (an ephemeral port). */
  readonly port?: number;
  /**
   * Sees the `Authorization` header of every request, before verification (tests use it to show that
   * the caller's own token never arrives here). Never log what it gets.
   */
  readonly onRequest?: (authorization: string | undefined) => void;
}

/** A running upstream API: a second local service the example server calls from a tool. */
export interface UpstreamApi {
  /** Its one endpoint, `http://127.0.0.1:<port>/api`, which is also its resource identifier (the `aud` it accepts). */
  readonly url: string;
  /** Where its RFC 9728 metadata is served. */
  readonly metadataUrl: string;
  /** Starts accepting access tokens from `issuer` (until then every request gets 503). */
  trust(issuer: string): void;
  close(): Promise<void>;
}

const json = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
};

/**
 * The "second local service" of the example: a `node:http` JSON API on 127.0.0.1 guarded by
 * `@portcullis/bearer-auth` with `createJwtVerifier` for its **own** audience. `GET /api` answers
 * `{ sub, act, aud, client_id, token_fingerprint }` of the token it received (the fingerprint is the
 * first 8 hex digits of its SHA-256, never the token) — so the `upstream_whoami` tool can show that it
 * saw an exchanged token (aud = this API, act = the MCP server), not the caller's token.
 */
export async function startUpstreamApi(options: UpstreamApiOptions = {}): Promise<UpstreamApi> {
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => json(res, 503, { error: 'not_ready' });
  const http = createServer((req, res) => {
    options.onRequest?.(req.headers.authorization);
    handler(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const url = `${origin}/api`;
  const metadataUrl = `${origin}/.well-known/oauth-protected-resource/api`;

  return {
    url,
    metadataUrl,
    trust(issuer) {
      const resource = defineProtectedResource({ resource: url, authorizationServers: [issuer], scopesSupported: [UPSTREAM_SCOPE], resourceName: 'Portcullis example upstream API' });
      const metadata = protectedResourceMetadata(resource);
      const auth = bearerAuth({
        verifier: createJwtVerifier({ issuer, audience: url, requireRfc9068: true }),
        resource,
        requiredScopes: [UPSTREAM_SCOPE],
      });
      handler = (req, res) => {
        metadata(req, res, () => {
          const { pathname } = new URL(req.url ?? '/', origin);
          if (pathname !== '/api') return json(res, 404, { error: 'not_found' });
          if (req.method !== 'GET') return void res.writeHead(405, { allow: 'GET' }).end();
          auth(req, res, (error?: unknown) => {
            if (error) return json(res, 500, { error: 'server_error' });
            const { claims, subject, clientId, token } = (req as IncomingMessage & { auth: AuthInfo }).auth;
            json(res, 200, {
              sub: subject ?? null,
              act: claims['act'] ?? null,
              aud: claims['aud'] ?? null,
              client_id: clientId || null,
              token_fingerprint: `#${createHash('sha256').update(token).digest('hex').slice(0, 8)}`,
            });
          });
        });
      };
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        http.closeAllConnections();
        http.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
