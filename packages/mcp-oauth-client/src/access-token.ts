/**
 * RFC 6749 §A.12 `access-token = 1*VSCHAR`, less the space: what can follow `Bearer ` or `DPoP ` in an
 * Authorization header. Anything else (a newline from a secret file, a space) would make `Headers`
 * throw a TypeError that quotes the whole header value, token included.
 */
const HEADER_SAFE = /^[\x21-\x7E]+$/;

/** Whether `token` can be sent as the credentials of an Authorization header. */
export function isHeaderSafeToken(token: string): boolean {
  return HEADER_SAFE.test(token);
}
