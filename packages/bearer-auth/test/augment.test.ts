import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer } from 'node:http';
import express from 'express';
import request from 'supertest';
// The opt-in augmentation: `import '@portcullis/bearer-auth/augment'` in an application.
import '../src/augment.js';
import { createIntrospectionVerifier } from '@portcullis/token-verification';
import { defineProtectedResource } from '@portcullis/protected-resource-metadata';
import { clientCredentialsToken, INTROSPECTOR, OPAQUE_RESOURCE } from '@portcullis/test-fixtures';
import { bearerAuth } from '../src/index.js';
import { startFixture, type Fixture } from './support.js';

let fx: Fixture;
beforeAll(async () => {
  fx = await startFixture();
});
afterAll(() => fx.close());

describe('req.auth typing (opt-in augmentation of http.IncomingMessage)', () => {
  it('Express handlers read req.auth without a cast', async () => {
    const app = express();
    app.use('/mcp', bearerAuth({ verifier: fx.verifier, resource: fx.resource }));
    app.get('/mcp', (req, res) => {
      // Typed: AuthInfo | undefined, straight from the augmentation.
      const scopes: string[] | undefined = req.auth?.scopes;
      res.json({ scopes, subject: req.auth?.subject, issuer: req.auth?.issuer });
    });
    const res = await request(app).get('/mcp').set('Authorization', `Bearer ${await fx.token('files:read')}`);
    expect(res.body).toEqual({ scopes: ['files:read'], subject: 'machine-client', issuer: fx.as.issuer });
  });

  it('bare node:http handlers read req.auth without a cast', async () => {
    const auth = bearerAuth({ verifier: fx.verifier, resource: fx.resource });
    const server = createServer((req, res) => auth(req, res, () => res.end(req.auth?.clientId ?? 'none')));
    const res = await request(server).get('/').set('Authorization', `Bearer ${await fx.token('mcp:tools')}`);
    expect(res.text).toBe('machine-client');
  });
});

describe('with the core introspection verifier and a real opaque token (S-10, S-11)', () => {
  it('accepts a real opaque token for this resource, refuses one the AS never issued', async () => {
    const opaque = defineProtectedResource({ resource: OPAQUE_RESOURCE, authorizationServers: [fx.as.issuer] });
    const verifier = createIntrospectionVerifier({
      issuer: fx.as.issuer,
      audience: opaque.resource,
      client: { method: 'client_secret_basic', clientId: INTROSPECTOR.clientId, clientSecret: INTROSPECTOR.clientSecret },
    });
    const app = express();
    app.use('/mcp', bearerAuth({ verifier, resource: opaque, requiredScopes: ['files:read'] }));
    app.post('/mcp', (req, res) => {
      res.json({ clientId: req.auth?.clientId, scopes: req.auth?.scopes });
    });
    const token = (await clientCredentialsToken(fx.as, { resource: OPAQUE_RESOURCE, scope: 'files:read' })).access_token;
    expect(token.split('.')).toHaveLength(1);
    const ok = await request(app).post('/mcp').set('Authorization', `Bearer ${token}`);
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ clientId: 'machine-client', scopes: ['files:read'] });

    // a token the AS never issued: introspection says active: false
    const unknown = await request(app).post('/mcp').set('Authorization', 'Bearer not-a-token-this-as-issued');
    expect(unknown.status).toBe(401);
    expect(unknown.headers['www-authenticate']).toContain('error="invalid_token"');
  });
});
