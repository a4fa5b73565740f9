/**
 * Shared pieces of the hostile suite: an Express MCP endpoint behind the real `bearerAuth`, tiny
 * local servers for what a real AS will not do, raw-socket requests for bytes an HTTP client refuses
 * to send, and a "virtual internet" transport for the client's SSRF guard that answers in-process
 * and never opens a socket. Every socket this suite opens is on 127.0.0.1.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { expect } from '@jest/globals';
import express from 'express';
import { bearerAuth, type BearerAuthOptions } from '@portcullis/bearer-auth';
import { defineProtectedResource, type ProtectedResource } from '@portcullis/protected-resource-metadata';
import type { AuthInfo } from '@portcullis/token-verification';
import type { SafeFetchTransport, TransportRequest } from '@portcullis/mcp-oauth-client';

export const ISSUER = 'https://as.portcullis.test';
export const RESOURCE = 'https://mcp.portcullis.test/mcp';
export const METADATA_URL = 'https://mcp.portcullis.test/.well-known/oauth-protected-resource/mcp';

export const protectedResource: ProtectedResource = defineProtectedResource({
  resource: RESOURCE,
  authorizationServers: [ISSUER],
  scopesSupported: ['mcp:tools'],
});

/** Awaits a rejection; returns what was thrown (or fails the test when nothing was). */
export async function caught(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('expected a rejection, got a value');
}

/** Awaits a rejection and checks its class and selected properties. */
export async function rejects(
  promise: Promise<unknown>,
  errorClass: abstract new (...args: never[]) => Error,
  expected: Record<string, unknown> = {},
): Promise<Error & Record<string, unknown>> {
  const error = await caught(promise);
  expect(error).toBeInstanceOf(errorClass);
  expect(error).toMatchObject(expected);
  return error;
}

/**
 * An Express app with `bearerAuth` on `/mcp` and a handler that echoes the verified scopes; counts
 * the requests that reached the handler (past the middleware).
 */
export function mcpApp(options: Omit<BearerAuthOptions, 'resource'> & { readonly before?: express.RequestHandler[] }) {
  const app = express();
  const state = { reached: 0 };
  const { before = [], ...auth } = options;
  app.use('/mcp', ...before, bearerAuth({ resource: protectedResource, ...auth }));
  app.all('/mcp', (req, res) => {
    state.reached++;
    const info = (req as unknown as { auth: AuthInfo }).auth;
    res.json({ ok: true, scopes: info.scopes, expiresAt: info.expiresAt ?? null });
  });
  return { app, state };
}

/** Parses one `Bearer k="v", …` challenge for assertions. */
export function challengeParams(header: string | undefined): Record<string, string> {
  expect(header).toMatch(/^Bearer /);
  const params: Record<string, string> = {};
  for (const m of header!.matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)) params[m[1]!] = m[2]!.replace(/\\(.)/g, '$1');
  return params;
}

export interface Listening {
  readonly url: string;
  readonly port: number;
  readonly requests: number;
  readonly paths: string[];
  close(): Promise<void>;
}

/** Starts an http.Server on 127.0.0.1:0 (optionally with a handler) and counts what it receives. */
export async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void, server: Server = createServer()): Promise<Listening> {
  let requests = 0;
  const paths: string[] = [];
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    requests++;
    paths.push(req.url ?? '');
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get requests() {
      return requests;
    },
    paths,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A raw HTTP/1.1 exchange over a socket to 127.0.0.1: sends exactly `bytes`, returns the whole answer. */
export function rawRequest(port: number, bytes: Buffer | string): Promise<{ status: number; head: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.setTimeout(5000, () => socket.destroy(new Error('raw request timed out')));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const [head = '', body = ''] = text.split(/\r\n\r\n(.*)/s);
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), head, body });
    });
    socket.end(bytes);
  });
}

/** Builds a raw request with `Connection: close` and the given header lines (sent verbatim). */
export function rawHttp(headerLines: readonly (string | Buffer)[], { method = 'GET', path = '/mcp', body = '' } = {}): Buffer {
  const parts: Buffer[] = [Buffer.from(`${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n`)];
  for (const line of headerLines) parts.push(Buffer.isBuffer(line) ? line : Buffer.from(line, 'latin1'), Buffer.from('\r\n'));
  if (body) parts.push(Buffer.from(`Content-Length: ${Buffer.byteLength(body)}\r\n`));
  parts.push(Buffer.from('\r\n'), Buffer.from(body));
  return Buffer.concat(parts);
}

/** One request the virtual internet was asked to deliver (after the SSRF guard let it through). */
export interface Delivery {
  readonly url: string;
  readonly address: string;
  readonly method: string;
  readonly headers: Headers;
  readonly body: string;
}

export type VirtualHandler = (request: TransportRequest, body: string) => Response | Promise<Response>;

/**
 * A {@link SafeFetchTransport} that never connects anywhere: the guarded fetch hands it a checked
 * hop and it answers from `routes` (keyed by origin + pathname, or origin + '*'), in-process. Every
 * hop it receives is recorded, so a test proves a blocked target was never delivered to. Honours
 * the request's abort signal (a route may hang).
 */
export function virtualInternet(routes: Record<string, VirtualHandler>): { transport: SafeFetchTransport; deliveries: Delivery[] } {
  const deliveries: Delivery[] = [];
  const transport: SafeFetchTransport = async (request) => {
    const body = request.body ? Buffer.from(request.body).toString('utf8') : '';
    deliveries.push({ url: request.url.href, address: request.address.address, method: request.method, headers: request.headers, body });
    const handler = routes[request.url.origin + request.url.pathname] ?? routes[`${request.url.origin}*`];
    if (!handler) return new Response('not found', { status: 404 });
    const answer = Promise.resolve(handler(request, body));
    return new Promise<Response>((resolve, reject) => {
      if (request.signal.aborted) return reject(request.signal.reason);
      request.signal.addEventListener('abort', () => reject(request.signal.reason), { once: true });
      answer.then(resolve, reject);
    });
  };
  return { transport, deliveries };
}

/** A public-looking address for virtual hosts. Never connected to: the virtual transport answers in-process. */
export const PUBLIC_ADDRESS = '93.184.215.14';

export const json = (value: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(value), { status, headers: { 'content-type': 'application/json', ...headers } });
