// Regressions for the client-side security review: each case failed before its fix.
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as oauth from 'oauth4webapi';
import { tokenError } from '../src/authorization.js';
import { validateAuthorizationServerMetadata } from '../src/discovery.js';
import { McpOAuthError } from '../src/errors.js';
import { createSafeFetch, type HostLookup, type TransportRequest } from '../src/safe-fetch.js';

const PUBLIC = '93.184.215.14';
const resolvesTo = (address: string): HostLookup => async () => [{ address, family: 4 }];
function recordingTransport(respond: (req: TransportRequest) => Response) {
  const attempts: string[] = [];
  return { attempts, transport: async (req: TransportRequest) => (attempts.push(req.url.href), respond(req)) };
}
async function refusal(promise: Promise<unknown>): Promise<McpOAuthError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(McpOAuthError);
  return error as McpOAuthError;
}

describe('a peer that answers with an invalid status line', () => {
  let server: Server;
  let origin: string;
  const sockets = new Set<Socket>();
  beforeAll(async () => {
    // Raw TCP: node:http will not send a status of 999, a hostile server will.
    server = createTcpServer((socket) => {
      sockets.add(socket);
      socket.end('HTTP/1.1 999 Nonsense\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('C-43: rejects the fetch with fetch_failed instead of throwing in the socket handler (which crashed the process)', async () => {
    const fetch = createSafeFetch({ allowInsecureLoopback: true, timeoutMs: 2000 });
    expect((await refusal(fetch(`${origin}/prm`))).code).toBe('fetch_failed');
  });
});

describe('allowInsecureLoopback is for servers on this machine only (C-44, C-45)', () => {
  it('a redirect from a remote server to a loopback host is refused, and the loopback host is never asked', async () => {
    const { attempts, transport } = recordingTransport((req) =>
      req.url.hostname === 'prm.example.com' ? new Response(null, { status: 302, headers: { location: 'http://127.0.0.1:6379/internal' } }) : Response.json({}),
    );
    const fetch = createSafeFetch({ allowInsecureLoopback: true, lookup: resolvesTo(PUBLIC), transport });
    expect((await refusal(fetch('https://prm.example.com/.well-known/oauth-protected-resource'))).code).toBe('ssrf_blocked');
    expect(attempts).toEqual(['https://prm.example.com/.well-known/oauth-protected-resource']);
  });

  it.each(['token_endpoint', 'registration_endpoint', 'authorization_endpoint', 'jwks_uri'])(
    'a remote authorization server whose %s is on loopback is refused at discovery',
    (field) => {
      const metadata = { issuer: 'https://as.example.com', [field]: 'http://127.0.0.1:2375/containers/prune' };
      expect(() => validateAuthorizationServerMetadata('https://as.example.com', metadata)).toThrow(expect.objectContaining({ code: 'ssrf_blocked' }));
    },
  );

  it('an authorization server on loopback may keep its endpoints there (local development)', () => {
    const metadata = { issuer: 'http://127.0.0.1:9000', token_endpoint: 'http://127.0.0.1:9000/token' };
    expect(validateAuthorizationServerMetadata('http://127.0.0.1:9000', metadata).token_endpoint).toBe('http://127.0.0.1:9000/token');
  });
});

describe('request bodies never follow a redirect to another origin', () => {
  it.each([307, 308])('a %s to another origin with a body (an ID token, a grant) is refused', async (status) => {
    const { attempts, transport } = recordingTransport((req) =>
      req.url.hostname === 'idp.example.com' ? new Response(null, { status, headers: { location: 'https://collector.example.net/' } }) : Response.json({}),
    );
    const fetch = createSafeFetch({ lookup: resolvesTo(PUBLIC), transport });
    const error = await refusal(fetch('https://idp.example.com/token', { method: 'POST', body: 'subject_token=eyJ.secret.id-token' }));
    expect(error.code).toBe('fetch_failed');
    expect(attempts).toEqual(['https://idp.example.com/token']);
  });
});

describe('token-endpoint errors never carry the token response', () => {
  it('S-22: a malformed token response (tokens included) does not survive in the error cause', () => {
    const leaked = { access_token: 'at-SECRET-1234', refresh_token: 'rt-SECRET-5678', expires_in: -5 };
    const original = new oauth.OperationProcessingError('"response" body "expires_in" property must be a non-negative number', {
      cause: { body: leaked },
    } as never);
    const error = tokenError('token_request_failed', 'The token request', original);
    expect(error).toBeInstanceOf(McpOAuthError);
    const printed = inspect(error, { depth: 10 });
    expect(printed).not.toContain('at-SECRET-1234');
    expect(printed).not.toContain('rt-SECRET-5678');
    expect(printed).toContain('expires_in');
  });
});
