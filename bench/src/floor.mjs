// The crypto floor, measured in a process of its own on the servers' CPU before any server starts.
// Measured in the orchestrator right after it had minted 70,000 tokens (a large heap, a collector
// with work to do), it moved from 61 to 105 µs between runs (bench/README.md, "Where the checks stand").
// Input: BENCH_FLOOR_INPUT, JSON { jwks, tokens: { ES256, RS256 } }. Sends { floor } over IPC.
import { createPublicKey, verify } from 'node:crypto';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { median } from './stats.mjs';

const { jwks, tokens } = JSON.parse(process.env.BENCH_FLOOR_INPUT);
const BATCHES = 7;

/** µs per op of `batch(ops)`, the median of several batches after a warm-up batch, so a stray interruption counts once. */
async function perOp(batch, ops) {
  await batch(ops);
  const batches = [];
  for (let b = 0; b < BATCHES; b++) {
    const t0 = process.hrtime.bigint();
    await batch(ops);
    batches.push(Number(process.hrtime.bigint() - t0) / 1e3 / ops);
  }
  return median(batches);
}

/** One synchronous node:crypto verification of `token` on its key, as bearer-auth's fast path makes it. */
function nodeVerify(alg, jwk, token) {
  const [h, p, s] = token.split('.');
  const data = Buffer.from(`${h}.${p}`);
  const signature = Buffer.from(s, 'base64url');
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  const options = alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key;
  return (ops) => {
    for (let i = 0; i < ops; i++) if (!verify('sha256', data, options, signature)) throw new Error('floor: verification failed');
  };
}

const keySet = createLocalJWKSet(jwks);
const joseVerify = (token) => async (ops) => {
  for (let i = 0; i < ops; i++) await jwtVerify(token, keySet);
};
const [es, rs] = jwks.keys;
const floor = {
  ES256: await perOp(nodeVerify('ES256', es, tokens.ES256), 500),
  RS256: await perOp(nodeVerify('RS256', rs, tokens.RS256), 500),
  joseES256: await perOp(joseVerify(tokens.ES256), 300),
  joseRS256: await perOp(joseVerify(tokens.RS256), 300),
};
process.send({ floor }, () => process.disconnect());
