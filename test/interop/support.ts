import { randomUUID } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  createHeadlessAuthorizationHandler,
  createMemoryStore,
  createOAuthClient,
  withOAuth,
  type McpOAuthClient,
  type OAuthClientOptions,
  type TokenStore,
} from '@portcullis/mcp-oauth-client';

/** The headless handler never requests the redirect URI, so nothing listens there. */
export const REDIRECT_URI = 'http://127.0.0.1:65001/callback';

/**
 * What an application keeps for either SDK's OAuthClientProvider: everything in memory, as the SDKs'
 * own examples keep it, and the authorization URL instead of a browser. Typed by each SDK's client
 * and token records; the SDK-specific hooks live in each interop test's subclass.
 */
export class InMemoryProvider<ClientInfo, Tokens> {
  client: ClientInfo | undefined;
  saved: Tokens | undefined;
  verifier = '';
  expectedState = '';
  authorizationUrl: URL | undefined;
  constructor(private readonly clientName: string) {}
  get redirectUrl() {
    return REDIRECT_URI;
  }
  get clientMetadata() {
    return {
      client_name: this.clientName,
      redirect_uris: [REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  state() {
    this.expectedState = randomUUID();
    return this.expectedState;
  }
  clientInformation() {
    return this.client;
  }
  saveClientInformation(info: ClientInfo) {
    this.client = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: Tokens) {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
}

/** One MCP request as the resource server answered it, seen on the wire by the client. */
export interface Exchange {
  readonly method: string;
  readonly rpc: string | undefined;
  readonly status: number;
  readonly challenge: string | null;
}

/** A fetch that records what the MCP server answered (status, challenge), for assertions. */
export function recordingFetch(log: Exchange[]): typeof fetch {
  return async (input, init = {}) => {
    const response = await fetch(input, init);
    let rpc: string | undefined;
    if (typeof init.body === 'string') {
      const json = JSON.parse(init.body) as { method?: string; params?: { name?: string } };
      rpc = json.method && (json.params?.name ? `${json.method} ${json.params.name}` : json.method);
    }
    log.push({ method: init.method ?? 'GET', rpc, status: response.status, challenge: response.headers.get('www-authenticate') });
    return response;
  };
}

export interface OurClient {
  readonly mcp: Client;
  readonly oauth: McpOAuthClient;
  readonly store: TokenStore;
  readonly exchanges: Exchange[];
}

/** Our client (`withOAuth` + the headless handler) inside the MCP SDK 1.x client, connected to `url`. */
export async function connectOurClient(url: string, options: Partial<OAuthClientOptions> = {}): Promise<OurClient> {
  const store = createMemoryStore();
  const exchanges: Exchange[] = [];
  const oauth = createOAuthClient({
    redirectUri: REDIRECT_URI,
    allowInsecureLoopback: true,
    authorizationHandler: createHeadlessAuthorizationHandler(),
    store,
    ...options,
  });
  const mcp = new Client({ name: 'portcullis-interop', version: '0.0.0' });
  await mcp.connect(new StreamableHTTPClientTransport(new URL(url), { fetch: withOAuth(recordingFetch(exchanges), oauth) }));
  return { mcp, oauth, store, exchanges };
}

/** The text of a tool result, parsed as JSON when it is. */
export function toolJson(result: unknown): Record<string, unknown> {
  const content = (result as { content?: { type: string; text?: string }[] }).content ?? [];
  return JSON.parse(content.map((c) => c.text ?? '').join('')) as Record<string, unknown>;
}
