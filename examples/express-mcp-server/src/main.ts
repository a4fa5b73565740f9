#!/usr/bin/env node
// `npm run example:server`: the example MCP server, configured from the environment (see config.ts).
// oidc-provider (behind the development authorization server) warns at import that it prefers
// Node 22; this project supports Node 20, so that one warning is left out while it loads.
const warn = console.warn;
console.warn = (...args: unknown[]) => {
  if (typeof args[0] !== 'string' || !args[0].includes('oidc-provider WARNING: Unsupported runtime')) warn(...args);
};
let loaded: [typeof import('./config.js'), typeof import('./server.js')];
try {
  loaded = await Promise.all([import('./config.js'), import('./server.js')]);
} finally {
  console.warn = warn;
}
const [{ optionsFromEnv }, { startExampleServer }] = loaded;

const server = await startExampleServer(optionsFromEnv(process.env)).catch((error: unknown) => {
  console.error(`Could not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});

console.log(`MCP server:                   ${server.url}`);
// Tokens are issued for the resource identifier (RFC 8707): a client that reaches the server by another
// name finds metadata for a resource it did not ask for, and stops (resource_mismatch).
if (server.resource !== server.url) console.log(`Resource identifier:          ${server.resource} (clients must reach the server by this name)`);
console.log(`Protected resource metadata:  ${server.metadataUrl}`);
console.log(
  `Authorization server:         ${server.issuer}${server.devAuthorizationServer ? ' (development server, in this process; not for production)' : ''}`,
);
console.log(`Scopes:                       every request needs ${server.scopes.join(' ')}; admin_report also needs ${server.adminScope}`);
console.log(
  server.upstream
    ? `Upstream API:                 ${server.upstream.url} (tool upstream_whoami: token exchange as client ${server.upstream.clientId})`
    : 'Upstream API:                 off (with AUTH_ISSUER, set UPSTREAM_CLIENT_ID and UPSTREAM_CLIENT_SECRET for upstream_whoami)',
);
console.log('Stop with Ctrl-C (SIGINT) or SIGTERM.');

let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  server.close().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(`Error while stopping: ${String(error)}`);
      process.exit(1);
    },
  );
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
// Started by a parent with an IPC channel (as `npm run demo` does): stop when the parent goes away, even if it was killed.
if (process.send) process.on('disconnect', stop);
