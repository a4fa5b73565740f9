import type { IncomingMessage, ServerResponse } from 'node:http';
import { assertKnownOptions, ConfigurationError, type KnownOptions } from '@portcullis/token-verification';
import {
  ALLOW,
  authorizationServerMetadataMirror,
  MIRROR_OPTIONS,
  preflightHeaders,
  type AuthorizationServerMetadataMirrorOptions,
} from './authorization-server-mirror.js';
import { requestPathname, type NextFunction, type NodeMiddleware } from './http.js';
import type { ProtectedResource } from './protected-resource.js';
import { assertSignable, createMetadataSigner, type SignedMetadataOptions } from './signed-metadata.js';

/** Options of {@link protectedResourceMetadata}. */
export interface ProtectedResourceMetadataOptions {
  /** `Cache-Control: public, max-age=<cacheMaxAge>` on the document, in seconds. Default 3600. */
  readonly cacheMaxAge?: number;
  /** Add `signed_metadata` (RFC 9728 §2.2), signed once per process. Default: unsigned. */
  readonly signedMetadata?: SignedMetadataOptions;
  /**
   * Mirror the authorization server's RFC 8414 metadata at `/.well-known/oauth-authorization-server`
   * for 2025-03-26 clients (L-03). `true` mirrors the first resource's first authorization server.
   * Default: off, because it serves another party's issuer from this origin.
   */
  readonly mirrorAuthorizationServerMetadata?: true | Partial<AuthorizationServerMetadataMirrorOptions>;
}

const METADATA_OPTIONS: KnownOptions<ProtectedResourceMetadataOptions> = { cacheMaxAge: true, signedMetadata: true, mirrorAuthorizationServerMetadata: true };

interface Route {
  readonly body: () => Promise<string>;
}

/**
 * Serves the RFC 9728 metadata of one or more protected resources (S-02…S-05): at each resource's
 * path-inserted well-known URL (§3.1) and, for a resource without a path or with `serveAtRoot`, at
 * `/.well-known/oauth-protected-resource`. Exact paths only. `GET`/`HEAD` answer the document with
 * `Content-Type: application/json`, `Cache-Control` and `Access-Control-Allow-Origin: *`; `OPTIONS`
 * answers a CORS preflight; other methods get 405 with `Allow`. Anything else goes to `next()`.
 * Mount it at the application root.
 *
 * @example
 * ```ts
 * app.use(protectedResourceMetadata(mcp));
 * ```
 * @throws ConfigurationError when two resources claim the same well-known path.
 */
export function protectedResourceMetadata(
  resources: ProtectedResource | readonly ProtectedResource[],
  options: ProtectedResourceMetadataOptions = {},
): NodeMiddleware {
  assertKnownOptions(options, METADATA_OPTIONS, 'protectedResourceMetadata()');
  assertKnownOptions(options.mirrorAuthorizationServerMetadata, MIRROR_OPTIONS, 'protectedResourceMetadata() mirrorAuthorizationServerMetadata');
  const list: readonly ProtectedResource[] = Array.isArray(resources) ? resources : [resources as ProtectedResource];
  if (list.length === 0 || list.some((r) => !r || typeof r.metadataUrl !== 'string' || !r.document)) {
    throw new ConfigurationError('ERR_INVALID_OPTIONS', 'protectedResourceMetadata() needs resources made by defineProtectedResource()');
  }
  const cacheMaxAge = options.cacheMaxAge ?? 3600;
  if (!Number.isInteger(cacheMaxAge) || cacheMaxAge < 0) {
    throw new ConfigurationError('ERR_INVALID_OPTIONS', 'cacheMaxAge must be a whole number of seconds ≥ 0');
  }
  const sign = options.signedMetadata ? createMetadataSigner(options.signedMetadata) : undefined;

  const routes = new Map<string, Route>();
  // The slash-less path of a resource ending in `/` (see defineProtectedResource) yields to a resource
  // that is served there in its own right.
  const aliases = new Map<string, Route>();
  for (const resource of list) {
    let body: () => Promise<string>;
    if (sign) {
      assertSignable(resource.document);
      // Signed once, lazily: the first request waits, later ones reuse the same JWS.
      let signed: Promise<string> | undefined;
      body = () => (signed ??= sign(resource.document).then((jws) => JSON.stringify({ ...resource.document, signed_metadata: jws })));
    } else {
      const json = Promise.resolve(JSON.stringify(resource.document));
      body = () => json;
    }
    const [inserted] = resource.metadataPaths;
    for (const path of resource.metadataPaths) {
      if (inserted!.endsWith('/') && path === inserted!.slice(0, -1)) {
        aliases.set(path, { body });
        continue;
      }
      if (routes.has(path)) {
        throw new ConfigurationError('ERR_DUPLICATE_RESOURCE', `Two resources would both be served at ${path}; give them different paths`);
      }
      routes.set(path, { body });
    }
  }
  for (const [path, route] of aliases) if (!routes.has(path)) routes.set(path, route);

  const mirrorOption = options.mirrorAuthorizationServerMetadata;
  const mirror = mirrorOption
    ? authorizationServerMetadataMirror({
        issuer: list[0]!.authorizationServers[0]!,
        ...(mirrorOption === true ? {} : mirrorOption),
      })
    : undefined;

  const cacheControl = `public, max-age=${cacheMaxAge}`;
  let warnedAboutMount = false;

  return (req: IncomingMessage, res: ServerResponse, next: NextFunction) => {
    const route = routes.get(requestPathname(req));
    if (!route) {
      // Mounted under a path (`app.use('/mcp', …)`), it never sees a well-known URL: the clients'
      // discovery then fails with a 404 far from the cause. Said once, where the operator looks.
      const mountPath = (req as IncomingMessage & { baseUrl?: unknown }).baseUrl;
      if (!warnedAboutMount && typeof mountPath === 'string' && mountPath !== '') {
        warnedAboutMount = true;
        console.warn(`protectedResourceMetadata() is mounted under ${mountPath}, where it serves nothing: mount it at the application root (app.use(protectedResourceMetadata(…)))`);
      }
      if (mirror) mirror(req, res, next);
      else next();
      return;
    }
    switch (req.method) {
      case 'GET':
      case 'HEAD':
        route.body().then((body) => {
          res.writeHead(200, {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            'cache-control': cacheControl,
            'access-control-allow-origin': '*',
          });
          res.end(req.method === 'HEAD' ? undefined : body);
        }, next);
        return;
      case 'OPTIONS':
        res.writeHead(204, preflightHeaders()).end();
        return;
      default:
        res
          .writeHead(405, { allow: ALLOW, 'content-type': 'application/json', 'cache-control': 'no-store' })
          .end(JSON.stringify({ error: 'method_not_allowed', error_description: `Use ${ALLOW}` }));
    }
  };
}
