import { describe, expect, it } from '@jest/globals';
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

  it('C-09 order: pre-registered (bound to this issuer) first', async () => {
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
      preRegistered: [{ clientId: 'mine', clientSecret: 's' }],
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

  it('C-18 conf:auth/authorization-server-migration: credentials are keyed by issuer; a new AS means a new registration', async () => {
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
});
