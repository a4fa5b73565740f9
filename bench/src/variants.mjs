// The middleware under test, one factory per variant. Every variant protects the same route with
// the same handler; each runs in its own process (server.mjs). A factory returns
// { middleware, errorHandler? } or throws SkipVariant when the package it needs has not landed.

export class SkipVariant extends Error {}

/** The introspection client credentials the AS stub accepts (it does not check them). */
export const INTROSPECTION_CLIENT = { clientId: 'bench-rs', clientSecret: 'bench-rs-secret' };

/** What the reference middlewares put on `req.auth`: no verification stands behind it. */
const CONSTANT_AUTH = Object.freeze({ token: 'constant', clientId: 'bench', scopes: ['mcp:tools'], claims: {} });

function notBuilt(error) {
  throw new SkipVariant(`cannot load the package (run \`pnpm build\` first?): ${error.message.split('\n')[0]}`);
}

function resourceMetadataUrl(config) {
  return `${config.resource.replace(/\/mcp$/, '')}/.well-known/oauth-protected-resource/mcp`;
}

/** The SDK's AuthInfo from verified JWT claims (what an SDK user writes around jose). */
function sdkAuthInfo(token, payload) {
  return {
    token,
    clientId: String(payload.client_id ?? payload.azp ?? ''),
    scopes: typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [],
    expiresAt: payload.exp,
    resource: undefined,
    extra: { sub: payload.sub },
  };
}

/** One synchronous `node:crypto` ES256 verify of the request's token, on the stub's key fetched once. */
async function signatureCheck(config) {
  const { createPublicKey, verify } = await import('node:crypto');
  const { keys } = await (await fetch(`${config.issuer}/jwks`)).json();
  const options = { key: createPublicKey({ key: keys.find((k) => k.alg === 'ES256'), format: 'jwk' }), dsaEncoding: 'ieee-p1363' };
  return (req) => {
    const token = (req.headers.authorization ?? '').slice(7);
    const dot = token.lastIndexOf('.');
    return dot !== -1 && verify('sha256', Buffer.from(token.slice(0, dot)), options, Buffer.from(token.slice(dot + 1), 'base64url'));
  };
}

function refuse(res) {
  res.statusCode = 401;
  res.end();
}

/** Collects what arrives in one turn of the event loop and hands it to `work` in the check phase. */
function inCheckPhase(work) {
  let queue = [];
  return (item) => {
    if (queue.length === 0) {
      setImmediate(() => {
        const batch = queue;
        queue = [];
        work(batch);
      });
    }
    queue.push(item);
  };
}

export const variants = {
  /** The ceiling: no authentication at all. */
  async plain() {
    return { middleware: null };
  },

  /**
   * Not a contender: a middleware that sets `req.auth` to a constant and calls `next()`, what one
   * more Express layer costs before any authentication work (a reference for paired.mjs).
   */
  async 'empty-middleware'() {
    return {
      middleware: (req, _res, next) => {
        req.auth = CONSTANT_AUTH;
        next();
      },
    };
  },

  /**
   * Not a contender: the empty middleware plus one SHA-256 of the token, what keying a cache by the
   * token's hash (S-22: never the raw token) costs on the loaded server (a reference for paired.mjs).
   */
  async 'hash-only'() {
    const { hash } = await import('node:crypto');
    return {
      middleware: (req, _res, next) => {
        // From rawHeaders as bearer-auth reads it: `req.headers` is built on first use, a cost of its own.
        const raw = req.rawHeaders;
        let token = '';
        for (let i = 0; i < raw.length; i += 2) if (raw[i].length === 13) token = raw[i + 1].slice(7);
        hash('sha256', token, 'base64url');
        req.auth = CONSTANT_AUTH;
        next();
      },
    };
  },

  /**
   * Not a contender, and not what bearer-auth does: bearer-auth behind a memo of the last
   * Authorization header of each connection, so that the same token sent again on a connection skips
   * the hash and the cache lookup (only `exp` is checked, not the key set). It keeps the raw token for
   * the connection's life, which bearer-auth does not do (S-22, README): a measure of what such a
   * memo would buy, for the decision whether to offer one (a reference for paired.mjs).
   */
  async 'connection-memo'(config) {
    const { middleware } = await variants.portcullis(config);
    const memo = new WeakMap();
    return {
      middleware: (req, res, next) => {
        const raw = req.rawHeaders;
        let header;
        for (let i = 0; i < raw.length; i += 2) if (raw[i].length === 13 && raw[i].toLowerCase() === 'authorization') header = raw[i + 1];
        const socket = req.socket;
        const last = memo.get(socket);
        if (last !== undefined && last.header === header && last.expiresAt > Date.now()) {
          req.auth = { ...last.auth };
          next();
          return;
        }
        middleware(req, res, (error) => {
          if (error === undefined && req.auth?.expiresAt !== undefined) memo.set(socket, { header, auth: req.auth, expiresAt: req.auth.expiresAt * 1000 });
          next(error);
        });
      },
    };
  },

  /**
   * Not a contender: the empty middleware with its `next()` deferred to the check phase
   * (`setImmediate`), for all the requests of one turn together: what that deferral alone does to a
   * loaded server, apart from any signature check (a reference for paired.mjs, beside
   * `signature-batched`; bearer-auth defers only the signature checks of new tokens).
   */
  async 'empty-batched'() {
    const admit = inCheckPhase((batch) => {
      for (const [req, next] of batch) {
        req.auth = CONSTANT_AUTH;
        next();
      }
    });
    return { middleware: (req, _res, next) => admit([req, next]) };
  },

  /**
   * Not a contender: a middleware that checks only the ES256 signature, with one synchronous
   * `node:crypto` verify on a key fetched once, and nothing else (no claims, no cache): what the
   * crypto floor costs on a loaded server, for the never-seen cell (a reference for the budget).
   */
  async 'signature-only'(config) {
    const signed = await signatureCheck(config);
    return {
      middleware: (req, res, next) => {
        if (!signed(req)) return refuse(res);
        req.auth = CONSTANT_AUTH;
        next();
      },
    };
  },

  /**
   * Not a contender: `signature-only` with the checks of one turn run together in its check phase,
   * as bearer-auth runs the signature checks of new tokens (a reference for paired.mjs).
   */
  async 'signature-batched'(config) {
    const signed = await signatureCheck(config);
    const check = inCheckPhase((batch) => {
      const verdicts = batch.map(([req]) => signed(req));
      batch.forEach(([req, res, next], i) => {
        if (!verdicts[i]) return refuse(res);
        req.auth = CONSTANT_AUTH;
        next();
      });
    });
    return { middleware: (req, res, next) => check([req, res, next]) };
  },

  /**
   * @portcullis/bearer-auth with token-verification's JWT verifier and its built-in verified-token
   * cache (defaults: 10,000 entries, 300 s, tied to the JWKS), the configuration the README recommends.
   */
  async portcullis(config) {
    const { bearerAuth } = await import('@portcullis/bearer-auth').catch(notBuilt);
    const { answerFromMemory, createJwtVerifier } = await import('@portcullis/token-verification').catch(notBuilt);
    if (typeof bearerAuth !== 'function') throw new SkipVariant('@portcullis/bearer-auth does not export bearerAuth');
    if (typeof createJwtVerifier !== 'function') throw new SkipVariant('@portcullis/token-verification does not export createJwtVerifier');
    const verifier = createJwtVerifier({ issuer: config.issuer, audience: config.resource, jwksUri: `${config.issuer}/jwks` });
    return {
      middleware: bearerAuth({ verifier, audience: config.resource, resourceMetadataUrl: resourceMetadataUrl(config) }),
      // Whether a token is in the verified-token cache (for the flood check): only a cached result is answered from memory.
      remembered: (token) => verifier[answerFromMemory](token) !== undefined,
    };
  },

  /** Auth0's express-oauth2-jwt-bearer 1.10, keys from the local JWKS (no discovery). */
  async 'express-oauth2-jwt-bearer'(config) {
    const { auth } = await import('express-oauth2-jwt-bearer');
    return {
      middleware: auth({ issuer: config.issuer, audience: config.resource, jwksUri: `${config.issuer}/jwks` }),
      errorHandler: (err, _req, res, _next) => {
        if (err.headers) res.set(err.headers);
        res.status(err.status ?? 500).json({ error: err.code ?? 'server_error' });
      },
    };
  },

  /** The MCP SDK's requireBearerAuth with a jose verifier (createRemoteJWKSet + jwtVerify). */
  async 'mcp-sdk'(config) {
    const { requireBearerAuth } = await import('@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js');
    const { InvalidTokenError } = await import('@modelcontextprotocol/sdk/server/auth/errors.js');
    const { createRemoteJWKSet, jwtVerify } = await import('jose');
    const jwks = createRemoteJWKSet(new URL(`${config.issuer}/jwks`));
    const verifier = {
      async verifyAccessToken(token) {
        let payload;
        try {
          ({ payload } = await jwtVerify(token, jwks, { issuer: config.issuer, audience: config.resource, typ: 'at+jwt' }));
        } catch (error) {
          throw new InvalidTokenError(error instanceof Error ? error.message : 'Invalid token');
        }
        return sdkAuthInfo(token, payload);
      },
    };
    return { middleware: requireBearerAuth({ verifier, resourceMetadataUrl: resourceMetadataUrl(config) }) };
  },

  /** mcp-auth 0.2 in resource-server mode, the AS metadata fetched from the local stub at start. */
  async 'mcp-auth'(config) {
    const { MCPAuth, fetchServerConfig } = await import('mcp-auth');
    const server = await fetchServerConfig(config.issuer, { type: 'oauth' });
    const mcpAuth = new MCPAuth({ protectedResources: [{ metadata: { resource: config.resource, authorizationServers: [server] } }] });
    return { middleware: mcpAuth.bearerAuth('jwt', { resource: config.resource, audience: config.resource }) };
  },

  /** Introspection (RFC 7662) with token-verification's introspection verifier (its own cache and single-flight). */
  async 'portcullis-introspection'(config) {
    const { bearerAuth } = await import('@portcullis/bearer-auth').catch(notBuilt);
    const { createIntrospectionVerifier } = await import('@portcullis/token-verification').catch(notBuilt);
    if (typeof bearerAuth !== 'function') throw new SkipVariant('@portcullis/bearer-auth does not export bearerAuth');
    if (typeof createIntrospectionVerifier !== 'function') throw new SkipVariant('@portcullis/token-verification does not export createIntrospectionVerifier');
    const verifier = createIntrospectionVerifier({
      issuer: config.issuer,
      endpoint: `${config.issuer}/introspect`,
      audience: config.resource,
      client: { method: 'client_secret_basic', ...INTROSPECTION_CLIENT },
    });
    return { middleware: bearerAuth({ verifier, audience: config.resource, resourceMetadataUrl: resourceMetadataUrl(config) }) };
  },

  /** The peer for introspection: the SDK's requireBearerAuth with a fetch-per-request verifier, as in the SDK's examples. */
  async 'mcp-sdk-introspection'(config) {
    const { requireBearerAuth } = await import('@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js');
    const { InvalidTokenError } = await import('@modelcontextprotocol/sdk/server/auth/errors.js');
    const endpoint = `${config.issuer}/introspect`;
    const basic = `Basic ${Buffer.from(`${INTROSPECTION_CLIENT.clientId}:${INTROSPECTION_CLIENT.clientSecret}`).toString('base64')}`;
    const verifier = {
      async verifyAccessToken(token) {
        const response = await fetch(endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic },
          body: new URLSearchParams({ token }).toString(),
        });
        if (!response.ok) throw new InvalidTokenError(`Introspection failed: ${response.status}`);
        const data = await response.json();
        if (data.active !== true) throw new InvalidTokenError('Token is not active');
        return sdkAuthInfo(token, data);
      },
    };
    return { middleware: requireBearerAuth({ verifier, resourceMetadataUrl: resourceMetadataUrl(config) }) };
  },
};
