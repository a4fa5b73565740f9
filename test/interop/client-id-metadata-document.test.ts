// Interop 6: our client registers through a Client ID Metadata Document: its client_id is an https
// URL, served here by a local https server (self-signed certificate from `selfsigned`), which the
// development authorization server (oidc-provider's clientIdMetadataDocument feature) fetches.
import { request as httpsRequest, createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startExampleServer, type ExampleServer } from '@portcullis/example-express-mcp-server';
import { generate } from 'selfsigned';
import { connectOurClient, REDIRECT_URI, toolJson } from './support.js';

let documents: Server;
let server: ExampleServer;
let clientId: string;
let documentFetches = 0;

/**
 * The AS's outgoing fetch, trusting the local certificate (and nothing else). oidc-provider refuses to
 * fetch special-use addresses such as loopback with its own fetch; this is how a test reaches 127.0.0.1.
 */
function fetchTrusting(ca: string): typeof fetch {
  return (input, init = {}) =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      if (url.protocol !== 'https:' || url.hostname !== 'localhost') return reject(new Error(`refusing to fetch ${url.href} in this test`));
      const req = httpsRequest(url, { method: init.method ?? 'GET', headers: Object.fromEntries(new Headers(init.headers)), ca, lookup: (_h, _o, cb) => cb(null, [{ address: '127.0.0.1', family: 4 }]) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const headers = new Headers();
          for (const [name, value] of Object.entries(res.headers)) if (typeof value === 'string') headers.set(name, value);
          resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 500, headers }));
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
}

beforeAll(async () => {
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }] },
    ],
  });
  documents = createServer({ key: pems.private, cert: pems.cert }, (req, res) => {
    if (req.url !== '/oauth/client.json') return void res.writeHead(404).end();
    documentFetches++;
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=60' }).end(
      JSON.stringify({
        client_id: clientId,
        client_name: 'Portcullis CIMD interop client',
        redirect_uris: [REDIRECT_URI],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
      }),
    );
  });
  await new Promise<void>((resolve) => documents.listen(0, '127.0.0.1', resolve));
  clientId = `https://localhost:${(documents.address() as AddressInfo).port}/oauth/client.json`;
  server = await startExampleServer({
    port: 0,
    devAuthorizationServer: { interactions: 'auto', clientIdMetadataDocuments: { fetch: fetchTrusting(pems.cert) } },
  });
});
afterAll(async () => {
  await server.close();
  documents.closeAllConnections();
  await new Promise((resolve) => documents.close(resolve));
});

describe('interop 6: Client ID Metadata Document', () => {
  it('C-09 C-10 the AS advertises CIMD, the client uses its document URL as client_id without registering, and calls tools', async () => {
    const metadata = (await (await fetch(`${server.issuer}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    expect(metadata['client_id_metadata_document_supported']).toBe(true);

    const { mcp, oauth } = await connectOurClient(server.url, { clientMetadataUrl: clientId });
    try {
      const ctx = await oauth.context(server.url);
      expect(ctx.client).toMatchObject({ source: 'cimd', clientId });
      expect(server.devAuthorizationServer!.requestCount('/reg')).toBe(0);
      expect(documentFetches).toBeGreaterThanOrEqual(1);
      expect(toolJson(await mcp.callTool({ name: 'whoami', arguments: {} }))).toEqual({ subject: 'demo-user', clientId, scopes: ['mcp:tools'] });
      expect((await mcp.callTool({ name: 'admin_report', arguments: {} })).isError).toBeFalsy();
    } finally {
      await mcp.close();
    }
  });
});
