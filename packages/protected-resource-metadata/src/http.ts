import type { IncomingMessage, ServerResponse } from 'node:http';

/** `next` as Connect and Express call it: no argument to continue, an error to fail. */
export type NextFunction = (error?: unknown) => void;

/**
 * A middleware typed on `node:http` only, so the same function serves Connect, Express 4,
 * Express 5 and a bare `http.createServer` handler.
 */
export type NodeMiddleware = (req: IncomingMessage, res: ServerResponse, next: NextFunction) => void;

/**
 * The pathname the client asked for. Express and Connect rewrite `req.url` under a mount path and
 * keep the original in `originalUrl`; well-known URLs are absolute paths, so read the original.
 */
export function requestPathname(req: IncomingMessage): string {
  const raw = (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '/';
  const q = raw.indexOf('?');
  return q === -1 ? raw : raw.slice(0, q);
}
