import t from 'tap';
import { readShared, sharedFiles, startOidcProvider, startTestServer } from '@tessera/testkit';
import { browserSkip, launchBrowser, screenshot, viewportState, waitFor, watchPage } from './browser-helpers.js';

/**
 * Issue #13: the hosted OHIF viewer signs in with the server's OpenID Connect provider (a real one,
 * oidc-provider, with its password login page) through the authorization code flow with PKCE, then
 * shows a study with every DICOMweb request carrying the access token. Debian's Chromium, driven
 * by playwright-core.
 */
const CT_STUDY = '1.2.826.0.1.3680043.9.4245.1760717064491086528325869788156915668';

t.test('the hosted viewer signs in with the provider and shows a study', { skip: browserSkip() }, async (t) => {
  const idp = await startOidcProvider();
  t.teardown(() => idp.close());
  const server = await startTestServer('embedded', {
    AUTH_MODE: 'oidc',
    OIDC_ISSUER: idp.issuer,
    OIDC_AUDIENCE: idp.audience,
    OIDC_VIEWER_CLIENT_ID: idp.viewerClientId,
    OIDC_VIEWER_SCOPE: 'openid profile read',
  });
  t.teardown(() => server.close());
  const writer = await idp.clientCredentialsToken(['write']);
  for (const path of sharedFiles('series/ct-ge-hispeed-tilt-28')) {
    const res = await fetch(`${server.url}/dicomweb/studies`, {
      method: 'POST',
      headers: { 'content-type': 'application/dicom', authorization: `Bearer ${writer}` },
      body: readShared(path),
    });
    t.equal(res.status, 200, `STOW ${path}`);
  }

  const context = await launchBrowser(t);

  // Without signing in: the viewer's own files load, patient data does not.
  const anonymousPage = await context.newPage();
  await anonymousPage.goto(`${server.url}/app-config.js`);
  const patientUrls = [
    '/dicomweb/studies',
    `/dicomweb/studies/${CT_STUDY}/metadata`,
    `/ohif/dicomjson/studies/${CT_STUDY}`,
    `/ohif/study/${CT_STUDY}/series`,
    `/wadouri?requestType=WADO&studyUID=${CT_STUDY}&seriesUID=1&objectUID=1`,
  ];
  const anonymousAnswers = await anonymousPage.evaluate<[string, number, string, boolean][]>(
    `Promise.all(${JSON.stringify(patientUrls)}.map(async (u) => { const r = await fetch(u); return [u, r.status, r.headers.get('content-type'), /00100010|00100020|PatientName/.test(await r.text())]; }))`,
  );
  for (const [url, status, type, leaks] of anonymousAnswers) {
    t.equal(status, 401, `without signing in: ${url} answers 401`);
    t.match(type, /^application\/problem\+json/, 'a problem body');
    t.notOk(leaks, `without signing in: ${url} holds no patient name or id`);
  }
  await anonymousPage.close();

  const page = await context.newPage();
  const log = watchPage(page);
  const apiRequests: { url: string; authorization?: string }[] = [];
  page.on('request', (request) => {
    if (request.url().startsWith(`${server.url}/dicomweb/`) && request.method() !== 'OPTIONS') {
      apiRequests.push({ url: request.url(), authorization: request.headers().authorization });
    }
  });

  await page.goto(`${server.url}/viewer?StudyInstanceUIDs=${CT_STUDY}`);
  // OHIF finds no signed-in user and sends the browser to the provider's authorization endpoint.
  await page.waitForURL((url) => url.href.startsWith(`${idp.issuer}/interaction/`), { timeout: 60_000 });
  t.ok(page.url().startsWith(idp.issuer), 'redirected to the identity provider');
  await page.waitForSelector('input[name="login"]');
  await screenshot(page, 'sign-in-login-page');
  t.equal(apiRequests.length, 0, 'no DICOMweb request before signing in');
  await page.fill('input[name="login"]', 'alice');
  await page.fill('input[name="password"]', 'correct horse battery staple');
  await page.click('button[type="submit"]');
  // The consent page of the provider's development interactions.
  await page.waitForSelector('button[type="submit"]:has-text("Continue")', { timeout: 30_000 });
  await page.click('button[type="submit"]');

  await page.waitForURL((url) => url.href.startsWith(`${server.url}/viewer`), { timeout: 60_000 });
  t.ok(page.url().includes(`StudyInstanceUIDs=${CT_STUDY}`), 'back from /callback to the study that was asked for');
  const state = await waitFor(
    page,
    () => viewportState(page),
    (s) => !!s && s.distinctGrey > 16 && s.imageIds === 28,
    60_000,
  );
  await screenshot(page, 'sign-in-study');
  t.ok(state && state.rows > 0 && state.columns > 0, `an image is loaded (${state?.columns}×${state?.rows})`);
  t.ok(state && state.distinctGrey > 16 && state.stdDev > 5, `the canvas is drawn (${state?.distinctGrey} grey levels)`);
  t.equal(state?.imageIds, 28, 'the whole series');

  t.ok(apiRequests.length > 3, `the viewer made DICOMweb requests (${apiRequests.length})`);
  const unsigned = apiRequests.filter((r) => !/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/.test(r.authorization ?? ''));
  t.same(
    unsigned.map((r) => r.url),
    [],
    'every DICOMweb request carried the access token',
  );
  t.same(
    log.errors.filter((e) => /Content Security Policy|Refused to/i.test(e)),
    [],
    'no CSP violation',
  );

  // The signed-in user's token (where OHIF's OIDC client keeps it) opens the JSON routes too.
  const jsonAnswers = await page.evaluate<[boolean, number, number]>(`(async () => {
    const key = Object.keys(sessionStorage).find((k) => k.startsWith('oidc.user:'));
    const token = key && JSON.parse(sessionStorage.getItem(key)).access_token;
    const get = async (u) => (await fetch(u, { headers: { authorization: 'Bearer ' + token } })).status;
    return [!!token, await get('/ohif/dicomjson/studies/${CT_STUDY}'), await get('/ohif/study/${CT_STUDY}/series')];
  })()`);
  t.same(jsonAnswers, [true, 200, 200], 'the v3 and legacy JSON routes answer the signed-in user');

  // A dicomjson link (whose JSON OHIF would fetch without the token) opens the study through dicomweb.
  // A full page load starts OHIF afresh: it asks the provider again, whose session still knows the
  // user (no password this time; the development interactions ask for consent again).
  await page.goto(`${server.url}/viewer/dicomjson?url=${encodeURIComponent(`${server.url}/ohif/dicomjson/studies/${CT_STUDY}`)}`);
  t.match(
    page.url(),
    new RegExp(`/viewer\\?StudyInstanceUIDs=${CT_STUDY.replaceAll('.', '\\.')}$`),
    'the dicomjson link is redirected to the dicomweb data source',
  );
  await page.waitForURL((url) => url.href.startsWith(idp.issuer), { timeout: 60_000 });
  await page.waitForSelector('button[type="submit"]');
  t.equal(await page.locator('input[name="password"]').count(), 0, 'the provider does not ask for the password again');
  await page.click('button[type="submit"]');
  await page.waitForURL((url) => url.href.startsWith(`${server.url}/viewer`), { timeout: 60_000 });
  const again = await waitFor(
    page,
    () => viewportState(page),
    (s) => !!s && s.distinctGrey > 16 && s.imageIds === 28,
    60_000,
  );
  t.ok(again && again.distinctGrey > 16, `and the study is drawn, still signed in (${page.url()})`);
});
