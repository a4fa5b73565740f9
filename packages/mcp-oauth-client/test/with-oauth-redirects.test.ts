import type { IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startLocalServer, type LocalServer } from '@portcullis/test-fixtures';
import type { AuthStrategy, StrategyChallenge, StrategyRequest } from '../src/auth-strategy.js';
import { withOAuth } from '../src/with-oauth.js';

/**
 * Two real servers on 127.0.0.1 (two ports: two origins), so the redirects are those Node's own
 * fetch would follow. `/a` redirects, `/elsewhere` answers 401 with a challenge of its own.
 */
interface Hop {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
}
let origin: LocalServer;
let other: LocalServer;
const hops: Hop[] = [];

beforeAll(async () => {
  other = await startLocalServer((req, res) => {
    hops.push({ path: `other${req.url}`, headers: req.headers });
    res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end();
  });
  origin = await startLocalServer((req, res) => {
    hops.push({ path: req.url ?? '', headers: req.headers });
    if (req.url === '/a') return void res.writeHead(307, { location: '/elsewhere' }).end();
    if (req.url === '/cross') return void res.writeHead(307, { location: `${other.url}/mcp` }).end();
    res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end();
  });
});
afterAll(async () => {
  await origin.close();
  await other.close();
});

/** A DPoP-shaped strategy whose token and proof name the URL they are made for, and that records the challenges it is handed. */
function dpopStrategy(): AuthStrategy & { challenged: string[] } {
  const strategy = {
    challenged: [] as string[],
    headers: (request: StrategyRequest) => ({ authorization: `DPoP token-for-${request.url.pathname}`, dpop: `proof-for-${request.url.pathname}` }),
    onChallenge: ({ request }: StrategyChallenge) => {
      strategy.challenged.push(request.url.pathname);
      return { action: 'fail' as const };
    },
  };
  return strategy;
}

describe('withOAuth and redirects', () => {
  it('C-46 a same-origin redirect is followed through the wrapper: the next hop carries its own token and proof, never the first one\'s', async () => {
    hops.length = 0;
    const strategy = dpopStrategy();
    const response = await withOAuth(globalThis.fetch, strategy)(`${origin.url}/a`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(401);
    expect(hops.map((h) => [h.path, h.headers.authorization, h.headers.dpop])).toEqual([
      ['/a', 'DPoP token-for-/a', 'proof-for-/a'],
      ['/elsewhere', 'DPoP token-for-/elsewhere', 'proof-for-/elsewhere'],
    ]);
    // The 401 is the challenge of the request to /elsewhere, handed to the strategy as such.
    expect(strategy.challenged).toEqual(['/elsewhere']);
  });

  it('C-46 redirect: manual returns the 3xx, error rejects, as fetch does; nothing else is contacted', async () => {
    hops.length = 0;
    const authed = withOAuth(globalThis.fetch, dpopStrategy());
    const response = await authed(`${origin.url}/a`, { redirect: 'manual' });
    expect([response.status, response.headers.get('location')]).toEqual([307, '/elsewhere']);
    await expect(authed(`${origin.url}/a`, { redirect: 'error' })).rejects.toThrow('fetch failed');
    expect(hops.map((h) => h.path)).toEqual(['/a', '/a']);
  });

  it('C-46 a cross-origin redirect is followed without credentials: no DPoP proof, no token, no challenge for the other origin', async () => {
    hops.length = 0;
    const strategy = dpopStrategy();
    const response = await withOAuth(globalThis.fetch, strategy)(`${origin.url}/cross`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(401);
    const reached = hops.filter((h) => h.path.startsWith('other'));
    expect(reached.map((h) => [h.path, h.headers.authorization, h.headers.dpop])).toEqual([['other/mcp', undefined, undefined]]);
    expect(strategy.challenged).toEqual([]);
  });

  it('C-46 a cross-origin hop drops credentials the caller set itself', async () => {
    hops.length = 0;
    const none: AuthStrategy = { headers: () => ({}), onChallenge: () => ({ action: 'fail' as const }) };
    await withOAuth(globalThis.fetch, none)(`${origin.url}/cross`, { headers: { authorization: 'Bearer callers-own', cookie: 'sid=1', 'x-trace': 't' } });
    const reached = hops.find((h) => h.path.startsWith('other'))!;
    expect([reached.headers.authorization, reached.headers.cookie, reached.headers['x-trace']]).toEqual([undefined, undefined, 't']);
  });
});
