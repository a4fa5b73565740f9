import { expect } from '@jest/globals';
import { startLocalServer } from '@portcullis/test-fixtures';

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

/** A URL on 127.0.0.1 where nothing listens (a server started and closed again). */
export async function closedPortUrl(): Promise<string> {
  const server = await startLocalServer((_req, res) => res.end());
  await server.close();
  return server.url;
}
