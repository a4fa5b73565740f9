import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import type { InteractionResults } from 'oidc-provider';

type Details = Awaited<ReturnType<Provider['interactionDetails']>>;
interface Missing {
  missingOIDCScope?: string[];
  missingOIDCClaims?: string[];
  missingResourceScopes?: Record<string, string[]>;
}

/** A grant holding everything the pending request asks for. */
async function consentResult(provider: Provider, details: Details): Promise<InteractionResults> {
  const clientId = details.params['client_id'] as string;
  const accountId = details.session?.accountId;
  if (!accountId) throw new Error('consent without a signed-in account');
  const existing = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
  const grant = existing ?? new provider.Grant({ accountId, clientId });
  const missing = details.prompt.details as Missing;
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  return { consent: { grantId: await grant.save() } };
}

/** Headless runs: signs in as `subject` and approves every requested scope and resource. */
export async function autoApprove(provider: Provider, req: IncomingMessage, res: ServerResponse, subject: string): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  const result: InteractionResults =
    details.prompt.name === 'login' ? { login: { accountId: subject } } : await consentResult(provider, details);
  await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: details.prompt.name !== 'login' });
}

const escapeHtml = (value: string): string =>
  value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// The pages never frame and run no script (B-03: consent pages forbid framing).
const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
};

/**
 * Headers of the sign-in and consent pages. Browsers apply `form-action` to every redirect that follows
 * a form submission, and these forms end in a redirect to the client, so the client's redirect URI
 * origin (already checked by oidc-provider against its registration) is allowed besides `'self'`.
 */
function pageHeaders(redirectUri: unknown): Record<string, string> {
  let origin = '';
  try {
    const url = new URL(String(redirectUri));
    if (url.protocol === 'http:' || url.protocol === 'https:') origin = ` ${url.origin}`;
  } catch {
    // No usable redirect URI: keep 'self' only.
  }
  return {
    ...PAGE_HEADERS,
    'content-security-policy': `default-src 'none'; style-src 'unsafe-inline'; form-action 'self'${origin}; frame-ancestors 'none'`,
  };
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font:16px system-ui;max-width:32rem;margin:4rem auto;padding:0 1rem}code{background:#eee;padding:0 .2em}
button{font:inherit;padding:.4rem 1rem}</style></head><body>
<p><strong>Development authorization server — not for production.</strong></p><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  let raw = '';
  for await (const chunk of req as AsyncIterable<Buffer>) {
    raw += chunk.toString('utf8');
    if (raw.length > 8 * 1024) throw new Error('form too large');
  }
  return new URLSearchParams(raw);
}

/**
 * Browser runs: a sign-in page (any user name, no password: this is a dev server), then a consent
 * page naming the client, its redirect URI and every scope per resource. The interaction itself is
 * bound to the browser by oidc-provider's interaction cookie, so a forged POST from another origin
 * has no interaction to finish.
 */
export async function browserInteraction(provider: Provider, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  const { uid, prompt, params } = details;
  const action = new URL(req.url ?? '/', 'http://localhost').pathname.split('/')[3];

  if (req.method === 'POST') {
    const form = await readForm(req);
    if (action === 'abort') {
      await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'The user refused.' }, { mergeWithLastSubmission: false });
    } else if (action === 'login' && prompt.name === 'login') {
      const accountId = form.get('username')?.trim();
      if (!accountId) {
        res.writeHead(400, PAGE_HEADERS).end(page('Sign in', '<p>A user name is needed.</p>'));
        return;
      }
      await provider.interactionFinished(req, res, { login: { accountId } }, { mergeWithLastSubmission: false });
    } else if (action === 'confirm' && prompt.name === 'consent') {
      await provider.interactionFinished(req, res, await consentResult(provider, details), { mergeWithLastSubmission: true });
    } else {
      res.writeHead(400, PAGE_HEADERS).end(page('Unexpected step', '<p>Start again from the application.</p>'));
    }
    return;
  }

  const client = await provider.Client.find(params['client_id'] as string);
  const clientName = escapeHtml(client?.clientName ?? (params['client_id'] as string));
  const abort = `<form method="post" action="/interaction/${uid}/abort"><button type="submit">Cancel</button></form>`;
  if (prompt.name === 'login') {
    res.writeHead(200, pageHeaders(params['redirect_uri'])).end(
      page(
        'Sign in',
        `<p><code>${clientName}</code> asks you to sign in.</p>
<form method="post" action="/interaction/${uid}/login"><label>User name <input name="username" autofocus required value="demo-user"></label>
<button type="submit" id="sign-in">Sign in</button></form>${abort}`,
      ),
    );
    return;
  }
  const missing = prompt.details as Missing;
  const resources = Object.entries(missing.missingResourceScopes ?? {})
    .map(([indicator, scopes]) => `<li><code>${escapeHtml(indicator)}</code>: ${scopes.map((s) => `<code>${escapeHtml(s)}</code>`).join(' ')}</li>`)
    .join('');
  res.writeHead(200, pageHeaders(params['redirect_uri'])).end(
    page(
      'Allow access?',
      `<p><code>${clientName}</code> will be sent back to <code>${escapeHtml(String(params['redirect_uri'] ?? ''))}</code> and asks for:</p>
<ul>${resources || '<li>no resource scopes</li>'}${(missing.missingOIDCScope ?? []).map((s) => `<li><code>${escapeHtml(s)}</code></li>`).join('')}</ul>
<form method="post" action="/interaction/${uid}/confirm"><button type="submit" id="allow">Allow</button></form>${abort}`,
    ),
  );
}
