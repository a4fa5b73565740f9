import { describe, expect, it } from '@jest/globals';
import { generateKeyPair } from 'jose';
import type { AuthorizationServerMetadata } from '../src/discovery.js';
import { buildRegistrationRequest, resolveClient } from '../src/registration.js';
import type { FetchLike } from '../src/safe-fetch.js';
import { createMemoryStore } from '../src/token-store.js';

const as = (issuer: string, extra: Record<string, unknown> = {}): AuthorizationServerMetadata => ({
  issuer,
  authorization_endpoint: `${issuer}/authorize`,
  token_endpoint: `${issuer}/token`,
  registration_endpoint: `${issuer}/register`,
  code_challenge_methods_supported: ['S256'],
  ...extra,
}) as AuthorizationServerMetadata;

/** A registration endpoint at the network edge that hands out numbered client ids and records bodies. */
function registrar() {
  const bodies: Array<Record<string, unknown>> = [];
  const fetch: FetchLike = async (input, init) => {
    bodies.push(JSON.parse(String(init?.body)) as Record<string, unknown>);
    return Response.json({ client_id: `client-${bodies.length}-${new URL(String(input)).host}` }, { status: 201 });
  };
  return { fetch, bodies };
}
const metadata = { client_name: 'test', redirect_uris: ['http://127.0.0.1:8000/cb'] };

describe('registration', () => {
  it('C-16 C-39 sends application_type native for loopback redirects, and the refresh_token grant', () => {
    expect(buildRegistrationRequest(as('https://a.example'), metadata)).toMatchObject({
      application_type: 'native',
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
    });
    expect(buildRegistrationRequest(as('https://a.example'), { ...metadata, redirect_uris: ['https://app.example/cb'] })).toMatchObject({ application_type: 'web' });
  });

  it('C-09 C-14 order: pre-registered (bound to this issuer) first', async () => {
    const { fetch, bodies } = registrar();
    const client = await resolveClient(as('https://a.example'), {
      store: createMemoryStore(),
      fetch,
      preRegistered: [{ clientId: 'other', issuer: 'https://b.example' }, { clientId: 'mine', clientSecret: 's', issuer: 'https://a.example' }],
      clientMetadata: metadata,
    });
    expect(client).toMatchObject({ clientId: 'mine', source: 'pre-registered', tokenEndpointAuthMethod: 'client_secret_basic' });
    expect(bodies).toHaveLength(0);
  });

  it('C-42 conf:auth/token-endpoint-auth-post picks client_secret_post when it is the only secret method', async () => {
    const client = await resolveClient(as('https://a.example', { token_endpoint_auth_methods_supported: ['client_secret_post'] }), {
      store: createMemoryStore(),
      fetch: registrar().fetch,
      preRegistered: [{ clientId: 'mine', clientSecret: 's', issuer: 'https://a.example' }],
    });
    expect(client.tokenEndpointAuthMethod).toBe('client_secret_post');
  });

  it('C-10 C-13 CIMD when advertised, DCR when not', async () => {
    const { fetch, bodies } = registrar();
    const options = { store: createMemoryStore(), fetch, clientMetadataUrl: 'https://client.example/meta.json', clientMetadata: metadata };
    expect(await resolveClient(as('https://a.example', { client_id_metadata_document_supported: true }), options)).toMatchObject({ clientId: 'https://client.example/meta.json', source: 'cimd' });
    expect(await resolveClient(as('https://b.example'), options)).toMatchObject({ source: 'dynamic' });
    expect(bodies).toHaveLength(1);
  });

  it('C-05 C-18 conf:auth/authorization-server-migration: credentials are keyed by issuer; a new AS means a new registration', async () => {
    const { fetch, bodies } = registrar();
    const store = createMemoryStore();
    const first = await resolveClient(as('https://a.example'), { store, fetch, clientMetadata: metadata });
    const again = await resolveClient(as('https://a.example'), { store, fetch, clientMetadata: metadata });
    const migrated = await resolveClient(as('https://b.example'), { store, fetch, clientMetadata: metadata });
    expect(again.clientId).toBe(first.clientId);
    expect(migrated.clientId).not.toBe(first.clientId);
    expect(migrated.issuer).toBe('https://b.example');
    expect(bodies).toHaveLength(2);
  });

  it('C-18 refuses pre-registered credentials of another issuer when nothing else is possible', async () => {
    await expect(
      resolveClient(as('https://a.example', { registration_endpoint: undefined }), { store: createMemoryStore(), fetch: registrar().fetch, preRegistered: [{ clientId: 'x', issuer: 'https://b.example' }] }),
    ).rejects.toMatchObject({ code: 'client_issuer_mismatch' });
  });

  it('C-09 a clear error when no registration is possible', async () => {
    await expect(resolveClient(as('https://a.example', { registration_endpoint: undefined }), { store: createMemoryStore(), fetch: registrar().fetch })).rejects.toMatchObject({
      code: 'registration_unavailable',
    });
  });

  it('C-17 surfaces a refused registration with the OAuth error', async () => {
    const fetch: FetchLike = async () => Response.json({ error: 'invalid_redirect_uri', error_description: 'loopback not allowed' }, { status: 400 });
    await expect(resolveClient(as('https://a.example'), { store: createMemoryStore(), fetch, clientMetadata: metadata })).rejects.toMatchObject({
      code: 'registration_failed',
      oauthError: 'invalid_redirect_uri',
    });
  });

  it('C-18 refuses a pre-registered secret or private key that names no issuer (invalid_options), before any request', async () => {
    const { fetch, bodies } = registrar();
    const { privateKey } = await generateKeyPair('ES256');
    for (const client of [{ clientId: 'svc', clientSecret: 'secret-for-a' }, { clientId: 'svc', privateKey: { key: privateKey } }]) {
      const error = await resolveClient(as('https://a.example'), { store: createMemoryStore(), fetch, preRegistered: [client], clientMetadata: metadata }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'invalid_options' });
      expect((error as Error).message).not.toContain('secret-for-a');
    }
    expect(bodies).toHaveLength(0);
  });

  describe('C-18 an unbound public pre-registered client id is bound to the first issuer it is used with', () => {
    const noReg = (issuer: string) => as(issuer, { registration_endpoint: undefined });
    const logger = () => {
      const warnings: string[] = [];
      return { warnings, logger: { warn: (m: string) => void warnings.push(m) } };
    };

    it('binds on first use (with a warning), then refuses another issuer with client_issuer_mismatch', async () => {
      const store = createMemoryStore();
      const { warnings, logger: log } = logger();
      const fetch = registrar().fetch;
      const preRegistered = [{ clientId: 'svc' }];
      const first = await resolveClient(noReg('https://a.example'), { store, fetch, preRegistered, logger: log });
      expect(first).toMatchObject({ clientId: 'svc', issuer: 'https://a.example', source: 'pre-registered' });
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/discouraged/);
      // Same issuer again: still used, no second warning.
      await expect(resolveClient(noReg('https://a.example'), { store, fetch, preRegistered, logger: log })).resolves.toMatchObject({ clientId: 'svc' });
      expect(warnings).toHaveLength(1);
      // A hostile PRM naming another AS: the secret is never handed out for it.
      await expect(resolveClient(noReg('https://evil.example'), { store, fetch, preRegistered, logger: log })).rejects.toMatchObject({ code: 'client_issuer_mismatch' });
    });

    it('the binding is persisted in the store (a new process with the same store refuses too), per account', async () => {
      const store = createMemoryStore();
      const fetch = registrar().fetch;
      const preRegistered = [{ clientId: 'svc' }];
      await resolveClient(noReg('https://a.example'), { store, fetch, preRegistered, account: 'alice' });
      await expect(resolveClient(noReg('https://evil.example'), { store, fetch, preRegistered: [{ clientId: 'svc' }], account: 'alice' })).rejects.toMatchObject({
        code: 'client_issuer_mismatch',
      });
      // Another account has its own binding.
      await expect(resolveClient(noReg('https://b.example'), { store, fetch, preRegistered, account: 'bob' })).resolves.toMatchObject({ issuer: 'https://b.example', clientId: 'svc' });
    });

    it('C-15 C-18 an AS that offers registration gets a dynamic client instead, never the bound credentials', async () => {
      const store = createMemoryStore();
      const { fetch, bodies } = registrar();
      const preRegistered = [{ clientId: 'svc' }];
      await resolveClient(noReg('https://a.example'), { store, fetch, preRegistered });
      const other = await resolveClient(as('https://b.example'), { store, fetch, preRegistered, clientMetadata: metadata });
      expect(other).toMatchObject({ source: 'dynamic', clientId: 'client-1-b.example' });
      expect(bodies).toHaveLength(1);
    });
  });
});
