import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from '@jest/globals';

/** Awaits a rejection and checks its class, status and code; returns the error for further checks. */
export async function rejection<E extends Error>(
  promise: Promise<unknown>,
  errorClass: abstract new (...args: never[]) => E,
  expected: { status?: number; code?: string | undefined } = {},
): Promise<E> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(errorClass);
  if ('status' in expected) expect((caught as { status: number }).status).toBe(expected.status);
  if ('code' in expected) expect((caught as { code: unknown }).code).toBe(expected.code);
  return caught as E;
}

export interface TinyServer {
  readonly url: string;
  readonly requests: number;
  close(): Promise<void>;
}

/** A tiny HTTP server on 127.0.0.1 for what a real AS will not do (answer 500, hang, lie). */
export async function startTinyServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<TinyServer> {
  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A URL on 127.0.0.1 where nothing listens (a server started and closed again). */
export async function closedPortUrl(): Promise<string> {
  const server = await startTinyServer((_req, res) => res.end());
  await server.close();
  return server.url;
}
