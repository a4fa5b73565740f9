import { describe, expect, it } from '@jest/globals';
import { createTestKey, mintAccessToken } from '@portcullis/test-fixtures';
import { checkPhase } from '../src/check-phase.js';
import { createJwtVerifier } from '../src/index.js';

const ISSUER = 'https://issuer.portcullis.test';
const RESOURCE = 'https://mcp.portcullis.test/mcp';
const claims = { iss: ISSUER, aud: RESOURCE, sub: 'alice', client_id: 'app', scope: 'mcp:tools' };

/**
 * Runs each function in a callback of its own, all in one phase of one turn (as requests read in one
 * poll phase). Immediates queued together run in the same check phase, always; `setTimeout(fn, 0)`
 * does not promise that: on a busy machine the clock can tick between two of them, and the later
 * one waits a turn.
 */
function inOneTurn(...callbacks: (() => void)[]): void {
  for (const callback of callbacks) setImmediate(callback);
}

describe('checkPhase', () => {
  it('gives everyone who asks in one turn the same release, and a new one after it', async () => {
    const first = checkPhase();
    expect(checkPhase()).toBe(first);
    await first;
    const next = checkPhase();
    expect(next).not.toBe(first);
    await next;
  });

  it('releases after the callbacks of the turn it was asked in', async () => {
    const events: string[] = [];
    await new Promise<void>((resolve) => {
      inOneTurn(
        () => void checkPhase().then(() => events.push('released')),
        () => events.push('later callback of the same turn'),
        () => resolve(),
      );
    });
    await checkPhase();
    expect(events).toEqual(['later callback of the same turn', 'released']);
  });
});

describe('createJwtVerifier: the signature checks of one turn', () => {
  it('checks the new tokens asked for in one turn back to back, before any of their callers goes on', async () => {
    const key = await createTestKey('ES256');
    const events: string[] = [];
    // The claim checks read the clock: a reading marks a token being checked.
    const currentDate = () => (events.push('check'), new Date());
    const verify = createJwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwks: { keys: [key.publicJwk] }, currentDate });
    await verify(await mintAccessToken(key, claims)); // the header is now known
    const tokens = await Promise.all(['a', 'b', 'c'].map((sub) => mintAccessToken(key, { ...claims, sub })));
    events.length = 0;
    const settled: Promise<unknown>[] = [];
    await new Promise<void>((resolve) => {
      inOneTurn(...tokens.map((token) => () => void settled.push(verify(token).then((info) => events.push(`admitted ${info.subject}`)))), resolve);
    });
    await Promise.all(settled);
    const admitted = events.filter((event) => event.startsWith('admitted'));
    expect(admitted).toEqual(['admitted a', 'admitted b', 'admitted c']);
    expect(events.lastIndexOf('check')).toBeLessThan(events.indexOf('admitted a'));
  });
});
