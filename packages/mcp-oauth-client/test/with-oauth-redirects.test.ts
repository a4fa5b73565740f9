import type { IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startLocalServer, type LocalServer } from '@portcullis/test-fixtures';
import type { AuthStrategy } from '../src/auth-strategy.js';
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

/** A DPoP-shaped strategy that counts the challenges it is handed. */
function dpopStrategy(): AuthStrategy & { challenges: number } {
  const strategy = {
    challenges: 0,
    headers: () => ({ authorization: 'DPoP token-for-a', dpop: 'proof-for-a' }),
    onChallenge: () => {
      strategy.challenges++;
      return { action: 'fail' as const };
    },
  };
  return strategy;
}

describe('withOAuth and redirects', () => {
  it('C-46 a same-origin redirect comes back to the caller: the token never reaches the other path, its 401 is no challenge', async () => {
    hops.length = 0;
    const strategy = dpopStrategy();
    const authed = withOAuth(globalThis.fetch, strategy);
    const response = await authed(`${origin.url}/a`, { method: 'POST', body: '{}' });
    expect([response.status, response.headers.get('location')]).toEqual([307, '/elsewhere']);
    expect(hops.map((h) => h.path)).toEqual(['/a']);
    expect(strategy.challenges).toBe(0);
    await expect(authed(`${origin.url}/a`, { redirect: 'error' })).rejects.toThrow('fetch failed');
  });

  it('C-46 a cross-origin redirect never carries the DPoP proof (nor the token) to the other origin', async () => {
    hops.length = 0;
    const response = await withOAuth(globalThis.fetch, dpopStrategy())(`${origin.url}/cross`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(307);
    const leaked = hops.filter((h) => h.path.startsWith('other') && (h.headers.dpop !== undefined || h.headers.authorization !== undefined));
    expect(leaked).toEqual([]);
  });
});
