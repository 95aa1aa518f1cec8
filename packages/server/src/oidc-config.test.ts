import t from 'tap';
import { ConfigError, loadConfig } from './config.js';

const ISSUER = 'https://keycloak.example.org/realms/hospital';

t.test('OIDC settings: read, validated, and absent without OIDC_ISSUER', async (t) => {
  t.equal(loadConfig({}).oidc, undefined, 'no issuer: no OpenID Connect');
  const config = loadConfig({
    AUTH_MODE: 'oidc',
    OIDC_ISSUER: `${ISSUER}/`,
    OIDC_AUDIENCE: 'tessera, account',
    OIDC_SCOPES_CLAIM: 'realm_access.roles',
    OIDC_SCOPE_MAP: 'radiologist:read,uploader:read,uploader:write',
    OIDC_CLOCK_TOLERANCE_S: '5',
    OIDC_VIEWER_CLIENT_ID: 'tessera-viewer',
  });
  t.same(config.auth.methods, ['oidc']);
  t.equal(config.oidc?.issuer, `${ISSUER}/`, 'the issuer is kept exactly (a trailing slash is part of iss)');
  t.same(config.oidc?.audience, ['tessera', 'account']);
  t.equal(config.oidc?.scopesClaim, 'realm_access.roles');
  t.same(config.oidc?.scopeMap && Object.fromEntries(config.oidc.scopeMap), { radiologist: ['read'], uploader: ['read', 'write'] });
  t.equal(config.oidc?.clockToleranceSeconds, 5);
  t.equal(config.oidc?.viewerClientId, 'tessera-viewer');
  t.equal(config.oidc?.viewerScope, 'openid profile', 'default viewer scope');
  t.equal(loadConfig({ OIDC_ISSUER: ISSUER, OIDC_AUDIENCE: 'x' }).oidc?.clockToleranceSeconds, 30, 'default tolerance');
});

t.test('OIDC settings that would open the server to the wrong tokens are refused at start', async (t) => {
  t.throws(() => loadConfig({ OIDC_ISSUER: ISSUER }), ConfigError, 'no audience');
  t.throws(() => loadConfig({ OIDC_ISSUER: 'keycloak.example.org', OIDC_AUDIENCE: 'x' }), ConfigError, 'issuer not a URL');
  t.throws(() => loadConfig({ OIDC_ISSUER: 'ftp://idp.example', OIDC_AUDIENCE: 'x' }), ConfigError, 'issuer not http(s)');
  t.throws(() => loadConfig({ OIDC_ISSUER: ISSUER, OIDC_AUDIENCE: 'x', OIDC_SCOPE_MAP: 'radiologist:reader' }), /OIDC_SCOPE_MAP/, 'unknown scope in the map');
  t.throws(() => loadConfig({ OIDC_ISSUER: ISSUER, OIDC_AUDIENCE: 'x', OIDC_CLOCK_TOLERANCE_S: '3600' }), ConfigError, 'tolerance above 600 s');
  t.throws(() => loadConfig({ OIDC_AUDIENCE: 'x' }), /need OIDC_ISSUER/, 'an audience without an issuer');
  t.throws(() => loadConfig({ AUTH_MODE: 'oidc' }), /OIDC_ISSUER/, 'AUTH_MODE=oidc without an issuer');
});
