import type { IncomingMessage } from 'node:http';
import { JsonRpcHttpError } from './mcp-operations.js';

type BodyCarrier = IncomingMessage & { body?: unknown; rawBody?: unknown; _body?: boolean };

/** What {@link readJsonBody} found. */
export type JsonBody = { readonly available: false } | { readonly available: true; readonly value: unknown };

const UNAVAILABLE: JsonBody = { available: false };

function isJson(req: IncomingMessage): boolean {
  const type = req.headers['content-type'];
  if (!type) return false;
  const media = type.split(';', 1)[0]!.trim().toLowerCase();
  return media === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(media);
}

/**
 * The parsed JSON body of a POST, whether or not a body parser (`express.json()`) ran before us.
 * When we read the stream ourselves we leave the result where the next reader looks for it:
 * `req.body` (what `transport.handleRequest(req, res, req.body)` passes on), `req.rawBody`, and
 * body-parser's `req._body` flag so a later `express.json()` does not wait for a drained stream.
 */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<JsonBody> {
  if (req.method !== 'POST' || !isJson(req)) return UNAVAILABLE;
  const carrier = req as BodyCarrier;
  if (carrier.body !== undefined) {
    if (Buffer.isBuffer(carrier.body) || typeof carrier.body === 'string') return { available: true, value: parse(carrier.body.toString()) };
    return { available: true, value: carrier.body };
  }
  if (Buffer.isBuffer(carrier.rawBody)) return { available: true, value: parse(carrier.rawBody.toString('utf8')) };
  if (carrier._body || req.readableEnded) {
    // Someone drained the stream and kept nothing: the operation cannot be known, so fail closed.
    throw new Error('bearerAuth: the request body was consumed before bearerAuth ran and no parsed body was kept; mount bearerAuth before other body readers, or after express.json()');
  }
  const declared = Number(req.headers['content-length']);
  if (declared > limit) {
    req.resume();
    throw tooLarge();
  }

  const raw = await collect(req, limit);
  const value = parse(raw.toString('utf8'));
  carrier.rawBody = raw;
  carrier.body = value;
  carrier._body = true;
  return { available: true, value };
}

/**
 * Reads the stream up to `limit` bytes. Past the limit the rest is drained and discarded rather
 * than destroyed: destroying an IncomingMessage closes the socket and the 413 could not be sent.
 */
function collect(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.resume();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new JsonRpcHttpError(400, -32700, 'Parse error: the request body is not valid JSON');
  }
}

function tooLarge(): JsonRpcHttpError {
  return new JsonRpcHttpError(413, -32600, 'Invalid Request: the request body is too large');
}
