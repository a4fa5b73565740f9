import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import express from 'express';
import request from 'supertest';
import { startLocalServer, startTestAuthorizationServer, type DevAuthorizationServer } from '@portcullis/test-fixtures';
import { ConfigurationError, VerifierUnavailableError } from '@portcullis/token-verification';
import { defineProtectedResource, protectedResourceMetadata } from '../src/index.js';

let as: DevAuthorizationServer;
beforeAll(async () => {
  as = await startTestAuthorizationServer();
});
afterAll(() => as.close());

const DISCOVERY = '/.well-known/openid-configuration';

function fetches(): number {
  return as.requestCount('/.well-known/oauth-authorization-server') + as.requestCount(DISCOVERY);
}

describe('L-03: authorization server metadata mirror (off by default)', () => {
  it('is off by default: /.well-known/oauth-authorization-server falls through', async () => {
    const mcp = defineProtectedResource({ resource: 'http://127.0.0.1:1/mcp', authorizationServers: [as.issuer] });
    const app = express();
    app.use(protectedResourceMetadata(mcp));
    const before = fetches();
    expect((await request(app).get('/.well-known/oauth-authorization-server')).status).toBe(404);
    expect(fetches()).toBe(before);
  });

  it('mirrors the real issuer metadata, caches it, and refreshes it after maxAge', async () => {
    let clock = 1_000_000;
    const app = mirrorApp(as.issuer, { maxAge: 60, now: () => clock });
    const before = fetches();

    const first = await request(app).get('/.well-known/oauth-authorization-server');
    expect(first.status).toBe(200);
    expect(first.headers['content-type']).toBe('application/json');
    expect(first.headers['cache-control']).toBe('public, max-age=60');
    expect(first.body.issuer).toBe(as.issuer);
    expect(first.body.token_endpoint).toBe(`${as.issuer}/token`);
    const afterFirst = fetches();
    expect(afterFirst).toBeGreaterThan(before);

    clock += 59_000;
    expect((await request(app).get('/.well-known/oauth-authorization-server')).status).toBe(200);
    expect(fetches()).toBe(afterFirst); // cached

    clock += 2_000;
    expect((await request(app).get('/.well-known/oauth-authorization-server')).body.issuer).toBe(as.issuer);
    await until(() => fetches() > afterFirst); // refreshed, behind the (stale) answer
    // the metadata document itself is still served alongside
    expect((await request(app).get('/.well-known/oauth-protected-resource/mcp')).body.authorization_servers).toEqual([as.issuer]);
  });

  it('refuses unusable options when the app is built, not on the first request', () => {
    for (const bad of [{ maxAge: -1 }, { timeout: 0 }, { maxResponseBytes: 1.5 }, { fetch: 'fetch' as unknown as typeof fetch }, { onError: 'log' as unknown as () => void }]) {
      expect(() => mirrorApp(as.issuer, bad)).toThrow(ConfigurationError);
    }
  });

  it('rejects other methods with 405 and answers 503 with Retry-After when the issuer cannot be reached', async () => {
    const app = mirrorApp('http://127.0.0.1:1', true);
    const down = await request(app).get('/.well-known/oauth-authorization-server');
    expect(down.status).toBe(503);
    expect(down.headers['retry-after']).toBe('5');
    expect(down.body.error).toBe('temporarily_unavailable');
    expect((await request(app).post('/.well-known/oauth-authorization-server')).status).toBe(405);
  });

  it('C-08: refuses metadata whose issuer differs from the configured one (RFC 8414 §3.3), as the verifiers do: the search ends there', async () => {
    const stand = await startMetadataStandIn((issuer) => ({ issuer: 'https://evil.example', token_endpoint: `${issuer}/token` }));
    try {
      const app = mirrorApp(stand.issuer, true);
      const res = await request(app).get('/.well-known/oauth-authorization-server');
      expect(res.status).toBe(503);
      expect(stand.paths).toEqual(['/.well-known/oauth-authorization-server']);
    } finally {
      await stand.close();
    }
  });

  it('refuses a document over maxResponseBytes (default 64 KiB) rather than read it whole, and serves it under a higher limit', async () => {
    const padding = 'x'.repeat(70 * 1024);
    const stand = await startMetadataStandIn((issuer) => ({ issuer, token_endpoint: `${issuer}/token`, padding }));
    try {
      expect((await request(mirrorApp(stand.issuer, true)).get('/.well-known/oauth-authorization-server')).status).toBe(503);
      const roomy = await request(mirrorApp(stand.issuer, { maxResponseBytes: 128 * 1024 })).get('/.well-known/oauth-authorization-server');
      expect(roomy.status).toBe(200);
      expect(roomy.body.padding).toBe(padding);
    } finally {
      await stand.close();
    }
  });

  it('serves the cached copy while the issuer is down, tells onError, and refetches once it is back', async () => {
    let clock = 0;
    const errors: Error[] = [];
    const stand = await startMetadataStandIn((issuer) => ({ issuer, token_endpoint: `${issuer}/token` }));
    try {
      const app = mirrorApp(stand.issuer, { maxAge: 10, now: () => clock, onError: (error) => errors.push(error) });
      expect((await request(app).get('/.well-known/oauth-authorization-server')).body.issuer).toBe(stand.issuer);
      expect(stand.paths).toEqual(['/.well-known/oauth-authorization-server']); // RFC 8414 URL first
      stand.down = true;
      clock = 11_000;
      const stale = await request(app).get('/.well-known/oauth-authorization-server');
      expect(stale.status).toBe(200);
      expect(stale.body.issuer).toBe(stand.issuer);
      expect(stale.headers['cache-control']).toBe('public, max-age=0'); // not kept downstream past its maxAge
      // The refresh behind it tried both URLs and failed; the clock moves on only once the failure is
      // recorded (the 5 s of Retry-After count from it).
      await until(() => errors.length === 1);
      expect(stand.paths).toHaveLength(3);
      expect(errors[0]).toBeInstanceOf(VerifierUnavailableError);
      expect(errors[0]!.message).toContain('HTTP 500');
      stand.down = false;
      clock = 16_000; // past the 5 s the issuer is left alone after a failure
      expect((await request(app).get('/.well-known/oauth-authorization-server')).status).toBe(200);
      await until(() => stand.paths.length === 4); // refreshed behind the answer
      clock = 25_000; // within maxAge of that refresh: no fetch
      expect((await request(app).get('/.well-known/oauth-authorization-server')).status).toBe(200);
      expect(stand.paths.length).toBe(4);
    } finally {
      await stand.close();
    }
  });

  it('answers a stale copy at once, without waiting for an issuer that does not answer', async () => {
    let clock = 0;
    const stand = await startMetadataStandIn((issuer) => ({ issuer, token_endpoint: `${issuer}/token` }));
    try {
      const app = mirrorApp(stand.issuer, { maxAge: 10, timeout: 60_000, now: () => clock });
      expect((await request(app).get('/.well-known/oauth-authorization-server')).status).toBe(200);
      stand.hang = true;
      clock = 11_000;
      // Waiting on the issuer here would outlast the test's own time limit (timeout: 60 s).
      const stale = await request(app).get('/.well-known/oauth-authorization-server');
      expect(stale.status).toBe(200);
      expect(stale.body.issuer).toBe(stand.issuer);
      await until(() => stand.paths.length === 2); // the refresh is under way behind the answer
    } finally {
      await stand.close();
    }
  });

  it('makes a copy older than twice maxAge wait for the issuer (maxAge 0: every answer fetched), and answers it if the issuer fails', async () => {
    let clock = 0;
    let version = 1;
    const stand = await startMetadataStandIn((issuer) => ({ issuer, token_endpoint: `${issuer}/token`, version }));
    try {
      const always = mirrorApp(stand.issuer, { maxAge: 0, now: () => clock });
      expect((await request(always).get('/.well-known/oauth-authorization-server')).body.version).toBe(1);
      version = 2;
      expect((await request(always).get('/.well-known/oauth-authorization-server')).body.version).toBe(2);

      const app = mirrorApp(stand.issuer, { maxAge: 10, now: () => clock });
      expect((await request(app).get('/.well-known/oauth-authorization-server')).body.version).toBe(2);
      version = 3;
      clock = 20_000; // twice maxAge: too old to answer without asking
      expect((await request(app).get('/.well-known/oauth-authorization-server')).body.version).toBe(3);
      stand.down = true;
      clock = 40_000;
      const before = stand.paths.length;
      const old = await request(app).get('/.well-known/oauth-authorization-server');
      expect(old.status).toBe(200); // the issuer failed: the old copy beats none
      expect(old.body.version).toBe(3);
      expect(stand.paths.length).toBe(before + 2);
      clock = 44_000; // within the 5 s the failing issuer is left alone: answered without asking
      expect((await request(app).get('/.well-known/oauth-authorization-server')).status).toBe(200);
      expect(stand.paths.length).toBe(before + 2);
    } finally {
      await stand.close();
    }
  });

  it('leaves a failing issuer alone for Retry-After seconds: 503 at once meanwhile, then asks again (a throwing onError changes nothing)', async () => {
    let clock = 0;
    const stand = await startMetadataStandIn((issuer) => ({ issuer, token_endpoint: `${issuer}/token` }));
    try {
      stand.down = true;
      const onError = () => {
        throw new Error('the logger is down too');
      };
      const app = mirrorApp(stand.issuer, { now: () => clock, onError });
      expect((await request(app).get('/.well-known/oauth-authorization-server')).status).toBe(503);
      expect(stand.paths).toHaveLength(2);
      clock = 4_999;
      const meanwhile = await request(app).get('/.well-known/oauth-authorization-server');
      expect(meanwhile.status).toBe(503);
      expect(meanwhile.headers['retry-after']).toBe('5');
      expect(stand.paths).toHaveLength(2);
      stand.down = false;
      clock = 5_000;
      expect((await request(app).get('/.well-known/oauth-authorization-server')).body.issuer).toBe(stand.issuer);
      expect(stand.paths).toHaveLength(3);
    } finally {
      await stand.close();
    }
  });
});

/** An app serving a protected resource of `issuer` with the mirror configured by `mirror`. */
function mirrorApp(issuer: string, mirror: NonNullable<NonNullable<Parameters<typeof protectedResourceMetadata>[1]>['mirrorAuthorizationServerMetadata']>) {
  const mcp = defineProtectedResource({ resource: 'http://127.0.0.1:1/mcp', authorizationServers: [issuer] });
  return express().use(protectedResourceMetadata(mcp, { mirrorAuthorizationServerMetadata: mirror }));
}

/** Waits, a turn of the event loop at a time, until `done()` holds; fails after 2 s. */
async function until(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('condition not reached within 2 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A tiny local issuer for what a real AS will not do on demand: lie about its issuer, or go down. */
async function startMetadataStandIn(document: (issuer: string) => Record<string, unknown>) {
  const paths: string[] = [];
  const state = { down: false, hang: false };
  const server = await startLocalServer((req, res) => {
    paths.push(req.url ?? '');
    if (state.hang) return; // never answers
    // Down answers a little late, as a real outage does: a test must wait for the failure, not the request.
    if (state.down) return void setTimeout(() => res.writeHead(500).end(), 20);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(document(server.url)));
  });
  return {
    issuer: server.url,
    paths,
    set down(value: boolean) {
      state.down = value;
    },
    set hang(value: boolean) {
      state.hang = value;
    },
    close: () => server.close(),
  };
}
