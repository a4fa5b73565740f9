// The authorization-server stub, in its own process: RFC 8414 metadata, the JWKS, and an RFC 7662
// introspection endpoint that answers after INTROSPECTION_DELAY_MS (20 ms) and counts its calls.
// GET /stats returns the counters, POST /reset zeroes them. Loopback only.
import { createServer } from 'node:http';

const jwks = JSON.stringify(JSON.parse(process.env.BENCH_JWKS));
const opaque = new Map(Object.entries(JSON.parse(process.env.BENCH_OPAQUE_TOKENS ?? '{}')));
const delay = Number(process.env.INTROSPECTION_DELAY_MS ?? 20);
const counts = { jwks: 0, metadata: 0, introspection: 0 };
let issuer = '';

function readBody(req) {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body += c));
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

function send(res, status, body) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

const server = createServer(async (req, res) => {
  const path = req.url.split('?')[0];
  if (req.method === 'GET' && (path === '/.well-known/oauth-authorization-server' || path === '/.well-known/openid-configuration')) {
    counts.metadata++;
    return send(res, 200, {
      issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      jwks_uri: `${issuer}/jwks`,
      introspection_endpoint: `${issuer}/introspect`,
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'none'],
      introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    });
  }
  if (req.method === 'GET' && path === '/jwks') {
    counts.jwks++;
    res.writeHead(200, { 'content-type': 'application/jwk-set+json', 'content-length': Buffer.byteLength(jwks) });
    return res.end(jwks);
  }
  if (req.method === 'POST' && path === '/introspect') {
    counts.introspection++;
    const body = new URLSearchParams(await readBody(req));
    const token = body.get('token');
    await new Promise((r) => setTimeout(r, delay));
    const claims = token ? opaque.get(token) : undefined;
    if (!claims) return send(res, 200, { active: false });
    const now = Math.floor(Date.now() / 1000);
    return send(res, 200, { active: true, token_type: 'Bearer', iss: issuer, iat: now, exp: now + 3600, ...claims });
  }
  if (req.method === 'GET' && path === '/stats') return send(res, 200, counts);
  if (req.method === 'POST' && path === '/reset') {
    counts.jwks = counts.metadata = counts.introspection = 0;
    return send(res, 200, counts);
  }
  send(res, 404, { error: 'not_found' });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.BENCH_AUTHORITY_PORT ?? 0), '127.0.0.1', () => {
  issuer = `http://127.0.0.1:${server.address().port}`;
  process.send?.({ ready: true, issuer });
});
process.on('disconnect', () => process.exit(0));
