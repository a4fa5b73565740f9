import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostHeaderValidation } from '@modelcontextprotocol/sdk/server/middleware/hostHeaderValidation.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { bearerAuth } from '@portcullis/bearer-auth';
import { startDevAuthorizationServer, TOKEN_EXCHANGE_GRANT_TYPE, type DevAuthorizationServer } from '@portcullis/dev-authorization-server';
import { defineProtectedResource, isLoopbackHost, protectedResourceMetadata } from '@portcullis/protected-resource-metadata';
import { createIntrospectionVerifier, createJwtVerifier, type TokenVerifier } from '@portcullis/token-verification';
import { createTokenExchanger, upstreamFetch } from '@portcullis/upstream-tokens';
import cors from 'cors';
import express from 'express';
import helmet from 'helmet';
import type { ExampleServerOptions } from './options.js';
import { allowedOrigins, originValidation } from './origin-validation.js';
import { createMcpServer, type UpstreamTool } from './tools.js';
import { startUpstreamApi, UPSTREAM_SCOPE, type UpstreamApi } from './upstream-api.js';

/** A running example server. */
export interface ExampleServer {
  /** The MCP endpoint, e.g. `http://127.0.0.1:3000/mcp` (also the resource identifier unless configured). */
  readonly url: string;
  /** The resource identifier tokens must be issued for. */
  readonly resource: string;
  /** Where the RFC 9728 metadata is served (the `resource_metadata` of every challenge). */
  readonly metadataUrl: string;
  /** The trusted authorization server. */
  readonly issuer: string;
  /** The in-process development authorization server, when no issuer was configured. */
  readonly devAuthorizationServer: DevAuthorizationServer | undefined;
  /** Scopes every request needs, and the extra scope of `admin_report`. */
  readonly scopes: readonly string[];
  readonly adminScope: string;
  /**
   * The upstream API the `upstream_whoami` tool calls (its URL is its audience), and the client this
   * server exchanges tokens with; `undefined` when the tool is off (external AS without `upstream.client`).
   */
  readonly upstream: { readonly url: string; readonly clientId: string } | undefined;
  close(): Promise<void>;
}

/**
 * Starts the example: Host check (loopback binds) → Origin check → helmet → cors → protected-resource metadata → `bearerAuth` on `/mcp` → the MCP
 * SDK's Streamable HTTP transport (stateless: a fresh `McpServer` per request, so no session can stand
 * in for authentication, B-08).
 */
export async function startExampleServer(options: ExampleServerOptions = {}): Promise<ExampleServer> {
  const host = options.host ?? '127.0.0.1';
  const scopes = options.scopes ?? ['mcp:tools'];
  const adminScope = options.adminScope ?? 'mcp:admin';
  const tokenFormat = options.tokenFormat ?? 'jwt';

  // Listen first, so that with port 0 the resource identifier carries the real port.
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => void res.writeHead(503).end();
  const http = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 3000, host, () => resolve());
  });
  const { port } = http.address() as AddressInfo;
  const origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const resource = options.resource ?? `${origin}/mcp`;

  let dev: DevAuthorizationServer | undefined;
  let upstreamApi: UpstreamApi | undefined;
  try {
    const isAllowedOrigin = allowedOrigins(options.allowedOrigins, isLoopbackHost(host), resource);
    let introspectionClient = options.introspectionClient;
    let upstreamClient = options.upstream?.client;
    if (options.issuer === undefined) {
      // This server's own confidential client at the in-process AS: it introspects (opaque tokens) and
      // exchanges tokens for the upstream API with it.
      const ownClient = { clientId: 'example-mcp-server', clientSecret: randomBytes(24).toString('base64url') };
      if (tokenFormat === 'opaque') introspectionClient ??= ownClient;
      upstreamClient ??= ownClient;
    }
    if (upstreamClient) {
      upstreamApi = await startUpstreamApi({
        ...(options.upstream?.port !== undefined && { port: options.upstream.port }),
        ...(options.upstream?.onRequest && { onRequest: options.upstream.onRequest }),
      });
    }

    if (options.issuer === undefined) {
      // One pre-registered confidential client per client id (the introspection and exchange clients may be one).
      const registered = new Map<string, { clientSecret: string; grantTypes: Set<string> }>();
      for (const [client, grantTypes] of [
        [introspectionClient, []],
        [upstreamClient, [TOKEN_EXCHANGE_GRANT_TYPE]],
      ] as const) {
        if (!client) continue;
        const entry = registered.get(client.clientId) ?? { clientSecret: client.clientSecret, grantTypes: new Set<string>() };
        if (entry.clientSecret !== client.clientSecret) throw new TypeError(`two different secrets for client ${client.clientId}`);
        grantTypes.forEach((grantType) => entry.grantTypes.add(grantType));
        registered.set(client.clientId, entry);
      }
      dev = await startDevAuthorizationServer({
        ...options.devAuthorizationServer,
        resources: [
          { uri: resource, scopes: [...new Set([...scopes, adminScope])], format: tokenFormat },
          ...(upstreamApi ? [{ uri: upstreamApi.url, scopes: [UPSTREAM_SCOPE], format: 'jwt' as const }] : []),
        ],
        clients: [
          ...(options.devAuthorizationServer?.clients ?? []),
          ...[...registered].map(([clientId, { clientSecret, grantTypes }]) => ({
            client_id: clientId,
            client_secret: clientSecret,
            grant_types: [...grantTypes],
            response_types: [],
            redirect_uris: [],
            token_endpoint_auth_method: 'client_secret_basic' as const,
          })),
        ],
        // Only this server may exchange, and only tokens issued for it (its callers' tokens).
        ...(upstreamClient && { tokenExchange: { clients: [upstreamClient.clientId], subjectResources: [resource] } }),
      });
    }
    const issuer = options.issuer ?? dev!.issuer;

    let upstream: UpstreamTool | undefined;
    if (upstreamApi && upstreamClient) {
      upstreamApi.trust(issuer);
      const exchanger = createTokenExchanger({
        issuer,
        client: { method: 'client_secret_basic', ...upstreamClient },
        // Plain http only for an AS on this machine (the in-process dev AS).
        allowInsecureHttp: isLoopbackHost(new URL(issuer).hostname),
      });
      const target = { audience: upstreamApi.url, resource: upstreamApi.url, scope: UPSTREAM_SCOPE };
      upstream = { url: upstreamApi.url, fetchFor: (auth) => upstreamFetch(() => exchanger.exchange(auth, target)) };
    }

    let verifier: TokenVerifier;
    if (tokenFormat === 'opaque') {
      if (!introspectionClient) {
        throw new TypeError('tokenFormat "opaque" with an external issuer needs introspectionClient (AUTH_INTROSPECTION_CLIENT_ID and _SECRET)');
      }
      verifier = createIntrospectionVerifier({ issuer, audience: resource, client: { method: 'client_secret_basic', ...introspectionClient } });
    } else {
      verifier = createJwtVerifier({ issuer, audience: resource, requireRfc9068: true });
    }

    const mcp = defineProtectedResource({
      resource,
      authorizationServers: [issuer],
      scopesSupported: scopes,
      resourceName: 'Portcullis example MCP server',
    });
    const stats = { startedAt: new Date(), requests: 0 };

    const app = express();
    app.disable('x-powered-by');
    // DNS rebinding (S-28; MCP security best practices, "Local MCP server compromise"): a server on a
    // loopback address answers only requests addressed to a loopback name or to its resource's host
    // (a reverse proxy in front), as the MCP SDK's createMcpExpressApp does; anything else gets 403.
    if (isLoopbackHost(host)) app.use(hostHeaderValidation([...new Set(['localhost', '127.0.0.1', '[::1]', new URL(resource).hostname])]));
    // And a browser page may call only from an allowed origin (S-28): anything else gets 403 here.
    app.use(originValidation(isAllowedOrigin));
    app.use(helmet());
    // Only allowed origins get this far: each is answered with its own origin, and browsers must be
    // able to read the challenge.
    app.use(cors({ origin: true, exposedHeaders: ['WWW-Authenticate', 'Mcp-Session-Id'], maxAge: 600 }));
    app.use(protectedResourceMetadata(mcp));
    app.use(express.json({ limit: '4mb' }));
    const auth = bearerAuth({ verifier, resource: mcp, requiredScopes: scopes, operationScopes: { 'tools/call': { admin_report: [adminScope] } } });
    app.post('/mcp', auth, async (req, res, next) => {
      stats.requests++;
      const server = createMcpServer(stats, upstream);
      const transport = new StreamableHTTPServerTransport({ enableJsonResponse: true });
      res.on('close', () => {
        void transport.close();
        void server.close();
      });
      try {
        await server.connect(transport);
        await transport.handleRequest(req, res, req.body);
      } catch (error) {
        next(error);
      }
    });
    // Stateless: no server-to-client stream and no session to delete (Streamable HTTP lets servers answer 405).
    app.all('/mcp', auth, (_req, res) => {
      res.set('allow', 'POST').status(405).json({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed: this server is stateless' }, id: null });
    });
    handler = app;

    return {
      url: `${origin}/mcp`,
      resource: mcp.resource,
      metadataUrl: mcp.metadataUrl,
      issuer,
      devAuthorizationServer: dev,
      scopes,
      adminScope,
      upstream: upstream && upstreamClient ? { url: upstream.url, clientId: upstreamClient.clientId } : undefined,
      close: async () => {
        await new Promise<void>((resolve, reject) => {
          http.closeAllConnections();
          http.close((error) => (error ? reject(error) : resolve()));
        });
        await upstreamApi?.close();
        await dev?.close();
      },
    };
  } catch (error) {
    http.close();
    await upstreamApi?.close();
    await dev?.close();
    throw error;
  }
}
