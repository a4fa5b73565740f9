import { createJwtVerifier, type TokenVerifier } from '@portcullis/token-verification';
import type { JSONWebKeySet } from 'jose';
import type Provider from 'oidc-provider';
import { errors, type TokenEndpointGrantContext } from 'oidc-provider';
import type { DevResource, DevTokenExchange } from './options.js';

/** RFC 8693 §2.1 grant type. */
export const TOKEN_EXCHANGE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:token-exchange';
/** RFC 8693 §3 token type of an OAuth access token. */
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/**
 * The `act` claim (RFC 8693 §4.1) of each access token the exchange issues, keyed by the token model
 * instance; the AS's `extraTokenClaims` hook reads it when the token is formatted (JWT) or stored (opaque).
 */
export type ActorClaims = WeakMap<object, { readonly act: Readonly<Record<string, unknown>> }>;

/** What a verified subject token says, for the exchange. */
interface Subject {
  readonly sub: string;
  /** An earlier actor chain, nested under the new actor (RFC 8693 §4.1). */
  readonly act: unknown;
}

/** The parts of oidc-provider's models the exchange uses (its typings do not declare all of them). */
interface TokenModel {
  save(): Promise<string>;
  readonly expiration: number;
  scope?: string;
  resourceServer?: unknown;
}
interface StoredToken {
  readonly accountId?: string;
  readonly clientId?: string;
  readonly aud?: string | string[];
  readonly grantId?: string;
  readonly extra?: Record<string, unknown>;
  readonly isValid: boolean;
}
interface ProviderModels {
  AccessToken: (new (init: Record<string, unknown>) => TokenModel) & { find(value: string): Promise<StoredToken | undefined> };
  ClientCredentials: { find(value: string): Promise<StoredToken | undefined> };
  ResourceServer: new (identifier: string, info: Record<string, unknown>) => unknown;
  Grant: { find(id: string): Promise<unknown> };
}

/**
 * Enables the RFC 8693 token-exchange grant on the dev AS's provider (oidc-provider ships none, but
 * has `registerGrantType`). Policy:
 * - the client must be listed in `exchange.clients`, be confidential, and have registered the grant
 *   (`grant_types`; oidc-provider checks that one itself);
 * - `subject_token` (type `…:token-type:access_token`) must be an access token this AS issued for one of
 *   `exchange.subjectResources` (default: every resource) and still valid — a JWT is verified with
 *   `createJwtVerifier` against this AS's own public keys (signature, `iss`, `aud`, `typ: at+jwt`, expiry),
 *   an opaque token is looked up in the provider's store (and its grant must still exist);
 * - `audience` and/or `resource` must name one configured resource (both given: the same one);
 * - `scope`, if given, must be scopes of that resource; default: all of them;
 * - the new token is the provider's own `AccessToken` for that resource (its format and lifetime), with
 *   `sub` = the subject's `sub` and `act` = `{ sub: <requesting client_id> }`, nesting any earlier `act`.
 * `actor_token` is refused: the authenticated client is the actor.
 */
export function registerTokenExchange(
  provider: Provider,
  exchange: DevTokenExchange,
  resources: ReadonlyMap<string, DevResource>,
  publicKeys: JSONWebKeySet,
  actors: ActorClaims,
  resourceServerInfo: (resource: DevResource) => Record<string, unknown>,
): void {
  const allowed = typeof exchange.clients === 'function' ? exchange.clients : (id: string) => (exchange.clients as readonly string[]).includes(id);
  const subjectResources = new Set(exchange.subjectResources ?? resources.keys());
  for (const uri of subjectResources) {
    if (!resources.has(uri)) throw new TypeError(`tokenExchange.subjectResources: ${uri} is not one of the resources`);
  }
  const jwtAudiences = [...subjectResources].filter((uri) => resources.get(uri)!.format !== 'opaque');
  const verifyJwt: TokenVerifier | undefined =
    jwtAudiences.length > 0
      ? createJwtVerifier({ issuer: provider.issuer, audience: jwtAudiences, jwks: publicKeys, requireRfc9068: true, allowInsecureHttp: true, cache: false })
      : undefined;
  const models = provider as unknown as ProviderModels;

  async function verifySubject(token: string): Promise<Subject | undefined> {
    if (token.split('.').length === 3) {
      if (!verifyJwt) return undefined;
      const auth = await verifyJwt(token).catch(() => undefined);
      return auth?.subject ? { sub: auth.subject, act: auth.claims['act'] } : undefined;
    }
    // Opaque: an access token (user) or client-credentials token in the provider's store.
    const stored = (await models.AccessToken.find(token)) ?? (await models.ClientCredentials.find(token));
    if (!stored?.isValid) return undefined;
    const audiences = Array.isArray(stored.aud) ? stored.aud : [stored.aud];
    if (audiences.length !== 1 || !subjectResources.has(String(audiences[0])) || resources.get(String(audiences[0]))!.format !== 'opaque') return undefined;
    if (stored.grantId !== undefined && !(await models.Grant.find(stored.grantId))) return undefined;
    const sub = stored.accountId ?? stored.clientId;
    return sub ? { sub, act: stored.extra?.['act'] } : undefined;
  }

  const one = (ctx: TokenEndpointGrantContext, name: string): string | undefined => {
    const value = ctx.oidc.params[name];
    return value === undefined || value === '' ? undefined : String(value);
  };

  async function handler(ctx: TokenEndpointGrantContext): Promise<void> {
    const { client } = ctx.oidc;
    if (!allowed(client.clientId) || client.clientAuthMethod === 'none') {
      throw new errors.UnauthorizedClient('this client may not exchange tokens');
    }
    const subjectToken = one(ctx, 'subject_token');
    if (subjectToken === undefined) throw new errors.InvalidRequest('missing required parameter subject_token');
    if (one(ctx, 'subject_token_type') !== ACCESS_TOKEN_TYPE) throw new errors.InvalidRequest(`subject_token_type must be ${ACCESS_TOKEN_TYPE}`);
    const requested = one(ctx, 'requested_token_type');
    if (requested !== undefined && requested !== ACCESS_TOKEN_TYPE) throw new errors.InvalidRequest(`requested_token_type must be ${ACCESS_TOKEN_TYPE}`);
    if (one(ctx, 'actor_token') !== undefined) throw new errors.InvalidRequest('actor_token is not supported: the authenticated client is the actor');

    const audience = one(ctx, 'audience');
    const resourceParameter = one(ctx, 'resource');
    if (audience !== undefined && resourceParameter !== undefined && audience !== resourceParameter) {
      throw new errors.InvalidTarget('audience and resource must name the same resource');
    }
    const target = audience ?? resourceParameter;
    if (target === undefined) throw new errors.InvalidTarget('audience or resource is required');
    const resource = resources.get(target);
    if (!resource) throw new errors.InvalidTarget('unknown audience');
    const scopeParameter = one(ctx, 'scope');
    const scopes = scopeParameter === undefined ? [...resource.scopes] : scopeParameter.split(' ').filter(Boolean);
    const refused = scopes.filter((scope) => !resource.scopes.includes(scope));
    if (refused.length > 0) throw new errors.InvalidScope('requested scope is not allowed at this resource', refused.join(' '));

    const subject = await verifySubject(subjectToken);
    if (!subject) throw new errors.InvalidGrant('subject_token is invalid, expired, or not an access token of this server for an exchangeable resource');

    const token = new models.AccessToken({ accountId: subject.sub, client, scope: scopes.join(' ') || undefined, gty: 'token-exchange' });
    token.resourceServer = new models.ResourceServer(resource.uri, resourceServerInfo(resource));
    // The requesting client acts for the subject; an actor chain already on the subject token is nested (§4.1).
    actors.set(token, { act: { sub: client.clientId, ...(subject.act !== undefined && subject.act !== null && { act: subject.act }) } });
    const value = await token.save();
    ctx.body = {
      access_token: value,
      issued_token_type: ACCESS_TOKEN_TYPE,
      token_type: 'Bearer',
      expires_in: token.expiration,
      ...(token.scope && { scope: token.scope }),
    };
  }

  provider.registerGrantType(TOKEN_EXCHANGE_GRANT_TYPE, handler, [
    'subject_token',
    'subject_token_type',
    'requested_token_type',
    'audience',
    'resource',
    'scope',
    'actor_token',
    'actor_token_type',
  ]);
}
