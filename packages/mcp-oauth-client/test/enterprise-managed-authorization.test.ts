import { describe, expect, it } from '@jest/globals';
import { requestIdJag, type IdJagRequest } from '../src/enterprise-managed-authorization.js';
import { stubWorld } from './helpers/stub-world.js';

const IDP = 'https://idp.example.com/token';
const base = (fetch: IdJagRequest['fetch']): IdJagRequest => ({
  idpTokenEndpoint: IDP,
  idpClient: { clientId: 'idp-client', clientSecret: 'idp-secret' },
  subjectToken: 'id-token',
  audience: 'https://as.example.com',
  resource: 'https://mcp.example.com/mcp',
  scopes: ['a', 'b'],
  fetch,
});

describe('requestIdJag (RFC 8693, X-07)', () => {
  it('X-07 sends the token exchange with client_secret_basic at the IdP and returns the ID-JAG', async () => {
    const world = stubWorld({ [IDP]: () => Response.json({ access_token: 'jag', issued_token_type: 'urn:ietf:params:oauth:token-type:id-jag', token_type: 'N_A' }) });
    expect(await requestIdJag(base(world.fetch))).toBe('jag');
    const [req] = world.requests;
    expect(req!.form.get('scope')).toBe('a b');
    expect(req!.form.get('client_id')).toBeNull();
    expect(req!.headers.get('authorization')).toBe(`Basic ${Buffer.from('idp-client:idp-secret').toString('base64')}`);
  });
  it('refuses an answer that is not an ID-JAG', async () => {
    const world = stubWorld({ [IDP]: () => Response.json({ access_token: 'x', issued_token_type: 'urn:ietf:params:oauth:token-type:access_token', token_type: 'Bearer' }) });
    await expect(requestIdJag(base(world.fetch))).rejects.toMatchObject({ code: 'token_request_failed' });
  });
  it('reports an IdP refusal with its OAuth error, without the subject token in the message', async () => {
    const world = stubWorld({ [IDP]: () => Response.json({ error: 'invalid_grant' }, { status: 400 }) });
    const error = (await requestIdJag(base(world.fetch)).catch((e: unknown) => e)) as Error & { oauthError?: string };
    expect(error).toMatchObject({ code: 'token_request_failed', oauthError: 'invalid_grant' });
    expect(error.message).not.toContain('id-token');
  });
  it('refuses incomplete input before any request', async () => {
    const world = stubWorld({});
    await expect(requestIdJag({ ...base(world.fetch), subjectToken: '' })).rejects.toMatchObject({ code: 'invalid_options' });
    expect(world.requests).toHaveLength(0);
  });
});
