// `pnpm demo`'s client run (examples/mcp-client runDemo) against the example server in this process:
// the whole transcript happens, in order, and never shows a whole token.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startExampleServer, type ExampleServer } from '@portcullis/example-express-mcp-server';
import { runDemo } from '@portcullis/example-mcp-client';

let server: ExampleServer;
beforeAll(async () => {
  server = await startExampleServer({ port: 0, devAuthorizationServer: { interactions: 'auto' } });
});
afterAll(() => server.close());

describe('the demo transcript', () => {
  it('401 → discovery → registration → authorization → token → whoami → upstream_whoami (exchanged token) → admin_report → 403 → step-up → success → refresh', async () => {
    const lines: string[] = [];
    await runDemo(server.url, (line) => lines.push(line));
    const transcript = lines.join('\n');
    const order = [
      'POST /mcp initialize',
      '← 401',
      'GET /.well-known/oauth-protected-resource/mcp',
      'GET /.well-known/oauth-authorization-server',
      'POST /reg',
      'GET /auth response_type=code scope="mcp:tools offline_access"',
      'POST /token grant_type=authorization_code',
      'tools/call whoami',
      'tools/call upstream_whoami',
      '✓ upstream_whoami → the upstream API saw token #',
      `: aud=${server.upstream!.url} sub=demo-user act={"sub":"example-mcp-server"} client_id=example-mcp-server`,
      'your token JWT #',
      `aud=${server.url}`,
      'never reached it: the MCP server exchanged it for that one',
      'tools/call admin_report',
      '← 403 WWW-Authenticate: Bearer error="insufficient_scope"',
      'scope="mcp:tools mcp:admin offline_access"',
      '✓ admin_report',
      'POST /token grant_type=refresh_token',
      '✓ Demo complete.',
    ];
    let at = 0;
    for (const step of order) {
      const found = transcript.indexOf(step, at);
      expect({ step, found: found >= 0 }).toEqual({ step, found: true });
      at = found;
    }
    // Never a whole token: no JWT (header.payload.signature) and no Authorization header value.
    expect(transcript).not.toMatch(/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/);
    expect(transcript).not.toMatch(/Bearer [\w-]{12,}/);
  });
});
