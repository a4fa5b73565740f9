/**
 * Internal: finds the authorization server's metadata (RFC 8414 §3, OIDC Discovery §4) for an
 * issuer. oauth4webapi builds and checks one well-known URL at a time; the MCP order of several
 * candidates (C-07) is written here by hand.
 */
import { processDiscoveryResponse } from 'oauth4webapi';
import { unavailableStatus } from './bounded-fetch.js';
import { VerifierUnavailableError } from './errors.js';

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
      throw new VerifierUnavailableError(`The authorization server metadata at ${url.href} is unusable`, { cause });
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
