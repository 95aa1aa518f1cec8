import { runInNewContext } from 'node:vm';
import t from 'tap';
import { viewerAppConfig } from './app-config.js';
import { viewerPolicy } from './viewer-routes.js';

const CAPS = { qidoSupportsIncludeField: true, supportsFuzzyMatching: true, supportsWildcard: true, thumbnails: true };

/** Runs the generated script as the browser would, and returns what it assigned to window. */
function evaluate(script: string): { config: Record<string, unknown>; publicUrl: string } {
  const window: Record<string, unknown> = {};
  runInNewContext(script, { window });
  return { config: window.config as Record<string, unknown>, publicUrl: window.PUBLIC_URL as string };
}

t.test('without sign-in the config has no oidc entry (OHIF then asks for no login)', async (t) => {
  const { config } = evaluate(viewerAppConfig('http://pacs.example:8080', CAPS));
  t.notOk('oidc' in config);
});

t.test("with sign-in: OHIF's oidc entry, authorization code (PKCE) flow, absolute redirect URIs under the prefix", async (t) => {
  const signIn = { authority: 'https://idp.example/realms/hospital', clientId: 'tessera-viewer', scope: 'openid profile tessera' };
  const { config, publicUrl } = evaluate(viewerAppConfig('https://pacs.example/tessera', CAPS, signIn));
  t.equal(publicUrl, '/tessera/');
  t.same(config.oidc, [
    {
      authority: 'https://idp.example/realms/hospital',
      client_id: 'tessera-viewer',
      redirect_uri: 'https://pacs.example/tessera/callback',
      post_logout_redirect_uri: 'https://pacs.example/tessera/',
      response_type: 'code',
      scope: 'openid profile tessera',
      revokeAccessTokenOnSignout: true,
    },
  ]);
  t.notMatch(JSON.stringify(config), /client_secret/, 'a public client: no secret in the browser');
});

t.test('the viewer CSP lets the page reach the identity provider only when sign-in is on', async (t) => {
  const plain = viewerPolicy([], 'http://pacs.example:8080');
  t.notMatch(plain, /idp\.example/);
  t.notMatch(plain, /frame-src/);
  const signedIn = viewerPolicy([], 'http://pacs.example:8080', 'https://idp.example');
  t.match(signedIn, /connect-src 'self' http:\/\/pacs\.example:8080 https:\/\/idp\.example data: blob:/);
  t.match(signedIn, /frame-src 'self' https:\/\/idp\.example(;|$)/);
  t.match(signedIn, /form-action 'self'/, 'nothing else loosened');
});
