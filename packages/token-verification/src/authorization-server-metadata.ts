/**
 * Finds the authorization server's metadata (RFC 8414 §3, OIDC Discovery §4) for an issuer.
 * oauth4webapi builds and checks one well-known URL at a time; the MCP order of several candidates
 * (C-07) is written here by hand.
 */
import { processDiscoveryResponse } from 'oauth4webapi';
import { boundedFetch, unavailableStatus } from './bounded-fetch.js';
import { endpointUrl, fetchOption, identifier, positiveNumber } from './configuration.js';
import { VerifierUnavailableError } from './errors.js';
import { assertKnownOptions, type KnownOptions } from './known-options.js';

/** Options of {@link fetchAuthorizationServerMetadata}. */
export interface AuthorizationServerMetadataOptions {
  /** The `fetch` to use. Default: the global `fetch`. */
  readonly fetch?: typeof fetch;
  /** Milliseconds to wait for each well-known URL. Default 5000. */
  readonly timeout?: number;
  /** Largest document accepted, in bytes. Default 64 KiB (real ones are a few KiB). */
  readonly maxResponseBytes?: number;
  /** Allows a plain-http issuer beyond loopback (development only). Default false. */
  readonly allowInsecureHttp?: boolean;
}

const METADATA_OPTIONS: KnownOptions<AuthorizationServerMetadataOptions> = { fetch: true, timeout: true, maxResponseBytes: true, allowInsecureHttp: true };

/**
 * The RFC 8414 metadata of `issuer`, as the verifiers of this package find it: the well-known URLs
 * in the MCP order (C-07), no redirects followed, each request bounded in time and size, and the
 * document used only if its `issuer` is identical to the one given (RFC 8414 §3.3, C-08).
 *
 * @example const metadata = await fetchAuthorizationServerMetadata('https://auth.example.com');
 * @throws VerifierUnavailableError (rejects) when no usable document is found, the reason in its
 *   message; ConfigurationError (rejects) for an option or issuer URL that cannot be used.
 */
export async function fetchAuthorizationServerMetadata(
  issuer: string | URL,
  options: AuthorizationServerMetadataOptions = {},
): Promise<Record<string, unknown>> {
  assertKnownOptions(options, METADATA_OPTIONS, 'fetchAuthorizationServerMetadata()');
  const expected = identifier(issuer, 'issuer');
  endpointUrl(expected, 'issuer', options.allowInsecureHttp === true); // https, or http on loopback
  const fetcher = boundedFetch({
    fetch: fetchOption(options.fetch),
    timeout: positiveNumber(options.timeout, 'timeout', 5000),
    maxResponseBytes: positiveNumber(options.maxResponseBytes, 'maxResponseBytes', 64 * 1024, { integer: true }),
    label: 'authorization server metadata',
  });
  return discoverMetadata(expected, fetcher);
}

/** The well-known URLs to try for an issuer, in the MCP order (RFC 8414 §3.1, §5; C-07). */
export function metadataUrls(issuer: string): URL[] {
  const url = new URL(issuer);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  const at = (pathname: string) => new URL(pathname, url.origin);
  if (!path) return [at('/.well-known/oauth-authorization-server'), at('/.well-known/openid-configuration')];
  return [
    at(`/.well-known/oauth-authorization-server${path}`),
    at(`/.well-known/openid-configuration${path}`),
    at(`${path}/.well-known/openid-configuration`),
  ];
}

/**
 * Fetches the first metadata document found for `issuer` and checks that its `issuer` is
 * identical to the one configured (RFC 8414 §3.3, C-08): a mismatch is never used. Failures are
 * `VerifierUnavailableError`: the resource server cannot verify anything without the metadata.
 */
export async function discoverMetadata(
  issuer: string,
  fetcher: (input: string, init?: RequestInit) => Promise<Response>,
): Promise<Record<string, unknown>> {
  const statuses: string[] = [];
  let unavailable: VerifierUnavailableError | undefined;
  for (const url of metadataUrls(issuer)) {
    const response = await fetcher(url.href, { method: 'GET', headers: { accept: 'application/json' }, redirect: 'manual' });
    if (response.status !== 200) {
      statuses.push(`${url.pathname}: HTTP ${response.status}`);
      if (response.status >= 500 || response.status === 429) unavailable ??= unavailableStatus(response, 'authorization server metadata');
      continue;
    }
    let metadata: Record<string, unknown>;
    try {
      metadata = (await processDiscoveryResponse(new URL(issuer), response)) as Record<string, unknown>;
    } catch (cause) {
      throw new VerifierUnavailableError(`The authorization server metadata at ${url.href} is unusable: ${(cause as Error).message}`, { cause });
    }
    // oauth4webapi compares normalised URLs; the issuer must be identical to the configured string.
    if (metadata['issuer'] !== issuer) {
      throw new VerifierUnavailableError(
        `The authorization server metadata at ${url.href} names issuer ${JSON.stringify(metadata['issuer'])}, not ${JSON.stringify(issuer)}`,
      );
    }
    return metadata;
  }
  throw unavailable ?? new VerifierUnavailableError(`No authorization server metadata found for ${issuer} (${statuses.join(', ')})`);
}

/** Reads a URL-valued metadata field, or fails as unavailable. */
export function metadataEndpoint(metadata: Record<string, unknown>, field: string, issuer: string): URL {
  const value = metadata[field];
  try {
    if (typeof value === 'string') return new URL(value);
  } catch {
    // fall through: not a URL
  }
  throw new VerifierUnavailableError(`The authorization server metadata of ${issuer} has no usable "${field}"`);
}
