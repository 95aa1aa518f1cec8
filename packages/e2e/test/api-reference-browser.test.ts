import t from 'tap';
import { startTestServer } from '@tessera/testkit';
import { browserSkip, launchBrowser, screenshot, waitFor, watchPage } from './browser-helpers.js';

/**
 * Issue #16: the rendered API reference at /api/docs works in a real browser (Debian's Chromium) under
 * the page's own Content-Security-Policy and the server's security headers, with nothing fetched from
 * anywhere but this server: it lists the operations of /openapi.json.
 */

t.test('/api/docs renders every tag of the OpenAPI document in Chromium', { skip: browserSkip() }, async (t) => {
  const server = await startTestServer('embedded', { AUTH_MODE: 'apikey' });
  t.teardown(() => server.close());
  const context = await launchBrowser(t);
  const page = await context.newPage();
  const log = watchPage(page);
  await page.goto(`${server.url}/api/docs`);
  const operations = await waitFor(
    page,
    () => page.locator('.opblock').count(),
    (n) => n > 40,
  );
  await screenshot(page, 'api-reference');
  t.ok(operations > 40, `${operations} operations rendered`);
  const tags = await page.locator('.opblock-tag').allInnerTexts();
  for (const tag of ['STOW-RS', 'QIDO-RS', 'WADO-RS', 'WADO-URI', 'admin'])
    t.ok(
      tags.some((text) => text.includes(tag)),
      `tag ${tag} shown`,
    );
  t.same(log.errors, [], 'no console errors (no CSP violation)');
  t.same(log.failed, [], 'no failed request');
  t.same(
    log.requested.filter((url) => !url.startsWith(server.url) && !url.startsWith('data:')),
    [],
    'nothing asked of another host',
  );
});
