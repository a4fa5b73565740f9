import { describe, expect, it } from '@jest/globals';
import { decodeJwt, decodeProtectedHeader, generateKeyPair, jwtVerify } from 'jose';
import { createDpopProof } from '../src/dpop.js';
import { createOAuthClient } from '../src/oauth-client.js';
import { withOAuth } from '../src/with-oauth.js';
import { readResourceChallenge } from '../src/www-authenticate.js';
import { asMetadata, stubWorld, type Route } from './helpers/stub-world.js';

// A resource server that accepts Bearer and DPoP offers both challenges (RFC 9449 §7.2); what it
// says about a DPoP-bound token is in the DPoP one.
const BOTH_NONCE = 'Bearer realm="mcp", DPoP error="use_dpop_nonce", algs="ES256"';
const BOTH_SCOPE = 'Bearer realm="mcp", DPoP error="insufficient_scope", scope="admin", algs="ES256"';

describe('readResourceChallenge picks the challenge of the token scheme', () => {
  it('X-12 the preferred scheme first, the other only when it is absent; Bearer by default', () => {
    const table = [
      [BOTH_NONCE, { scheme: 'dpop' }, 'dpop', 'use_dpop_nonce'],
      [BOTH_SCOPE, { scheme: 'dpop' }, 'dpop', 'insufficient_scope'],
      [BOTH_NONCE, {}, 'bearer', undefined],
      [BOTH_NONCE, { scheme: 'bearer' }, 'bearer', undefined],
      ['Bearer error="invalid_token"', { scheme: 'dpop' }, 'bearer', 'invalid_token'],
      ['DPoP error="invalid_token"', { scheme: 'bearer' }, 'dpop', 'invalid_token'],
    ] as const;
    const read = table.map(([header, options]) => {
      const challenge = readResourceChallenge(header, options);
      return [header, options, challenge?.scheme, challenge?.error];
    });
    expect(read).toEqual(table);
  });
});

describe('withOAuth with a DPoP-bound token reads the DPoP challenge', () => {
  const MCP = 'https://mcp.example.com';
  const AS = 'https://as.example.com';

  async function dpopWorld(resource: Route) {
    let issued = 0;
    const world = stubWorld({
      [`${MCP}/.well-known/oauth-protected-resource/mcp`]: () => Response.json({ resource: `${MCP}/mcp`, authorization_servers: [AS] }),
      [`${AS}/.well-known/oauth-authorization-server`]: () => Response.json(asMetadata(AS, { dpop_signing_alg_values_supported: ['ES256'] })),
      [`${AS}/token`]: (r) => Response.json({ access_token: `at-${++issued}`, token_type: 'DPoP', expires_in: 3600, scope: r.form.get('scope') ?? 'read' }),
      [`${MCP}/mcp`]: resource,
    });
    const client = createOAuthClient({
      oauthFetch: world.fetch,
      preRegistered: [{ clientId: 'machine', clientSecret: 's', issuer: AS }],
      grant: { type: 'client_credentials' },
      dpopKeyPair: await generateKeyPair('ES256'),
    });
    return { world, authed: withOAuth(world.fetch, client) };
  }
  const unauthenticated = () => new Response(null, { status: 401, headers: { 'www-authenticate': 'Bearer realm="mcp", DPoP algs="ES256"' } });

  it('X-12 RFC 9449 §9 use_dpop_nonce beside a Bearer challenge: the same token is sent again with the nonce', async () => {
    const { world, authed } = await dpopWorld((r) => {
      const proof = r.headers.get('dpop');
      if (!r.headers.get('authorization')?.startsWith('DPoP ') || !proof) return unauthenticated();
      if (decodeJwt(proof)['nonce'] !== 'rs-nonce') return new Response(null, { status: 401, headers: { 'www-authenticate': BOTH_NONCE, 'dpop-nonce': 'rs-nonce' } });
      return Response.json({ ok: true });
    });
    expect((await authed(`${MCP}/mcp`, { method: 'POST', body: '{}' })).status).toBe(200);
    expect(world.to(`${AS}/token`)).toHaveLength(1);
    expect(world.to(`${MCP}/mcp`).map((r) => r.headers.get('authorization'))).toEqual([null, 'DPoP at-1', 'DPoP at-1']);
  });

  it('C-22 C-23 X-12 insufficient_scope beside a Bearer challenge: steps up to granted ∪ challenged scopes', async () => {
    const { world, authed } = await dpopWorld((r) => {
      const auth = r.headers.get('authorization');
      if (!auth?.startsWith('DPoP ')) return unauthenticated();
      return auth === 'DPoP at-2' ? Response.json({ ok: true }) : new Response(null, { status: 403, headers: { 'www-authenticate': BOTH_SCOPE } });
    });
    expect((await authed(`${MCP}/mcp`, { method: 'POST', body: '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"admin"}}' })).status).toBe(200);
    expect(world.to(`${AS}/token`).map((r) => r.form.get('scope'))).toEqual([null, 'read admin']);
  });
});

describe('createDpopProof: the algorithm follows the key', () => {
  it.each([
    ['RS256', 'RS256'],
    ['RS384', 'RS384'],
    ['PS512', 'PS512'],
    ['ES384', 'ES384'],
  ])('X-12 RFC 9449 §4.2 a %s key pair signs its proofs as %s, and they verify', async (keyAlg, proofAlg) => {
    const keyPair = await generateKeyPair(keyAlg, { extractable: true });
    const proof = await createDpopProof(keyPair, { method: 'POST', url: new URL('https://mcp.example.com/mcp?x=1') });
    expect(decodeProtectedHeader(proof)).toMatchObject({ typ: 'dpop+jwt', alg: proofAlg });
    const { payload } = await jwtVerify(proof, keyPair.publicKey, { algorithms: [proofAlg] });
    expect(payload).toMatchObject({ htm: 'POST', htu: 'https://mcp.example.com/mcp' });
  });
});
