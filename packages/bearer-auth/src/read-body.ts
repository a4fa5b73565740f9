import type { IncomingMessage } from 'node:http';
import { JsonRpcHttpError } from './mcp-operations.js';

type BodyCarrier = IncomingMessage & { body?: unknown; rawBody?: unknown; _body?: boolean };

/** What {@link readJsonBody} found. */
export type JsonBody = { readonly available: false } | { readonly available: true; readonly value: unknown };

const UNAVAILABLE: JsonBody = { available: false };

/** RFC 9112 §6.3: a request has a body when it declares a non-zero length or a transfer coding. */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function isJson(req: IncomingMessage): boolean {
  const type = req.headers['content-type'];
  if (!type) return false;
  const media = type.split(';', 1)[0]!.trim().toLowerCase();
  return media === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(media);
}

/**
 * The parsed JSON body of a POST, whether or not a body parser (`express.json()`) ran before us;
 * a POST that is not JSON is refused (415). Read only when per-operation scopes are configured.
 * When we read the stream ourselves we leave the result where the next reader looks for it:
 * `req.body` (what `transport.handleRequest(req, res, req.body)` passes on), `req.rawBody`, and
 * body-parser's `req._body` flag so a later `express.json()` does not wait for a drained stream.
 */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<JsonBody> {
  if (req.method !== 'POST') return UNAVAILABLE;
  const carrier = req as BodyCarrier;
  // A parser that really parsed the body, whatever content types it was told to accept: its values
  // are what the handler behind us will see, so they decide the scopes. body-parser 1 flags that with
  // `_body` (and presets `body = {}` when it did not parse); body-parser 2 sets `body` only after
  // reading the whole stream.
  const parsed = carrier._body === true || req.readableEnded;
  if (parsed && carrier.body !== null && typeof carrier.body === 'object' && !Buffer.isBuffer(carrier.body)) {
    return { available: true, value: carrier.body };
  }
  // Fail closed: a body we cannot read as JSON could still carry a tools/call to a looser handler.
  // The MCP SDKs answer such a POST with 415 too.
  if (!isJson(req)) {
    if (!hasBody(req)) return UNAVAILABLE; // nothing to carry an operation
    throw new JsonRpcHttpError(415, -32600, 'Unsupported Media Type: MCP messages are POSTed as application/json');
  }
  if (parsed) {
    // A parser read the stream (express.text(), express.raw() on a JSON type): what it kept is all there is.
    if (Buffer.isBuffer(carrier.body) || typeof carrier.body === 'string') return { available: true, value: parse(carrier.body.toString()) };
    if (Buffer.isBuffer(carrier.rawBody)) return { available: true, value: parse(carrier.rawBody.toString('utf8')) };
    // Someone drained the stream and kept nothing: the operation cannot be known, so fail closed.
    throw new Error('bearerAuth: the request body was consumed before bearerAuth ran and no parsed body was kept; mount bearerAuth before other body readers, or after express.json()');
  }
  // The stream is unread, so the handler behind us will read it: only its bytes decide the scopes.
  // Whatever `req.body` holds now is not them (body-parser 1 presets `{}` in every parser it runs,
  // one that skipped a JSON body included), and is overwritten below with what was read.
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
