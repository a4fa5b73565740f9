import type { BearerErrorCode } from '@portcullis/token-verification';

/** Parameters of one `WWW-Authenticate: Bearer` challenge (RFC 6750 §3, RFC 9728 §5.1). */
export interface BearerChallenge {
  /** `resource_metadata` (RFC 9728 §5.1): always present (S-04 a, L-04). */
  readonly resourceMetadata: string;
  /** `realm` (RFC 7235 §2.2). */
  readonly realm?: string | undefined;
  /** `error`; absent when the request carried no credentials (RFC 6750 §3.1, S-16). */
  readonly error?: BearerErrorCode | undefined;
  /** `error_description`, human-readable. */
  readonly errorDescription?: string | undefined;
  /** `scope`: the scopes this request needs (S-06, S-17, S-18, S-19). */
  readonly scope?: readonly string[] | undefined;
}

/**
 * The only place a Bearer challenge is written. Every value is a quoted-string (RFC 7230 §3.2.6)
 * with `"` and `\` escaped and control characters removed, so no configured or error-derived text
 * can break the header or inject another one. `error_description` is further restricted to the
 * RFC 6750 §3 character set (`%x20-21 / %x23-5B / %x5D-7E`).
 *
 * @example formatBearerChallenge({ resourceMetadata: 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp' })
 * // 'Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"'
 */
export function formatBearerChallenge(challenge: BearerChallenge): string {
  const params: string[] = [];
  if (challenge.realm !== undefined) params.push(`realm=${quote(challenge.realm)}`);
  if (challenge.error !== undefined) params.push(`error=${quote(challenge.error)}`);
  if (challenge.errorDescription !== undefined && challenge.error !== undefined) {
    params.push(`error_description=${quote(errorDescriptionChars(challenge.errorDescription))}`);
  }
  if (challenge.scope !== undefined && challenge.scope.length > 0) params.push(`scope=${quote(challenge.scope.join(' '))}`);
  params.push(`resource_metadata=${quote(challenge.resourceMetadata)}`);
  return `Bearer ${params.join(', ')}`;
}

/** RFC 7230 quoted-string: escape `"` and `\`; drop CTLs (CR/LF would split the header); non-ASCII → `?`. */
export function quote(value: string): string {
  // eslint-disable-next-line no-control-regex
  const visible = value.replace(/[\x00-\x08\x0a-\x1f\x7f]/g, '').replace(/[^\t\x20-\x7e]/g, '?');
  return `"${visible.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** RFC 6750 §3: `error_description` uses only %x20-21 / %x23-5B / %x5D-7E. */
function errorDescriptionChars(value: string): string {
  return value
    .replace(/"/g, "'")
    .replace(/\\/g, '/')
    .replace(/[^\x20-\x7e]/g, '?');
}
