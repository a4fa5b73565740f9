// oidc-provider warns at import that Node 20 is not its preferred LTS, and that the dev AS uses its
// in-memory adapter; both are expected here, so only those two lines are dropped.
const EXPECTED = [/^oidc-provider WARNING: Unsupported runtime/, /^oidc-provider WARNING: a quick start development-only in-memory adapter/];
const warn = console.warn.bind(console);
console.warn = (...args: unknown[]) => {
  if (typeof args[0] === 'string' && EXPECTED.some((pattern) => pattern.test(args[0] as string))) return;
  warn(...args);
};
