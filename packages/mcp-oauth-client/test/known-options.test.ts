import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPair } from 'jose';
import type { AuthStrategy } from '../src/auth-strategy.js';
import { createEncryptedFileStore, keyFileSource } from '../src/encrypted-file-store.js';
import { enterpriseManagedAuthorization, type EnterpriseManagedAuthorizationOptions } from '../src/enterprise-managed-authorization.js';
import { McpOAuthError } from '../src/errors.js';
import { createHeadlessAuthorizationHandler, type HeadlessAuthorizationOptions } from '../src/headless-authorization.js';
import { assertKnownOptions, closestOption } from '../src/known-options.js';
import { silentLogger } from '../src/logger.js';
import { createLoopbackAuthorizationHandler, startLoopbackRedirectServer, type LoopbackAuthorizationOptions, type LoopbackRedirectOptions } from '../src/loopback-redirect.js';
import { mcpTransportOAuth } from '../src/mcp-sdk.js';
import { createOAuthClient, type OAuthClientOptions } from '../src/oauth-client.js';
import { clientCredentialsStrategy, oauthStrategy } from '../src/oauth-strategy.js';
import { createFileLock, createInProcessLock, type FileLockOptions } from '../src/refresh-lock.js';
import { createSafeFetch, nodeTransport, type SafeFetchOptions } from '../src/safe-fetch.js';
import { staticToken } from '../src/static-token.js';
import { createTokenLifecycle, type TokenLifecycleOptions } from '../src/token-lifecycle.js';
import { createMemoryStore } from '../src/token-store.js';
import { withOAuth } from '../src/with-oauth.js';

// Option names are checked at construction: a typo is an `invalid_options` naming the factory and the
// name, with the closest known name when one is close, never the value (options hold secrets).

const REDIRECT_URI = 'http://127.0.0.1:8765/callback';
const AS = 'https://as.example.com';

/** The McpOAuthError `run` throws; fails the test when it throws nothing or something else. */
function errorOf(run: () => unknown): McpOAuthError {
  try {
    run();
  } catch (error) {
    if (error instanceof McpOAuthError) return error;
    throw error;
  }
  throw new Error('expected an McpOAuthError, nothing was thrown');
}

/** Asserts `invalid_options` whose message contains every fragment. */
function expectRefused(error: McpOAuthError, ...fragments: string[]): void {
  expect(error.code).toBe('invalid_options');
  for (const fragment of fragments) expect(error.message).toContain(fragment);
}

/** JS callers (and spread objects) reach the factories with names the types would refuse. */
const loose = <T>(value: Record<string, unknown>) => value as T;

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'known-options-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('closestOption', () => {
  const known = ['redirectUri', 'maxStepUps', 'maxUnauthorizedRetries', 'allowInsecureLoopback', 'clientMetadataUrl', 'clientMetadata', 'clientMetadataPrivateKey', 'dpopKeyPair', 'key', 'kid'];
  it.each([
    ['redirectUrl', 'redirectUri'], // one edit
    ['redirect_uri', 'redirectUri'], // snake_case
    ['RedirectURI', 'redirectUri'], // another case
    ['redirect-uri', 'redirectUri'], // kebab-case
    ['maxStepUp', 'maxStepUps'],
    ['maxSetpUps', 'maxStepUps'], // a transposition is one edit
    ['allowInsecureHttp', 'allowInsecureLoopback'], // the only name sharing its first two words
    ['dpopKey', 'dpopKeyPair'],
    ['keys', 'key'],
    ['maxRetries', undefined], // shares one word with two names: no guess
    ['clientMetadataJwks', undefined], // shares two words with three names: no guess
    ['scope', undefined],
    ['kud', 'kid'],
    ['kyd', 'kid'], // names of five characters or fewer: one edit at most (`kyd` is two from `key`)
    ['xey', 'key'],
    ['xay', undefined],
  ])('%s → %s', (key, expected) => {
    expect(closestOption(key, known)).toBe(expected);
  });

  it('accepts own known names only: inherited and symbol keys are not options, Object.prototype names are not known', () => {
    const options = Object.assign(Object.create({ inherited: true }) as object, { a: 1, [Symbol('s')]: 2 });
    expect(() => assertKnownOptions(options, { a: true }, 'test')).not.toThrow();
    expectRefused(errorOf(() => assertKnownOptions({ toString: 1 }, { a: true }, 'test options')), '"toString"', 'in test options');
  });

  it('names every unknown key, and lists the known ones when there is no close one', () => {
    const error = errorOf(() => assertKnownOptions({ a: 1, bee: 2, zzz: 3 }, { a: true, be: true }, 'test options'));
    expectRefused(error, 'Unknown options "bee" (did you mean "be"?), "zzz" in test options', 'known: a, be');
  });
});

describe('createOAuthClient', () => {
  it('C-40 refuses redirectUrl, naming the factory and suggesting redirectUri', () => {
    const error = errorOf(() => createOAuthClient(loose({ redirectUrl: REDIRECT_URI })));
    expectRefused(error, 'Unknown option "redirectUrl" (did you mean "redirectUri"?) in createOAuthClient options');
  });

  it.each([
    ['redirect_uri', 'redirectUri'],
    ['RedirectURI', 'redirectUri'],
  ])('C-40 refuses %s with a hint for %s', (key, hint) => {
    expectRefused(errorOf(() => createOAuthClient(loose({ redirectUri: REDIRECT_URI, [key]: REDIRECT_URI }))), `"${key}" (did you mean "${hint}"?)`);
  });

  it('C-44 refuses allowInsecureHttp (the name used by token-verification), suggesting allowInsecureLoopback', () => {
    expectRefused(errorOf(() => createOAuthClient(loose({ redirectUri: REDIRECT_URI, allowInsecureHttp: true }))), '"allowInsecureHttp" (did you mean "allowInsecureLoopback"?)');
  });

  it('C-24 refuses maxStepUp, suggesting maxStepUps', () => {
    expectRefused(errorOf(() => createOAuthClient(loose({ redirectUri: REDIRECT_URI, maxStepUp: 1 }))), '"maxStepUp" (did you mean "maxStepUps"?)');
  });

  it('refuses an unknown name even when its value is undefined, and never quotes a value', () => {
    expectRefused(errorOf(() => createOAuthClient(loose({ redirectUri: REDIRECT_URI, scopes: undefined }))), '"scopes"');
    const error = errorOf(() => createOAuthClient(loose({ redirectUri: REDIRECT_URI, clientSecret: 'S3cr3t-never-shown' })));
    expectRefused(error, '"clientSecret"');
    expect(error.message).not.toContain('S3cr3t');
  });

  it('C-14 refuses an unknown name in a preRegistered entry (and its privateKey), never quoting the secret', async () => {
    const secret = errorOf(() => createOAuthClient(loose({ redirectUri: REDIRECT_URI, preRegistered: [{ clientId: 'app', issuer: AS }, { clientId: 'b', client_secret: 'S3cr3t-never-shown', issuer: AS }] })));
    expectRefused(secret, '"client_secret" (did you mean "clientSecret"?) in createOAuthClient preRegistered[1]');
    expect(secret.message).not.toContain('S3cr3t');
    const { privateKey } = await generateKeyPair('ES256');
    const key = errorOf(() => createOAuthClient(loose({ redirectUri: REDIRECT_URI, preRegistered: [{ clientId: 'app', issuer: AS, privateKey: { key: privateKey, keyId: 'k1' } }] })));
    expectRefused(key, '"keyId" in createOAuthClient preRegistered[0].privateKey; known: key, kid');
    const cimd = errorOf(() => createOAuthClient(loose({ redirectUri: REDIRECT_URI, clientMetadataPrivateKey: { key: privateKey, alg: 'ES256' } })));
    expectRefused(cimd, '"alg" in createOAuthClient clientMetadataPrivateKey');
  });

  it('checks grant per its type: assertion belongs to jwt_bearer only, and an unknown type is refused', () => {
    const preRegistered = [{ clientId: 'svc' }];
    expectRefused(
      errorOf(() => createOAuthClient(loose({ preRegistered, grant: { type: 'client_credentials', assertion: async () => 'jwt' } }))),
      '"assertion" in createOAuthClient grant (client_credentials)',
    );
    expectRefused(errorOf(() => createOAuthClient(loose({ preRegistered, grant: { type: 'jwt_bearer', asertion: async () => 'jwt' } }))), '"asertion" (did you mean "assertion"?)');
    expectRefused(errorOf(() => createOAuthClient(loose({ preRegistered, grant: { type: 'password' } }))), 'grant.type must be one of authorization_code, client_credentials, jwt_bearer');
    expect(() => createOAuthClient({ preRegistered, grant: { type: 'jwt_bearer', assertion: async () => 'jwt' } })).not.toThrow();
  });

  it('accepts every documented option', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const options = {
      grant: { type: 'authorization_code' },
      redirectUri: REDIRECT_URI,
      authorizationHandler: async () => REDIRECT_URI,
      preRegistered: [{ clientId: 'app', clientSecret: 's', privateKey: { key: privateKey, kid: 'k1' }, issuer: AS, tokenEndpointAuthMethod: 'client_secret_basic' }],
      clientMetadataUrl: 'https://app.example.com/client.json',
      clientMetadataPrivateKey: { key: privateKey, kid: 'k2' },
      // RFC 7591 metadata is extensible: its fields are not checked.
      clientMetadata: { client_name: 'app', redirect_uris: [REDIRECT_URI], software_id: 'x' },
      store: createMemoryStore(),
      lock: createInProcessLock(),
      account: 'alice',
      allowInsecureLoopback: true,
      lookup: async () => [{ address: '127.0.0.1', family: 4 }],
      oauthFetch: globalThis.fetch,
      maxStepUps: 1,
      maxUnauthorizedRetries: 1,
      refreshSkewMs: 1,
      requestOfflineAccess: false,
      protocolVersion: '2025-11-25',
      selectAuthorizationServer: (servers) => servers[0]!,
      dpopKeyPair: await generateKeyPair('ES256'),
      pendingTtlMs: 1,
      logger: silentLogger,
      now: Date.now,
    } satisfies Required<OAuthClientOptions>;
    expect(() => createOAuthClient(options)).not.toThrow();
  });
});

describe('the factories over OAuthClientOptions', () => {
  it('oauthStrategy(options) names oauthStrategy; a client is not checked as options', () => {
    expectRefused(errorOf(() => oauthStrategy(loose({ redirectUrl: REDIRECT_URI }))), '"redirectUrl" (did you mean "redirectUri"?) in oauthStrategy options');
    expect(() => oauthStrategy(createOAuthClient({ redirectUri: REDIRECT_URI }))).not.toThrow();
  });

  it('withOAuth names withOAuth for client options and for its own; a client or a strategy is not checked as options', () => {
    expectRefused(errorOf(() => withOAuth(globalThis.fetch, loose<OAuthClientOptions>({ redirectUrl: REDIRECT_URI }))), '"redirectUrl" (did you mean "redirectUri"?) in withOAuth options');
    const client = createOAuthClient({ redirectUri: REDIRECT_URI });
    expectRefused(errorOf(() => withOAuth(globalThis.fetch, client, loose({ operation: () => 'op' }))), '"operation" (did you mean "operationOf"?) in withOAuth options (its third argument)');
    expect(() => withOAuth(globalThis.fetch, client, { operationOf: () => 'op' })).not.toThrow();
    const strategy: AuthStrategy<undefined> = { headers: () => ({}), onChallenge: () => ({ action: 'fail' }), maxRetries: 0 };
    expect(() => withOAuth(globalThis.fetch, strategy)).not.toThrow();
    expect(() => withOAuth(globalThis.fetch, oauthStrategy(client))).not.toThrow();
  });

  it('mcpTransportOAuth names mcpTransportOAuth for client options and for its own; a client or a strategy is not checked as options', () => {
    expectRefused(errorOf(() => mcpTransportOAuth(loose<OAuthClientOptions>({ redirectUrl: REDIRECT_URI }))), '"redirectUrl" (did you mean "redirectUri"?) in mcpTransportOAuth options');
    const client = createOAuthClient({ redirectUri: REDIRECT_URI });
    expectRefused(errorOf(() => mcpTransportOAuth(client, loose({ fetsh: globalThis.fetch }))), '"fetsh" (did you mean "fetch"?) in mcpTransportOAuth options (its second argument)');
    expect(() => mcpTransportOAuth(client, { fetch: globalThis.fetch, operationOf: () => 'op' })).not.toThrow();
    expect(() => mcpTransportOAuth(staticToken('t'), { fetch: globalThis.fetch, operationOf: () => 'op' })).not.toThrow();
  });

  it('X-01 clientCredentialsStrategy refuses grant (it sets the grant) and unknown names in preRegistered', () => {
    const preRegistered = [{ clientId: 'svc', clientSecret: 's', issuer: AS }] as const;
    expectRefused(errorOf(() => clientCredentialsStrategy(loose({ preRegistered, grant: { type: 'client_credentials' } }))), '"grant" in clientCredentialsStrategy options');
    expectRefused(errorOf(() => clientCredentialsStrategy(loose({ preRegistered: [{ clientID: 'svc' }] }))), '"clientID" (did you mean "clientId"?) in clientCredentialsStrategy preRegistered[0]');
    expect(() => clientCredentialsStrategy({ preRegistered, maxUnauthorizedRetries: 1 })).not.toThrow();
  });
});

describe('the other factories', () => {
  it('createEncryptedFileStore refuses an unknown name; accepts every documented one', () => {
    expectRefused(errorOf(() => createEncryptedFileStore(loose({ directroy: directory }))), '"directroy" (did you mean "directory"?) in createEncryptedFileStore options');
    expect(() => createEncryptedFileStore({ directory, key: keyFileSource(join(directory, '.key'), silentLogger), logger: silentLogger })).not.toThrow();
  });

  it('createLoopbackAuthorizationHandler refuses an unknown name, also in openBrowserOptions; accepts every documented one', () => {
    expectRefused(errorOf(() => createLoopbackAuthorizationHandler(loose({ timeout: 1000 }))), '"timeout" (did you mean "timeoutMs"?) in createLoopbackAuthorizationHandler options');
    expectRefused(
      errorOf(() => createLoopbackAuthorizationHandler(loose({ openBrowserOptions: { platfrom: 'linux' } }))),
      '"platfrom" (did you mean "platform"?) in createLoopbackAuthorizationHandler openBrowserOptions',
    );
    const options = {
      mode: 'print',
      logger: silentLogger,
      timeoutMs: 1000,
      openBrowserOptions: { platform: 'linux', spawn: () => ({ unref: () => undefined, on: () => undefined }) },
    } satisfies Required<LoopbackAuthorizationOptions>;
    expect(() => createLoopbackAuthorizationHandler(options)).not.toThrow();
  });

  it('startLoopbackRedirectServer refuses an unknown name before listening; accepts every documented one', async () => {
    await expect(startLoopbackRedirectServer(loose({ state: 'abc' }))).rejects.toThrow(
      expect.objectContaining({ code: 'invalid_options', message: expect.stringContaining('"state" in startLoopbackRedirectServer options') }),
    );
    await expect(startLoopbackRedirectServer(loose({ expected_state: 'abc' }))).rejects.toThrow(expect.objectContaining({ message: expect.stringContaining('(did you mean "expectedState"?)') }));
    const server = await startLoopbackRedirectServer({ port: 0, path: '/cb', timeoutMs: 1000, expectedState: 'abc' } satisfies Required<LoopbackRedirectOptions>);
    await server.close();
  });

  it('createHeadlessAuthorizationHandler refuses an unknown name; accepts every documented one', () => {
    expectRefused(errorOf(() => createHeadlessAuthorizationHandler(loose({ maxHop: 3 }))), '"maxHop" (did you mean "maxHops"?) in createHeadlessAuthorizationHandler options');
    expect(() => createHeadlessAuthorizationHandler({ fetch: globalThis.fetch, maxHops: 3 } satisfies Required<HeadlessAuthorizationOptions>)).not.toThrow();
  });

  it('createFileLock refuses an unknown name; accepts every documented one', () => {
    expectRefused(errorOf(() => createFileLock(loose({ directory, staleMS: 10 }))), '"staleMS" (did you mean "staleMs"?) in createFileLock options');
    expect(() => createFileLock({ directory, timeoutMs: 10, staleMs: 10, retryMs: 1 } satisfies Required<FileLockOptions>)).not.toThrow();
  });

  it('C-44 createSafeFetch refuses allowInsecureHttp, suggesting allowInsecureLoopback; accepts every documented name', () => {
    expectRefused(errorOf(() => createSafeFetch(loose({ allowInsecureHttp: true }))), '"allowInsecureHttp" (did you mean "allowInsecureLoopback"?) in createSafeFetch options');
    expectRefused(errorOf(() => createSafeFetch(loose({ max_redirects: 1 }))), '"max_redirects" (did you mean "maxRedirects"?)');
    const options = {
      allowInsecureLoopback: true,
      lookup: async () => [{ address: '127.0.0.1', family: 4 }],
      transport: nodeTransport,
      maxRedirects: 1,
      maxResponseBytes: 1024,
      timeoutMs: 1000,
    } satisfies Required<SafeFetchOptions>;
    expect(() => createSafeFetch(options)).not.toThrow();
  });

  it('X-07 enterpriseManagedAuthorization refuses an unknown name, also in idpClient; accepts every documented one', () => {
    const base = { idpTokenEndpoint: 'https://idp.example.com/token', idpClient: { clientId: 'app' }, subjectToken: () => 'id-token' };
    expectRefused(errorOf(() => enterpriseManagedAuthorization(loose({ ...base, audience: AS }))), '"audience" in enterpriseManagedAuthorization options');
    const secret = errorOf(() => enterpriseManagedAuthorization(loose({ ...base, idpClient: { clientId: 'app', client_secret: 'S3cr3t-never-shown' } })));
    expectRefused(secret, '"client_secret" (did you mean "clientSecret"?) in enterpriseManagedAuthorization idpClient');
    expect(secret.message).not.toContain('S3cr3t');
    const options = { ...base, idpClient: { clientId: 'app', clientSecret: 's' }, subjectTokenType: 'urn:ietf:params:oauth:token-type:id_token' } satisfies Required<EnterpriseManagedAuthorizationOptions>;
    expect(() => enterpriseManagedAuthorization(options)).not.toThrow();
  });

  it('staticToken refuses an unknown name; accepts scheme', () => {
    expectRefused(errorOf(() => staticToken('t', loose({ schema: 'DPoP' }))), '"schema" (did you mean "scheme"?) in staticToken options');
    expect(() => staticToken('t', { scheme: 'Bearer' })).not.toThrow();
  });

  it('createTokenLifecycle refuses an unknown name; accepts every documented one', () => {
    expectRefused(errorOf(() => createTokenLifecycle(loose({ store: createMemoryStore(), skewMs: 1 }))), '"skewMs" in createTokenLifecycle options');
    expect(() => createTokenLifecycle({ store: createMemoryStore(), lock: createInProcessLock(), refreshSkewMs: 1, now: Date.now } satisfies Required<TokenLifecycleOptions>)).not.toThrow();
  });
});
