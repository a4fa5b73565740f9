import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import express from 'express';
import request from 'supertest';
import { createJwtVerifier } from '@portcullis/token-verification';
import { defineProtectedResource, protectedResourceMetadata } from '@portcullis/protected-resource-metadata';
import { clientCredentialsToken, JWT_RESOURCE, startTestAuthorizationServer, type DevAuthorizationServer } from '@portcullis/test-fixtures';
import { bearerAuth } from '../src/index.js';
import { parseChallenge } from './support.js';

let as: DevAuthorizationServer;
beforeAll(async () => {
  as = await startTestAuthorizationServer();
});
afterAll(() => as.close());

describe('the README quick start, as written (issuer and resource swapped for the test AS)', () => {
  it('S-02 S-04 S-10 S-17: metadata, discovery-configured verifier, mount and per-tool scopes from one resource object', async () => {
    // --- quick start ---
    const mcp = defineProtectedResource({ resource: JWT_RESOURCE, authorizationServers: [as.issuer] });
    const verifier = createJwtVerifier({ issuer: as.issuer, audience: mcp.resource });
    const app = express();
    app.use(protectedResourceMetadata(mcp));
    app.use('/mcp', bearerAuth({ verifier, resource: mcp, requiredScopes: ['mcp:tools'], operationScopes: { 'tools/call': { delete_repo: ['mcp:admin'] } } }));
    // --- end ---
    app.post('/mcp', (_req, res) => {
      res.json({ reached: true });
    });

    const challenge = parseChallenge((await request(app).post('/mcp')).headers['www-authenticate']);
    const metadata = await request(app).get(new URL(challenge.params['resource_metadata']!).pathname);
    expect(metadata.body).toMatchObject({ resource: JWT_RESOURCE, authorization_servers: [as.issuer] });

    const token = (await clientCredentialsToken(as, { resource: metadata.body.resource, scope: challenge.params['scope']! })).access_token;
    const call = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'delete_repo' } };
    expect((await request(app).post('/mcp').set('Authorization', `Bearer ${token}`).send({ ...call, params: { name: 'other' } })).status).toBe(200);
    const denied = await request(app).post('/mcp').set('Authorization', `Bearer ${token}`).send(call);
    expect(denied.status).toBe(403);
    expect(parseChallenge(denied.headers['www-authenticate']).params['scope']).toBe('mcp:tools mcp:admin');
  });
});
