import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { transformFile } from '@swc/core';
import { startTestAuthorizationServer, type DevAuthorizationServer } from '@portcullis/test-fixtures';
import { createEncryptedFileStore, keyFileSource } from '../src/encrypted-file-store.js';
import { createHeadlessAuthorizationHandler } from '../src/headless-authorization.js';
import { silentLogger } from '../src/logger.js';
import { createOAuthClient } from '../src/oauth-client.js';
import { createFileLock } from '../src/refresh-lock.js';
import { asStoredTokens } from '../src/token-store.js';
import { withOAuth } from '../src/with-oauth.js';
import { startResourceServer, type TestResourceServer } from './helpers/resource-server.js';

const run = promisify(execFile);
const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const redirectUri = 'http://127.0.0.1:65000/callback';
const toolsList = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' };

// The child runs the package compiled from src by swc into a folder under the package's own
// node_modules (so `oauth4webapi` and `jose` resolve), and calls it exactly as the parent does.
const CHILD = `
import { createEncryptedFileStore, keyFileSource, createFileLock, createOAuthClient, createHeadlessAuthorizationHandler, silentLogger, withOAuth } from './index.js';
const [storeDir, lockDir, serverUrl, redirectUri, count] = process.argv.slice(2);
const store = createEncryptedFileStore({ directory: storeDir, key: keyFileSource(storeDir + '/.key', silentLogger), logger: silentLogger });
const client = createOAuthClient({ redirectUri, allowInsecureLoopback: true, store, lock: createFileLock({ directory: lockDir }), authorizationHandler: createHeadlessAuthorizationHandler() });
const fetch = withOAuth(globalThis.fetch, client);
const body = '{"jsonrpc":"2.0","id":1,"method":"tools/list"}';
const statuses = await Promise.all(Array.from({ length: Number(count) }, () => fetch(serverUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then((r) => r.status)));
process.stdout.write(JSON.stringify(statuses));
`;

let as: DevAuthorizationServer;
let rs: TestResourceServer;
let buildDir: string;
let dataDir: string;

beforeAll(async () => {
  rs = await startResourceServer({ scopesSupported: ['mcp:tools'] });
  as = await startTestAuthorizationServer({ resources: [{ uri: rs.url, scopes: ['mcp:tools'] }] });
  rs.issuer = as.issuer;
  await mkdir(join(packageDir, 'node_modules', '.cache'), { recursive: true });
  buildDir = await mkdtemp(join(packageDir, 'node_modules', '.cache', 'multi-process-'));
  for (const file of await readdir(join(packageDir, 'src'))) {
    const { code } = await transformFile(join(packageDir, 'src', file), {
      jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
      module: { type: 'es6' },
    });
    await writeFile(join(buildDir, file.replace(/\.ts$/, '.js')), code);
  }
  await writeFile(join(buildDir, 'child.mjs'), CHILD);
  dataDir = await mkdtemp(join(tmpdir(), 'portcullis-multi-process-'));
});
afterAll(async () => {
  await rm(buildDir, { recursive: true, force: true });
  await rm(dataDir, { recursive: true, force: true });
  await rs.close();
  await as.close();
});

describe('two processes sharing one encrypted store and a file lock', () => {
  it('expired access token, 2 × 25 concurrent requests → exactly 1 refresh at the AS, all succeed, newest refresh token stored', async () => {
    const storeDir = join(dataDir, 'store');
    const lockDir = join(dataDir, 'locks');
    const store = createEncryptedFileStore({ directory: storeDir, key: keyFileSource(join(storeDir, '.key'), silentLogger), logger: silentLogger });
    const client = createOAuthClient({ redirectUri, allowInsecureLoopback: true, store, lock: createFileLock({ directory: lockDir }), authorizationHandler: createHeadlessAuthorizationHandler() });
    expect((await withOAuth(globalThis.fetch, client)(rs.url, toolsList)).status).toBe(200);
    const ctx = await client.context(rs.url);
    const initial = asStoredTokens(await store.get(ctx.tokensKey))!;
    await store.set(ctx.tokensKey, { ...initial, expiresAt: Date.now() - 1000 });

    const before = as.requestCount('/token');
    const children = await Promise.all(
      [0, 1].map(() => run(process.execPath, [join(buildDir, 'child.mjs'), storeDir, lockDir, rs.url, redirectUri, '25'], { cwd: buildDir })),
    );
    const statuses = children.flatMap(({ stdout }) => JSON.parse(stdout) as number[]);
    expect(statuses).toEqual(Array(50).fill(200));
    expect(as.requestCount('/token') - before).toBe(1);
    const stored = asStoredTokens(await store.get(ctx.tokensKey))!;
    expect(stored.refreshToken).not.toBe(initial.refreshToken);
    expect((await as.provider.RefreshToken.find(stored.refreshToken!))?.consumed).toBeFalsy();
    expect((await as.provider.RefreshToken.find(initial.refreshToken!))?.consumed).toBeTruthy();
  });
});
