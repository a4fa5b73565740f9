import { describe, expect, it } from '@jest/globals';
import type http from 'node:http';
import { answerFromMemory, type AuthInfo, type TokenVerifier } from '@portcullis/token-verification';
import { bearerAuth, requireScopes } from '../src/index.js';

// Its own file: bearerAuth records what requireScopes needs only once a requireScopes() exists in
// the module, so this test must start before any is created.
const RESOURCE = 'https://mcp.portcullis.test/mcp';
const METADATA = 'https://mcp.portcullis.test/.well-known/oauth-protected-resource/mcp';

const admitted = (token: string): AuthInfo => ({ token, clientId: 'app', scopes: ['mcp:tools'], claims: {}, resource: new URL(RESOURCE) });
const verifier: TokenVerifier = Object.assign(async (token: string) => admitted(token), { [answerFromMemory]: admitted });

function fakeRequest(): http.IncomingMessage {
  return { method: 'GET', url: '/mcp', headers: {}, rawHeaders: ['Authorization', 'Bearer t0k3n'] } as unknown as http.IncomingMessage;
}

/** Runs a middleware synchronously; resolves with what it passed to next(). */
function run(middleware: ReturnType<typeof requireScopes>, req: http.IncomingMessage): { called: boolean; error: unknown } {
  const out = { called: false, error: undefined as unknown };
  const res = { headersSent: false } as http.ServerResponse;
  middleware(req, res, (error?: unknown) => {
    out.called = true;
    out.error = error;
  });
  return out;
}

describe('bearerAuth records the grant for requireScopes only once one exists', () => {
  it('S-17: a request admitted before the first requireScopes() was created is refused by it (fails closed); later requests pass', () => {
    const mount = bearerAuth({ verifier, audience: RESOURCE, resourceMetadataUrl: METADATA });
    const early = fakeRequest();
    expect(run(mount, early)).toEqual({ called: true, error: undefined });

    const gate = requireScopes('mcp:tools');
    const refused = run(gate, early);
    expect(refused.called).toBe(true);
    expect(String(refused.error)).toMatch(/must run after bearerAuth/);

    const later = fakeRequest();
    expect(run(mount, later)).toEqual({ called: true, error: undefined });
    expect(run(gate, later)).toEqual({ called: true, error: undefined });
  });
});
