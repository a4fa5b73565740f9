// oidc-provider warns at import that Node 20 is not its preferred LTS, that the dev AS uses its
// in-memory adapter, and that the dev AS read a registration body before it (to drop resource
// scopes, see examples/dev-authorization-server). All three are expected; only they are dropped.
const EXPECTED = [
  /^oidc-provider WARNING: Unsupported runtime/,
  /^oidc-provider WARNING: a quick start development-only in-memory adapter/,
  /^oidc-provider WARNING: already parsed request body detected/,
];
const warn = console.warn.bind(console);
console.warn = (...args: unknown[]) => {
  if (typeof args[0] === 'string' && EXPECTED.some((pattern) => pattern.test(args[0] as string))) return;
  warn(...args);
};

// bearer-auth logs each 503's reason by default (its onUnavailable); the tests that provoke outages
// on purpose would fill the output with it. The test of that default replaces console.error itself.
const error = console.error.bind(console);
console.error = (...args: unknown[]) => {
  if (typeof args[0] === 'string' && (args[0].startsWith('bearerAuth() answered 503: ') || args[0] === 'bearerAuth(): onUnavailable threw')) return;
  error(...args);
};
