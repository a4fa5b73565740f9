import { describe, expect, it } from '@jest/globals';
import { ReadonlyURL, resourceUrl } from '../src/readonly-url.js';

describe('the read-only resource URL of an AuthInfo', () => {
  it('is a URL that reads like one and refuses every change', () => {
    const url = resourceUrl('https://mcp.portcullis.test/mcp?tenant=a#frag')!;
    expect(url).toBeInstanceOf(URL);
    expect(url).toBeInstanceOf(ReadonlyURL);
    expect([url.href, url.origin, url.pathname, url.search, url.hash, String(url), JSON.stringify(url)]).toEqual([
      'https://mcp.portcullis.test/mcp?tenant=a#frag',
      'https://mcp.portcullis.test',
      '/mcp',
      '?tenant=a',
      '#frag',
      'https://mcp.portcullis.test/mcp?tenant=a#frag',
      '"https://mcp.portcullis.test/mcp?tenant=a#frag"',
    ]);
    for (const part of ['href', 'protocol', 'username', 'password', 'host', 'hostname', 'port', 'pathname', 'search', 'hash'] as const) {
      expect(() => {
        (url as unknown as Record<string, string>)[part] = 'x';
      }).toThrow(TypeError);
    }
    url.searchParams.set('tenant', 'b'); // a detached copy
    expect(() => Object.assign(url, { extra: 1 })).toThrow(TypeError);
    expect(url.href).toBe('https://mcp.portcullis.test/mcp?tenant=a#frag');
    expect(new URL(url).href).toBe(url.href); // a mutable copy is one constructor away
  });

  it('is one shared instance per resource, and no URL at all for a non-URL audience', () => {
    expect(resourceUrl('https://mcp.portcullis.test/mcp')).toBe(resourceUrl('https://mcp.portcullis.test/mcp'));
    expect(resourceUrl('urn:portcullis:api')).toBeInstanceOf(URL); // a URN is a URL too
    expect(resourceUrl('plain audience')).toBeUndefined();
  });
});
