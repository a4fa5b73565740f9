import { isLoopbackHost } from '@portcullis/protected-resource-metadata';
import type { RequestHandler } from 'express';

/**
 * The browser origins that may call the server: `configured` when given (each parsed, so a typo fails
 * at startup), else on a loopback bind any loopback origin (local tools such as the MCP Inspector)
 * and the resource's, and otherwise the resource's alone.
 */
export function allowedOrigins(configured: readonly string[] | undefined, loopbackBind: boolean, resource: string): (origin: string) => boolean {
  const listed = new Set((configured ?? [resource]).map((origin) => originOf(origin)));
  if (configured !== undefined || !loopbackBind) return (origin) => listed.has(origin);
  return (origin) => listed.has(origin) || isLoopbackOrigin(origin);
}

/**
 * S-28 (MCP 2025-11-25, Streamable HTTP, "Security Warning"): a request whose `Origin` is present and
 * not allowed gets 403 before anything else, so a page on another site cannot reach the server
 * through its visitor's browser (DNS rebinding; the Host check catches the rebound name, this the
 * page). A request without `Origin` is no browser's cross-origin call (CLI and server clients): it passes.
 */
export function originValidation(isAllowed: (origin: string) => boolean): RequestHandler {
  return (req, res, next) => {
    const { origin } = req.headers;
    if (origin === undefined || isAllowed(origin)) return next();
    // The SDK's hostHeaderValidation answers the same JSON-RPC shape; the origin is not echoed.
    res.status(403).json({ jsonrpc: '2.0', error: { code: -32000, message: 'Forbidden: requests from this Origin are not allowed' }, id: null });
  };
}

/** `scheme://host[:port]` as browsers serialise an `Origin` (RFC 6454 §6.1). */
function originOf(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`allowed origin ${JSON.stringify(value)} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`allowed origin ${JSON.stringify(value)} is not http(s)`);
  return url.origin;
}

function isLoopbackOrigin(origin: string): boolean {
  // `null` (sandboxed frames, file: pages) and anything else that is not a URL is not allowed.
  if (!URL.canParse(origin)) return false;
  const url = new URL(origin);
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === origin && isLoopbackHost(url.hostname);
}
