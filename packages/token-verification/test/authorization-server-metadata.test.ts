import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startLocalServer, startTestAuthorizationServer, type DevAuthorizationServer, type LocalServer } from '@portcullis/test-fixtures';
import { ConfigurationError, fetchAuthorizationServerMetadata, VerifierUnavailableError } from '../src/index.js';
import { rejection } from './support.js';

describe('fetchAuthorizationServerMetadata against a real authorization server (oidc-provider)', () => {
  let as: DevAuthorizationServer;
  beforeAll(async () => {
    as = await startTestAuthorizationServer();
  });
  afterAll(() => as.close());

  it('C-07 C-08: finds the metadata at the well-known URLs in the MCP order and returns it whole', async () => {
    const metadata = await fetchAuthorizationServerMetadata(as.issuer);
    expect(metadata['issuer']).toBe(as.issuer);
    expect(metadata['jwks_uri']).toBe(`${as.issuer}/jwks`);
    expect(metadata['token_endpoint']).toBe(`${as.issuer}/token`);
  });
});

describe('fetchAuthorizationServerMetadata: what it refuses', () => {
  /** A local issuer that answers each well-known path as `answers` says, and records the paths asked for. */
  let server: LocalServer;
  let answers: Record<string, { status: number; body?: unknown; location?: string }>;
  const paths: string[] = [];
  beforeAll(async () => {
    server = await startLocalServer((req, res) => {
      paths.push(req.url ?? '');
      const answer = answers[req.url ?? ''] ?? { status: 404 };
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (answer.location) headers['location'] = `${server.url}${answer.location}`;
      res.writeHead(answer.status, headers).end(answer.body === undefined ? undefined : JSON.stringify(answer.body));
    });
  });
  afterAll(() => server.close());
  const asked = async (run: () => Promise<unknown>): Promise<string[]> => {
    paths.length = 0;
    await run().catch(() => undefined);
    return [...paths];
  };

  it('C-08: a document naming another issuer ends the search: it is not used, and no later URL is asked', async () => {
    answers = { '/.well-known/oauth-authorization-server': { status: 200, body: { issuer: 'https://evil.example' } } };
    const error = await rejection(fetchAuthorizationServerMetadata(server.url), VerifierUnavailableError, { status: 503 });
    expect(error.message).toMatch(/unusable: .*"issuer" property does not match/);
    expect(await asked(() => fetchAuthorizationServerMetadata(server.url))).toEqual(['/.well-known/oauth-authorization-server']);
  });

  it('refuses a document larger than maxResponseBytes (default 64 KiB), and accepts it under a higher limit', async () => {
    const large = { issuer: server.url, padding: 'x'.repeat(70 * 1024) };
    answers = { '/.well-known/oauth-authorization-server': { status: 200, body: large } };
    const error = await rejection(fetchAuthorizationServerMetadata(server.url), VerifierUnavailableError, { status: 503 });
    expect(error.message).toContain('larger than 65536 bytes');
    expect((await fetchAuthorizationServerMetadata(server.url, { maxResponseBytes: 128 * 1024 }))['padding']).toBe(large.padding);
  });

  it('follows no redirect: a 302 counts as no document there, and the next well-known URL is asked', async () => {
    answers = {
      '/.well-known/oauth-authorization-server': { status: 302, location: '/elsewhere' },
      '/elsewhere': { status: 200, body: { issuer: server.url } },
      '/.well-known/openid-configuration': { status: 200, body: { issuer: server.url, found: 'oidc' } },
    };
    expect((await fetchAuthorizationServerMetadata(server.url))['found']).toBe('oidc');
    expect(await asked(() => fetchAuthorizationServerMetadata(server.url))).toEqual([
      '/.well-known/oauth-authorization-server',
      '/.well-known/openid-configuration',
    ]);
  });

  it('S-23: rejects a plain-http issuer beyond loopback, and a bad option, before any request', async () => {
    let requests = 0;
    const recording = (async () => {
      requests++;
      return new Response('{}');
    }) as typeof fetch;
    await rejection(fetchAuthorizationServerMetadata('http://as.example.com', { fetch: recording }), ConfigurationError, { code: 'ERR_INSECURE_URL' });
    await rejection(fetchAuthorizationServerMetadata('https://as.example.com', { fetch: recording, maxResponseBytes: 0 }), ConfigurationError);
    expect(requests).toBe(0);
  });
});
