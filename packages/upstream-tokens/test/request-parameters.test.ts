import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ConfigurationError } from '@portcullis/token-verification';
import { startLocalServer, type LocalServer } from '@portcullis/test-fixtures';
import { createClientCredentialsSource, createTokenExchanger, type ClientCredentialsSourceOptions } from '../src/index.js';

// What is refused before any request: the stub token endpoint only counts requests.
let server: LocalServer;
let requests = 0;
beforeAll(async () => {
  server = await startLocalServer((_req, res) => {
    requests++;
    res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'invalid_request' }));
  });
});
afterAll(() => server.close());

const client = { method: 'client_secret_basic', clientId: 'mcp-server', clientSecret: 'server-secret' } as const;

describe('options refused before any request', () => {
  it.each([
    ['tokenEndpoint', { tokenEndpoint: 'https://user:PASSW0RD@as.example/token' }],
    ['issuer', { issuer: 'https://user:PASSW0RD@as.example' }],
    ['issuer beside tokenEndpoint', { tokenEndpoint: 'https://as.example/token', issuer: 'https://:PASSW0RD@as.example' }],
    ['an unparsable tokenEndpoint', { tokenEndpoint: 'https://user:PASSW0RD@as example/token' }],
  ])('S-22: user information in %s is a ConfigurationError whose message has no password', (_name, location) => {
    let error: unknown;
    try {
      createTokenExchanger({ ...location, client } as Parameters<typeof createTokenExchanger>[0]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).not.toContain('PASSW0RD');
  });

  const badResources = [
    ['with a fragment', 'https://api.example.com/v1#part'],
    ['with an empty fragment', 'https://api.example.com/v1#'],
    ['that is relative', '/v1'],
    ['that is not a URI', 'api example'],
    ['with a dot segment that parsing resolves', 'https://api.example.com/tenant-b/../v1'],
    ['with an encoded dot segment', 'https://api.example.com/tenant-b/%2E%2e/v1'],
    ['with a backslash that parsing turns into a slash', 'https://api.example.com\\v1'],
    ['with a tab that parsing drops', 'https://api.example.com/v\t1'],
    ['with surrounding spaces that parsing drops', ' https://api.example.com/v1 '],
  ];
  const badScopes: [string, string | readonly string[]][] = [
    ['a quote', 'read"write'],
    ['a backslash', ['read\\write']],
    ['two spaces', 'read  write'],
    ['a space inside a list entry', ['read write']],
    ['a non-ASCII letter', ['l\u00e9ire']],
  ];

  it.each(badResources)('C-25 RFC 8707 §2: a resource %s is a ConfigurationError at construction (client credentials)', (_name, resource) => {
    expect(() => createClientCredentialsSource({ tokenEndpoint: `${server.url}/token`, allowInsecureHttp: true, client, resource })).toThrow(
      expect.objectContaining({ name: 'ConfigurationError', code: 'ERR_INVALID_RESOURCE' }),
    );
  });

  it.each([
    ['https://api.example.com'],
    ['https://API.example.com:443/v1/'],
    ['https://api.example.com/v1/..data'],
    ['https://[::1]/v1?tenant=a'],
    ['urn:example:upstream-api'],
  ])('C-25 RFC 8707 §2: the resource %s is sent as written', async (resource) => {
    let sent: string | null = null;
    const recorder = await startLocalServer((req, res) => {
      let raw = '';
      req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
      req.on('end', () => {
        sent = new URLSearchParams(raw).get('resource');
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'invalid_target' }));
      });
    });
    try {
      const exchanger = createTokenExchanger({ tokenEndpoint: `${recorder.url}/token`, allowInsecureHttp: true, client, cache: false });
      await expect(exchanger.exchange({ token: 'caller-token' }, { audience: 'https://api.example.com', resource })).rejects.toMatchObject({ code: 'token_request_refused' });
      expect(sent).toBe(resource);
    } finally {
      await recorder.close();
    }
  });

  it.each(badResources)('C-25 RFC 8707 §2: a resource %s rejects the exchange with a ConfigurationError and sends nothing', async (_name, resource) => {
    const exchanger = createTokenExchanger({ tokenEndpoint: `${server.url}/token`, allowInsecureHttp: true, client });
    const before = requests;
    await expect(exchanger.exchange({ token: 'caller-token' }, { audience: 'https://api.example.com', resource })).rejects.toMatchObject({ name: 'ConfigurationError', code: 'ERR_INVALID_RESOURCE' });
    expect(requests).toBe(before);
  });

  it.each(badScopes)('RFC 6749 §3.3: a scope with %s is a ConfigurationError at construction (client credentials)', (_name, scope) => {
    const options: ClientCredentialsSourceOptions = { tokenEndpoint: `${server.url}/token`, allowInsecureHttp: true, client, scope };
    expect(() => createClientCredentialsSource(options)).toThrow(expect.objectContaining({ name: 'ConfigurationError', code: 'ERR_INVALID_SCOPES' }));
  });

  it.each(badScopes)('RFC 6749 §3.3: a scope with %s rejects the exchange with a ConfigurationError and sends nothing', async (_name, scope) => {
    const exchanger = createTokenExchanger({ tokenEndpoint: `${server.url}/token`, allowInsecureHttp: true, client });
    const before = requests;
    await expect(exchanger.exchange({ token: 'caller-token' }, { audience: 'https://api.example.com', scope })).rejects.toMatchObject({ name: 'ConfigurationError', code: 'ERR_INVALID_SCOPES' });
    expect(requests).toBe(before);
  });
});

describe('misspelt options', () => {
  it.each([
    ['createTokenExchanger', () => createTokenExchanger({ tokenEndpiont: 'https://as.example/token', client } as never), 'createTokenExchanger(): unknown option "tokenEndpiont" (did you mean "tokenEndpoint"?)'],
    ['client', () => createTokenExchanger({ tokenEndpoint: 'https://as.example/token', client: { ...client, client_secret: 'S3CR3T' } } as never), 'createTokenExchanger() client: unknown option "client_secret" (did you mean "clientSecret"?)'],
    ['cache', () => createClientCredentialsSource({ tokenEndpoint: 'https://as.example/token', client, cache: { maxEntry: 5 } } as never), 'createClientCredentialsSource() cache: unknown option "maxEntry" (did you mean "maxEntries"?)'],
    ['createClientCredentialsSource', () => createClientCredentialsSource({ tokenEndpoint: 'https://as.example/token', client, scopes: ['a'] } as never), 'createClientCredentialsSource(): unknown option "scopes" (did you mean "scope"?)'],
  ])('%s: a ConfigurationError at construction, naming the key and never a value', (_name, build, message) => {
    let error: unknown;
    try {
      build();
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ name: 'ConfigurationError', code: 'ERR_UNKNOWN_OPTION', message });
    expect((error as Error).message).not.toContain('S3CR3T');
  });

  it('exchange: a misspelt target option rejects before any request', async () => {
    const exchanger = createTokenExchanger({ tokenEndpoint: `${server.url}/token`, allowInsecureHttp: true, client });
    const before = requests;
    await expect(exchanger.exchange({ token: 'caller-token' }, { audience: 'https://api.example.com', scopes: ['a'] } as never)).rejects.toMatchObject({
      code: 'ERR_UNKNOWN_OPTION',
      message: 'exchange() target: unknown option "scopes" (did you mean "scope"?)',
    });
    expect(requests).toBe(before);
  });
});

describe('a resource with a space or control character inside', () => {
  // Sent verbatim, while URL parsing (the upstream's, an AS's) reads %20: two different resources.
  it.each([
    ['an inner space', 'https://api.example.com/v1 beta'],
    ['an inner control character', 'https://api.example.com/v1\u0001beta'],
  ])('C-25 RFC 8707 §2: a resource with %s is a ConfigurationError at construction', (_name, resource) => {
    expect(() => createClientCredentialsSource({ tokenEndpoint: 'https://as.example/token', client, resource })).toThrow(
      expect.objectContaining({ name: 'ConfigurationError', code: 'ERR_INVALID_RESOURCE' }),
    );
  });
});
