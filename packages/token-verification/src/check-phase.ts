/**
 * Internal: the signature checks of one turn of the event loop, run together.
 *
 * A loaded server reads many requests in one poll phase. Checked as each arrives, every signature
 * check runs between two passes through the HTTP stack, which push OpenSSL's code and tables out of
 * the CPU caches: an ES256 verification then costs half as much again as in a tight loop. Checks that
 * wait for the check phase (`setImmediate`) run back to back instead, and the requests they admit
 * then go on one after the other too (measured in bench/README.md, "Checks of one turn together").
 * One idle turn is all it costs a lone request.
 */
// The module's own function, bound at import: Jest's fake timers replace the global, not this. A
// runner that fakes node:timers itself still stalls it (token-verification's README).
import { setImmediate } from 'node:timers';

let pending: Promise<void> | undefined;

/** Resolves in the next check phase; everyone who asks in this turn is released together. */
export function checkPhase(): Promise<void> {
  return (pending ??= new Promise((resolve) => {
    setImmediate(() => {
      pending = undefined;
      resolve();
    });
  }));
}
