import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { startLocalServer } from '@portcullis/test-fixtures';

/**
 * A tiny MCP-shaped resource server for end-to-end tests: serves RFC 9728 metadata at the
 * path-inserted location, answers 401 with a Bearer challenge, verifies RFC 9068 JWTs from the
 * dev AS with jose, and answers 403 insufficient_scope when `requiredScopes(body)` are missing.
 */
export interface TestResourceServer {
  readonly url: string;
  readonly base: string;
  issuer: string;
  scopesSupported: string[] | undefined;
  requiredScopes: (body: string) => string[];
  /** Answers authorized requests; default a small JSON echo of the token's scopes. */
  onAuthorized: ((req: IncomingMessage, res: ServerResponse, body: string) => Promise<void>) | undefined;
  readonly tokensSeen: string[];
  readonly requests: number;
  close(): Promise<void>;
}

export async function startResourceServer(options: { scopesSupported?: string[] } = {}): Promise<TestResourceServer> {
  let requests = 0;
  const tokensSeen: string[] = [];
  let jwks: ReturnType<typeof createRemoteJWKSet> | undefined;
  let jwksFor = '';
  const local = await startLocalServer((req: IncomingMessage, res: ServerResponse) => {
    void handle(req, res).catch((error: unknown) => res.writeHead(500).end(String(error)));
  });
  const base = local.url;
  const url = `${base}/mcp`;
  const prmUrl = `${base}/.well-known/oauth-protected-resource/mcp`;
  // What the tests set is read by the handler from this very object.
  const state: TestResourceServer = {
    url,
    base,
    issuer: '',
    scopesSupported: options.scopesSupported,
    requiredScopes: () => [],
    onAuthorized: undefined,
    tokensSeen,
    get requests() {
      return requests;
    },
    close: local.close,
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', base).pathname;
    if (path === '/.well-known/oauth-protected-resource/mcp') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({ resource: url, authorization_servers: [state.issuer], ...(state.scopesSupported && { scopes_supported: state.scopesSupported }) }),
      );
      return;
    }
    if (path !== '/mcp') {
      res.writeHead(404).end();
      return;
    }
    requests++;
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const auth = req.headers.authorization ?? '';
    if (!auth.startsWith('Bearer ')) {
      res.writeHead(401, { 'www-authenticate': `Bearer resource_metadata="${prmUrl}"` }).end();
      return;
    }
    const token = auth.slice('Bearer '.length);
    tokensSeen.push(token);
    if (jwksFor !== state.issuer) {
      jwks = createRemoteJWKSet(new URL(`${state.issuer}/jwks`));
      jwksFor = state.issuer;
    }
    let scopes: string[];
    try {
      const { payload } = await jwtVerify(token, jwks!, { issuer: state.issuer, audience: url, typ: 'at+jwt' });
      scopes = typeof payload['scope'] === 'string' ? payload['scope'].split(' ') : [];
    } catch {
      res.writeHead(401, { 'www-authenticate': `Bearer error="invalid_token", resource_metadata="${prmUrl}"` }).end();
      return;
    }
    const required = state.requiredScopes(body);
    if (!required.every((s) => scopes.includes(s))) {
      res.writeHead(403, { 'www-authenticate': `Bearer error="insufficient_scope", scope="${required.join(' ')}", resource_metadata="${prmUrl}"` }).end();
      return;
    }
    if (state.onAuthorized) {
      await state.onAuthorized(req, res, body);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, scopes }));
  }

  return state;
}
