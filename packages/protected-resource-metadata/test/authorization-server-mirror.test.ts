import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import express from 'express';
import request from 'supertest';
import { startTestAuthorizationServer, type DevAuthorizationServer } from '@portcullis/test-fixtures';
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
    const mcp = defineProtectedResource({ resource: 'http://127.0.0.1:1/mcp', authorizationServers: [as.issuer] });
    const app = express();
    app.use(protectedResourceMetadata(mcp, { mirrorAuthorizationServerMetadata: { maxAge: 60, now: () => clock } }));
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
    expect(fetches()).toBeGreaterThan(afterFirst); // refreshed
    // the metadata document itself is still served alongside
    expect((await request(app).get('/.well-known/oauth-protected-resource/mcp')).body.authorization_servers).toEqual([as.issuer]);
  });

  it('rejects other methods with 405 and answers 503 with Retry-After when the issuer cannot be reached', async () => {
    const mcp = defineProtectedResource({ resource: 'http://127.0.0.1:1/mcp', authorizationServers: ['http://127.0.0.1:1'] });
    const app = express();
    app.use(protectedResourceMetadata(mcp, { mirrorAuthorizationServerMetadata: true }));
    const down = await request(app).get('/.well-known/oauth-authorization-server');
    expect(down.status).toBe(503);
    expect(down.headers['retry-after']).toBe('5');
    expect(down.body.error).toBe('temporarily_unavailable');
    expect((await request(app).post('/.well-known/oauth-authorization-server')).status).toBe(405);
  });

  it('refuses metadata whose issuer differs from the configured one (RFC 8414 §3.3)', async () => {
    const other = new URL(as.issuer);
    other.hostname = 'localhost'; // same server, different issuer string
    const mcp = defineProtectedResource({ resource: 'http://127.0.0.1:1/mcp', authorizationServers: [other.origin] });
    const app = express();
    app.use(protectedResourceMetadata(mcp, { mirrorAuthorizationServerMetadata: true }));
    expect((await request(app).get('/.well-known/oauth-authorization-server')).status).toBe(503);
  });
});
