// The token-endpoint edge: what is sent for client authentication, and what a failure keeps.
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decodeJwt, exportJWK, importJWK, type CryptoKey, type JWK } from 'jose';
import { ConfigurationError } from '@portcullis/token-verification';
import { createTestKey, startLocalServer, type LocalServer } from '@portcullis/test-fixtures';
import { createTokenExchanger, UpstreamTokenError } from '../src/index.js';

let server: LocalServer;
let lastBody = new URLSearchParams();
let answer: { status: number; body: unknown; headers?: Record<string, string> } = { status: 400, body: { error: 'invalid_grant' } };
beforeAll(async () => {
  server = await startLocalServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (raw += chunk));
    req.on('end', () => {
      lastBody = new URLSearchParams(raw);
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end(JSON.stringify(answer.body));
    });
  });
});
afterAll(() => server.close());

const subject = { token: 'caller-token' };
const secretClient = { method: 'client_secret_post', clientId: 'mcp-server', clientSecret: 'server-secret-0123456789' } as const;
/** An exchanger against the stub endpoint; the cache is off so each call is one request. */
const stubExchanger = () => createTokenExchanger({ tokenEndpoint: `${server.url}/token`, allowInsecureHttp: true, client: secretClient, cache: false });

describe('the token endpoint of an upstream exchange', () => {
  it('RFC 8414 §3.3: the private_key_jwt assertion is addressed to the issuer exactly as configured, trailing slash included', async () => {
    const key = await createTestKey('ES256');
    const issuer = `${server.url}/`;
    const exchanger = createTokenExchanger({
      tokenEndpoint: `${server.url}/token`,
      issuer,
      allowInsecureHttp: true,
      client: { method: 'private_key_jwt', clientId: 'mcp-server', privateKey: key.privateKey, kid: key.kid },
    });
    answer = { status: 400, body: { error: 'invalid_grant' } };
    await expect(exchanger.exchange(subject, { audience: 'https://api.example.com' })).rejects.toBeInstanceOf(UpstreamTokenError);
    expect(decodeJwt(lastBody.get('client_assertion')!)).toMatchObject({ aud: issuer, iss: 'mcp-server', sub: 'mcp-server' });
  });

  it('S-22: an invalid token response (tokens included) does not survive in the error or its cause', async () => {
    const exchanger = createTokenExchanger({
      tokenEndpoint: `${server.url}/token`,
      allowInsecureHttp: true,
      client: { method: 'client_secret_post', clientId: 'mcp-server', clientSecret: 'server-secret-0123456789' },
    });
    answer = { status: 200, body: { access_token: 'at-SECRET-1234', token_type: 'Bearer', expires_in: -5, refresh_token: 'rt-SECRET-5678' } };
    const error = await exchanger.exchange(subject, { audience: 'https://api.example.com' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'invalid_token_response' });
    const printed = inspect(error, { depth: 10 });
    expect(printed).not.toContain('at-SECRET-1234');
    expect(printed).not.toContain('rt-SECRET-5678');
  });

  it.each([
    ['a newline', 'SECRET-AT\nx'],
    ['a space', 'SECRET AT'],
    ['a non-ASCII letter', 'SECRET-\u00c4T'],
  ])('S-22 C-35: an access_token with %s cannot go in an Authorization header (RFC 6749 §A.12) and is refused without the token', async (_name, accessToken) => {
    answer = { status: 200, body: { access_token: accessToken, token_type: 'Bearer', expires_in: 300, issued_token_type: 'urn:ietf:params:oauth:token-type:access_token' } };
    const error = await stubExchanger().exchange(subject, { audience: 'https://api.example.com' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamTokenError);
    expect(error).toMatchObject({ code: 'invalid_token_response' });
    expect(inspect(error, { depth: 10 })).not.toContain('SECRET');
  });

  it('RFC 6749 §5.2: a 401 invalid_client with a WWW-Authenticate challenge is a refusal naming the OAuth error', async () => {
    answer = { status: 401, headers: { 'www-authenticate': 'Basic realm="as"' }, body: { error: 'invalid_client', error_description: 'client authentication failed' } };
    const error = await stubExchanger().exchange(subject, { audience: 'https://api.example.com' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamTokenError);
    expect(error).toMatchObject({ code: 'token_request_refused', oauthError: 'invalid_client', status: 401 });
    expect((error as Error).message).toContain('invalid_client');
  });


  it('RFC 8693 §2.2.1: a token-exchange response without issued_token_type is refused', async () => {
    answer = { status: 200, body: { access_token: 'upstream-at', token_type: 'Bearer', expires_in: 300 } };
    const error = await stubExchanger().exchange(subject, { audience: 'https://api.example.com' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamTokenError);
    expect(error).toMatchObject({ code: 'invalid_token_response' });
    expect((error as Error).message).toContain('issued_token_type');
    expect((error as Error).message).not.toContain('upstream-at');
  });

  it('RFC 6749 §A.14: expires_in as a string of digits (Azure AD v1, ADFS) is read as seconds', async () => {
    answer = { status: 200, body: { access_token: 'upstream-at', token_type: 'Bearer', expires_in: '3599', issued_token_type: 'urn:ietf:params:oauth:token-type:access_token' } };
    const before = Math.floor(Date.now() / 1000);
    const token = await stubExchanger().exchange(subject, { audience: 'https://api.example.com' });
    expect(token.expiresAt! - before).toBeGreaterThanOrEqual(3599);
    expect(token.expiresAt! - before).toBeLessThanOrEqual(3600);
  });

  it.each([
    ['a JSON string oauth4webapi would parseFloat', '1e9'],
    ['a string that is not digits only', '3600.0'],
    ['zero', 0],
    ['a fraction', 3600.5],
  ])('RFC 6749 §5.1 §A.14: expires_in as %s gives no cache lifetime: the answer is refused', async (_name, expiresIn) => {
    answer = { status: 200, body: { access_token: 'upstream-at', token_type: 'Bearer', expires_in: expiresIn, issued_token_type: 'urn:ietf:params:oauth:token-type:access_token' } };
    const error = await stubExchanger().exchange(subject, { audience: 'https://api.example.com' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamTokenError);
    expect(error).toMatchObject({ code: 'invalid_token_response' });
    expect((error as Error).message).toContain('expires_in');
  });

  it.each<[string, () => Promise<CryptoKey | JWK>]>([
    ['a private JWK without alg', async () => exportJWK((await createTestKey('ES256')).privateKey)],
    ['a public JWK', async () => (await createTestKey('ES256')).publicJwk],
    ['a public CryptoKey', async () => (await importJWK((await createTestKey('ES256')).publicJwk)) as CryptoKey],
    ['a private JWK whose alg does not fit its kty', async () => ({ ...(await exportJWK((await createTestKey('ES256')).privateKey)), alg: 'RS256' })],
    ['a symmetric JWK', async () => ({ kty: 'oct', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0', alg: 'HS256' })],
    ['a private CryptoKey that cannot sign', async () => (await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits'])).privateKey],
  ])('X-02 RFC 7523 §2.2: private_key_jwt with %s is a ConfigurationError at construction', async (_name, privateKey) => {
    const key = await privateKey();
    expect(() =>
      createTokenExchanger({ tokenEndpoint: `${server.url}/token`, allowInsecureHttp: true, client: { method: 'private_key_jwt', clientId: 'mcp-server', privateKey: key } }),
    ).toThrow(expect.objectContaining({ name: 'ConfigurationError', code: 'ERR_INVALID_KEY' }));
  });

  it('X-02: a private JWK that fails to import is a ConfigurationError at the call, not memoised: the next call imports again', async () => {
    const valid = { ...(await exportJWK((await createTestKey('ES256')).privateKey)), alg: 'ES256' };
    const jwk: JWK = { ...valid, d: 'AAAA' };
    const exchanger = createTokenExchanger({ tokenEndpoint: `${server.url}/token`, allowInsecureHttp: true, client: { method: 'private_key_jwt', clientId: 'mcp-server', privateKey: jwk }, cache: false });
    answer = { status: 400, body: { error: 'invalid_grant' } };
    lastBody = new URLSearchParams();
    const error = await exchanger.exchange(subject, { audience: 'https://api.example.com' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error).toMatchObject({ code: 'ERR_INVALID_KEY' });
    expect(lastBody.has('client_assertion')).toBe(false);
    jwk.d = valid.d!;
    await expect(exchanger.exchange(subject, { audience: 'https://api.example.com' })).rejects.toMatchObject({ code: 'token_request_refused' });
    expect(decodeJwt(lastBody.get('client_assertion')!)).toMatchObject({ iss: 'mcp-server' });
  });

  it('S-22: a discovered token_endpoint with user information is refused at discovery, its password never quoted', async () => {
    const endpoint = new URL(`${server.url}/token`);
    endpoint.username = 'mcp-server';
    endpoint.password = 'PASSWORD-IN-METADATA';
    // The stub answers the RFC 8414 request with this document; a token request would get the same body.
    answer = { status: 200, body: { issuer: server.url, token_endpoint: endpoint.href } };
    const exchanger = createTokenExchanger({ issuer: server.url, allowInsecureHttp: true, client: secretClient, cache: false });
    const error = await exchanger.exchange(subject, { audience: 'https://api.example.com' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamTokenError);
    expect(error).toMatchObject({ code: 'discovery_failed' });
    expect(inspect(error, { depth: 10 })).not.toContain('PASSWORD-IN-METADATA');
  });
});

describe('plain http', () => {
  it('S-23 a discovered token_endpoint on plain http beyond loopback is refused at discovery, under a loopback issuer too', async () => {
    answer = { status: 200, body: { issuer: server.url, token_endpoint: 'http://as.example.com/token' } };
    const error = await createTokenExchanger({ issuer: server.url, client: secretClient, cache: false })
      .exchange(subject, { audience: 'https://api.example.com' })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'UpstreamTokenError', code: 'discovery_failed', message: expect.stringContaining('not https') });
  });
});
