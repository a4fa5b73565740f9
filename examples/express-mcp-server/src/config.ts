import type { ExampleServerOptions } from './options.js';

/**
 * Reads the example's settings from environment variables (an application may; the packages never do):
 *
 * | variable | meaning | default |
 * | --- | --- | --- |
 * | `PORT` | port to listen on (0: any free port) | 3000 |
 * | `HOST` | interface | 127.0.0.1 |
 * | `AUTH_ISSUER` | the authorization server to trust | unset: a development AS starts in-process |
 * | `MCP_RESOURCE` | resource identifier | `http://<HOST>:<PORT>/mcp` |
 * | `MCP_ALLOWED_ORIGINS` | browser origins allowed to call (space or comma separated; others get 403) | loopback bind: any loopback origin; else the resource's |
 * | `MCP_SCOPES` | scopes every MCP request needs (space or comma separated) | `mcp:tools` |
 * | `MCP_ADMIN_SCOPE` | the extra scope of `admin_report` | `mcp:admin` |
 * | `AUTH_TOKEN_FORMAT` | `jwt` or `opaque` (introspection) | `jwt` |
 * | `AUTH_INTROSPECTION_CLIENT_ID`, `AUTH_INTROSPECTION_CLIENT_SECRET` | introspection credentials (opaque with `AUTH_ISSUER`) | — |
 * | `DEV_AS_INTERACTIONS` | in-process dev AS: `auto` (approve) or `browser` (sign-in and consent pages) | `browser` |
 * | `UPSTREAM_CLIENT_ID`, `UPSTREAM_CLIENT_SECRET` | this server's client for the token exchange of `upstream_whoami` (`client_secret_basic`); with `AUTH_ISSUER` the tool exists only when set | in-process dev AS: `example-mcp-server`, random secret |
 * | `UPSTREAM_PORT` | port of the upstream API on 127.0.0.1 (its audience is `http://127.0.0.1:<port>/api`) | 0 (any free port) |
 */
export function optionsFromEnv(env: NodeJS.ProcessEnv): ExampleServerOptions {
  const port = env['PORT'] === undefined || env['PORT'] === '' ? 3000 : Number(env['PORT']);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError(`PORT must be a port number, got ${JSON.stringify(env['PORT'])}`);
  const format = env['AUTH_TOKEN_FORMAT'] || 'jwt';
  if (format !== 'jwt' && format !== 'opaque') throw new TypeError(`AUTH_TOKEN_FORMAT must be jwt or opaque, got ${JSON.stringify(format)}`);
  const interactions = env['DEV_AS_INTERACTIONS'] || 'browser';
  if (interactions !== 'auto' && interactions !== 'browser') {
    throw new TypeError(`DEV_AS_INTERACTIONS must be auto or browser, got ${JSON.stringify(interactions)}`);
  }
  const scopes = env['MCP_SCOPES']?.split(/[\s,]+/).filter(Boolean);
  const origins = env['MCP_ALLOWED_ORIGINS']?.split(/[\s,]+/).filter(Boolean);
  const id = env['AUTH_INTROSPECTION_CLIENT_ID'];
  const secret = env['AUTH_INTROSPECTION_CLIENT_SECRET'];
  if ((id === undefined) !== (secret === undefined)) throw new TypeError('Set both AUTH_INTROSPECTION_CLIENT_ID and AUTH_INTROSPECTION_CLIENT_SECRET, or neither');
  const upstreamId = env['UPSTREAM_CLIENT_ID'] || undefined;
  const upstreamSecret = env['UPSTREAM_CLIENT_SECRET'] || undefined;
  if ((upstreamId === undefined) !== (upstreamSecret === undefined)) throw new TypeError('Set both UPSTREAM_CLIENT_ID and UPSTREAM_CLIENT_SECRET, or neither');
  const upstreamPort = env['UPSTREAM_PORT'] ? Number(env['UPSTREAM_PORT']) : undefined;
  if (upstreamPort !== undefined && (!Number.isInteger(upstreamPort) || upstreamPort < 0 || upstreamPort > 65535)) {
    throw new TypeError(`UPSTREAM_PORT must be a port number, got ${JSON.stringify(env['UPSTREAM_PORT'])}`);
  }
  return {
    port,
    ...(env['HOST'] && { host: env['HOST'] }),
    ...(env['AUTH_ISSUER'] && { issuer: env['AUTH_ISSUER'] }),
    ...(env['MCP_RESOURCE'] && { resource: env['MCP_RESOURCE'] }),
    ...(scopes?.length && { scopes }),
    ...(origins?.length && { allowedOrigins: origins }),
    ...(env['MCP_ADMIN_SCOPE'] && { adminScope: env['MCP_ADMIN_SCOPE'] }),
    tokenFormat: format,
    ...(id !== undefined && secret !== undefined && { introspectionClient: { clientId: id, clientSecret: secret } }),
    ...((upstreamId !== undefined || upstreamPort !== undefined) && {
      upstream: {
        ...(upstreamId !== undefined && upstreamSecret !== undefined && { client: { clientId: upstreamId, clientSecret: upstreamSecret } }),
        ...(upstreamPort !== undefined && { port: upstreamPort }),
      },
    }),
    devAuthorizationServer: { interactions },
  };
}
