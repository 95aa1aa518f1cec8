import t from 'tap';
import { parseShareToken } from '@tessera/access';
import { backendNames, readShared } from '@tessera/testkit';
import { bearer } from '../access/access-fixture.js';
import { bulkDataUris } from '../retrieve-helpers.js';
import { OTHER_MR, PDF, SHARED_CT, cookieOf, createShare, startShareServer } from './share-fixture.js';

/**
 * Issue #14, at the API level on every back end: creating, listing, opening and revoking share
 * links; what a share cookie may read (one study, every retrieve form) and what it may not (other
 * studies, STOW, admin routes); QIDO-RS limited in the query; revocation and expiry seen by a server
 * process through the database; the audit events; no token in the log.
 */
type Json = Record<string, { Value?: unknown[] }>;
const studiesOf = (body: string) => (body ? (JSON.parse(body) as Json[]) : []).map((d) => (d['0020000D']?.Value ?? [])[0]);

for (const backend of backendNames()) {
  t.test(`${backend}: share links`, async (t) => {
    const server = await startShareServer(t, backend, { AUTH_KEY_CACHE_SECONDS: '1', TRUST_PROXY: 'true' });
    const { app, studies } = server;
    const ct = studies[SHARED_CT]!;
    const mr = studies[OTHER_MR]!;
    const admin = bearer(server.adminKey);

    await t.test('create: admin scope, validated body, the link once', async (t) => {
      const post = (payload: unknown, headers = admin) => app.inject({ method: 'POST', url: '/api/shares', headers, payload: payload as object });
      t.equal((await post({ studyInstanceUid: ct, expiresIn: '7d' }, bearer(server.writeKey))).statusCode, 403, 'a write key may not share');
      t.equal((await post({ studyInstanceUid: ct, expiresIn: '7d' }, {})).statusCode, 401);
      t.equal((await post({ studyInstanceUid: 'not a uid', expiresIn: '7d' })).statusCode, 400);
      t.equal((await post({ studyInstanceUid: ct, expiresIn: '7 days' })).statusCode, 400);
      t.equal((await post({ studyInstanceUid: ct, expiresIn: '31d' })).statusCode, 400, 'longer than SHARE_MAX_DAYS (30)');
      t.equal((await post({ studyInstanceUid: ct, expiresIn: '7d', extra: 1 })).statusCode, 400);
      const missing = await post({ studyInstanceUid: '1.2.3.4', expiresIn: '7d' });
      t.equal(missing.statusCode, 404, 'a study that is not stored');
      const created = await post({ studyInstanceUid: ct, expiresIn: '7d', note: 'for Dr Who' });
      t.equal(created.statusCode, 201);
      t.equal(created.headers['cache-control'], 'no-store');
      const body = created.json();
      t.match(body.link, /^http:\/\/[^/]+\/s\/tsl_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
      t.equal(body.studyInstanceUid, ct);
      t.equal(body.note, 'for Dr Who');
      t.equal(body.state, 'active');
      const days = (Date.parse(body.expiresAt) - Date.now()) / 86_400_000;
      t.ok(days > 6.99 && days <= 7, `expires in 7 days (${days.toFixed(3)})`);
      const stored = await server.storage.index.shares.find(body.id);
      // The whole secret (base64url may hold '_': the last '_'-separated piece could be a few characters or none).
      const { secret } = parseShareToken(body.link.slice(body.link.lastIndexOf('/') + 1))!;
      t.equal(secret.length, 43);
      t.notOk(JSON.stringify(stored).includes(secret), 'the secret is not stored');
      const list = await app.inject({ url: '/api/shares', headers: admin });
      t.equal(list.statusCode, 200);
      t.same(
        list.json().shares.map((s: { id: string }) => s.id),
        [body.id],
      );
      t.notMatch(list.body, /tsl_|secret/i, 'the list holds no token or hash');
      t.equal((await app.inject({ url: `/api/shares?study=${ct}`, headers: admin })).json().shares.length, 1);
      t.equal((await app.inject({ url: `/api/shares?study=${mr}`, headers: admin })).json().shares.length, 0);
    });

    const share = await createShare(server, { studyInstanceUid: ct, expiresIn: 3600 });

    await t.test('open: a cookie for the share, a redirect to the viewer without the token', async (t) => {
      const opened = await app.inject({ url: `/s/${share.token}` });
      t.equal(opened.statusCode, 303);
      t.equal(opened.headers.location, `/viewer?StudyInstanceUIDs=${ct}`);
      t.equal(opened.headers['referrer-policy'], 'no-referrer');
      const setCookie = String(opened.headers['set-cookie']);
      t.match(
        setCookie,
        new RegExp(`^tessera_share=${share.token}; Path=/; Max-Age=\\d+; HttpOnly; SameSite=Strict$`),
        'HttpOnly, SameSite, not Secure on http',
      );
      const maxAge = Number(/Max-Age=(\d+)/.exec(setCookie)![1]);
      t.ok(maxAge > 3500 && maxAge <= 3600, `the cookie lasts as long as the share (${maxAge} s)`);
      const https = await app.inject({ url: `/s/${share.token}`, headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'pacs.example.org' } });
      t.match(String(https.headers['set-cookie']), /; Secure$/, 'Secure when the public URL is https (X-Forwarded-Proto behind TRUST_PROXY)');
      t.equal((await app.inject({ url: `/s/${share.token.slice(0, -3)}AAA` })).statusCode, 404, 'a wrong secret');
      t.equal((await app.inject({ url: '/s/nonsense' })).statusCode, 404, 'not a token');
      t.equal((await app.inject({ url: `/s/${share.token}`, headers: { authorization: 'Bearer x' } })).statusCode, 303, 'the link is public');
    });

    const cookie = { cookie: cookieOf((await app.inject({ url: `/s/${share.token}` })).headers['set-cookie']) };
    const get = (url: string, headers: Record<string, string> = {}) => app.inject({ url, headers: { ...cookie, ...headers } });

    await t.test('the shared study: every read route works with the cookie', async (t) => {
      const metadata = await get(`/dicomweb/studies/${ct}/metadata`);
      t.equal(metadata.statusCode, 200);
      const instance = metadata.json()[0] as Json;
      const series = instance['0020000E']!.Value![0] as string;
      const sop = instance['00080018']!.Value![0] as string;
      const base = `/dicomweb/studies/${ct}/series/${series}/instances/${sop}`;
      for (const url of [
        `/dicomweb/studies/${ct}/series`,
        `/dicomweb/studies/${ct}/instances`,
        `/dicomweb/studies/${ct}/series/${series}/instances`,
        `/dicomweb/studies/${ct}/series/${series}/metadata`,
        `${base}/metadata`,
        `${base}/rendered`,
        `${base}/thumbnail`,
        `/dicomweb/studies/${ct}/thumbnail`,
        `/dicomweb/studies/${ct}/series/${series}/rendered`,
        `/wado?requestType=WADO&studyUID=${ct}&seriesUID=${series}&objectUID=${sop}&contentType=application%2Fdicom`,
        `/ohif/dicomjson/studies/${ct}`,
      ]) {
        t.equal((await get(url, { accept: '*/*' })).statusCode, 200, url);
      }
      const frames = await get(`${base}/frames/1`, { accept: 'multipart/related; type="application/octet-stream"; transfer-syntax=*' });
      t.equal(frames.statusCode, 200, 'frames');
      const legacy = await get(`/ohif/study/${ct}/series`);
      t.equal(legacy.statusCode, 200, 'the legacy OHIF JSON');
      const urls = [...legacy.body.matchAll(/"(dicomweb:\/\/[^"]+)"/g)].map((m) => m[1]!);
      t.ok(urls.length > 0, 'with dicomweb:// URLs');
      for (const url of urls) t.equal((await get(url.replace(/^dicomweb:\/\/[^/]+/, ''))).statusCode, 200, 'each dicomweb:// URL opens with the cookie');
      t.equal(
        (await get(`/wado?requestType=WADO&studyUID=${ct}&seriesUID=${series}&objectUID=${sop}.9&contentType=application%2Fdicom`)).statusCode,
        404,
        'WADO-URI stays inside the named study: another object under the shared study UID is not found',
      );
    });

    await t.test('QIDO-RS: only the shared study, at every level, filtered in the query', async (t) => {
      const all = await get('/dicomweb/studies', { accept: 'application/dicom+json' });
      t.equal(all.statusCode, 200);
      t.same(studiesOf(all.body), [ct], 'a search without filters returns the shared study only');
      t.same([...new Set(studiesOf((await get('/dicomweb/series?includefield=0020000D')).body))], [ct], 'series of the shared study only');
      t.same([...new Set(studiesOf((await get('/dicomweb/instances?includefield=0020000D')).body))], [ct], 'instances of the shared study only');
      t.equal((await get(`/dicomweb/studies?StudyInstanceUID=${mr}`)).statusCode, 204, 'asking for another study finds nothing');
      t.equal((await get('/dicomweb/studies?limit=1&offset=1')).statusCode, 204, 'paging sees one study in all');
      const admin = await app.inject({ url: '/dicomweb/studies', headers: bearer(await readKey(server)) });
      t.equal(studiesOf(admin.body).length, 3, 'while a read key sees all three studies');
    });

    await t.test('other studies, STOW, admin routes: refused', async (t) => {
      for (const url of [
        `/dicomweb/studies/${mr}/metadata`,
        `/dicomweb/studies/${mr}/series`,
        `/dicomweb/studies/${mr}/thumbnail`,
        `/ohif/study/${mr}/series`,
        `/ohif/dicomjson/studies/${mr}`,
        `/wado?requestType=WADO&studyUID=${mr}&seriesUID=1.2&objectUID=1.2.3`,
        `/wado?requestType=WADO&studyUID=${ct}&studyUID=${mr}&seriesUID=1.2&objectUID=1.2.3`,
        '/api/shares',
        '/api/audit',
      ]) {
        const answer = await get(url);
        t.equal(answer.statusCode, 403, url);
        t.match(answer.headers['content-type'], /^application\/problem\+json/);
      }
      const stow = await app.inject({
        method: 'POST',
        url: '/dicomweb/studies',
        headers: { ...cookie, 'content-type': 'application/dicom' },
        payload: readShared(PDF),
      });
      t.equal(stow.statusCode, 403, 'no STOW-RS');
      const stowInto = await app.inject({
        method: 'POST',
        url: `/dicomweb/studies/${ct}`,
        headers: { ...cookie, 'content-type': 'application/dicom' },
        payload: readShared(PDF),
      });
      t.equal(stowInto.statusCode, 403, 'not even into the shared study');
      const create = await app.inject({ method: 'POST', url: '/api/shares', headers: cookie, payload: { studyInstanceUid: ct, expiresIn: '1d' } });
      t.equal(create.statusCode, 403, 'a share cannot make shares');
      t.equal(
        (await get(`/dicomweb/studies/${mr}/metadata`, { authorization: `Bearer ${await readKey(server)}` })).statusCode,
        200,
        'a bearer credential wins over the cookie',
      );
    });

    await t.test('SR and PDF studies open through their own share', async (t) => {
      const pdfShare = await createShare(server, { studyInstanceUid: studies[PDF], expiresIn: '1h' });
      const pdfCookie = { cookie: cookieOf((await app.inject({ url: `/s/${pdfShare.token}` })).headers['set-cookie']) };
      const metadata = await app.inject({ url: `/dicomweb/studies/${studies[PDF]}/metadata`, headers: pdfCookie });
      t.equal(metadata.statusCode, 200);
      const uri = bulkDataUris(metadata.json())[0]!;
      t.ok(uri, 'the PDF document is a bulk data URI');
      const document = await app.inject({
        url: new URL(uri).pathname,
        headers: { ...pdfCookie, accept: 'multipart/related; type="application/octet-stream"' },
      });
      t.equal(document.statusCode, 200, 'the encapsulated PDF is retrieved');
      t.equal((await app.inject({ url: `/dicomweb/studies/${ct}/metadata`, headers: pdfCookie })).statusCode, 403, 'but not the CT study');
    });

    await t.test('revocation and expiry: 401 on the next check of the database, the cookie removed', async (t) => {
      const shortLived = await createShare(server, { studyInstanceUid: ct, expiresIn: 2 });
      const shortCookie = { cookie: cookieOf((await app.inject({ url: `/s/${shortLived.token}` })).headers['set-cookie']) };
      t.equal((await get(`/dicomweb/studies/${ct}/metadata`)).statusCode, 200);
      t.equal((await app.inject({ url: `/dicomweb/studies/${ct}/metadata`, headers: shortCookie })).statusCode, 200);
      // Revoked in the database directly, as another server process would: this process learns it
      // within AUTH_KEY_CACHE_SECONDS (1 s here).
      t.ok(await server.storage.index.shares.revoke(share.id));
      await new Promise((resolve) => setTimeout(resolve, 2_100));
      for (const [what, headers] of [
        ['revoked', cookie],
        ['expired', shortCookie],
      ] as const) {
        const refused = await app.inject({ url: `/dicomweb/studies/${ct}/metadata`, headers });
        t.equal(refused.statusCode, 401, `${what}: 401`);
        t.match(refused.json(), { code: 'INVALID_CREDENTIAL', detail: new RegExp(what) });
        t.match(String(refused.headers['set-cookie']), /^tessera_share=; Path=\/; Max-Age=0/, 'the cookie is removed');
        t.equal((await app.inject({ url: '/dicomweb/studies', headers })).statusCode, 401, `${what}: a search too`);
        t.equal((await app.inject({ url: `/s/${what === 'revoked' ? share.token : shortLived.token}` })).statusCode, 410, `${what}: the link answers 410`);
      }
      const other = await createShare(server, { studyInstanceUid: mr, expiresIn: '1h' });
      const deleted = await app.inject({ method: 'DELETE', url: `/api/shares/${other.id}`, headers: admin });
      t.equal(deleted.statusCode, 204, 'DELETE /api/shares/{id} revokes');
      t.equal((await app.inject({ method: 'DELETE', url: `/api/shares/${other.id}`, headers: admin })).statusCode, 204, 'twice is fine');
      t.equal((await app.inject({ method: 'DELETE', url: '/api/shares/0123456789abcdef', headers: admin })).statusCode, 404);
      t.equal((await app.inject({ url: `/s/${other.token}` })).statusCode, 410);
      const states = (await app.inject({ url: '/api/shares', headers: admin })).json().shares as { id: string; state: string }[];
      t.equal(states.find((s) => s.id === other.id)?.state, 'revoked');
      t.equal(states.find((s) => s.id === shortLived.id)?.state, 'expired');
    });

    await t.test('audit: created, opened, used (the share as actor), revoked', async (t) => {
      await app.audit.flush();
      const events = (await app.inject({ url: '/api/audit?limit=1000', headers: admin })).json().events as {
        type: string;
        actor: { kind: string; id: string };
        studies: string[];
        detail: Record<string, string>;
        httpStatus: number;
      }[];
      const about = (type: string) => events.filter((e) => e.type === type && e.detail.share === share.id);
      t.equal(about('share-created').length, 1, 'created');
      t.same(about('share-created')[0]?.studies, [ct]);
      t.ok(
        about('share-opened').some((e) => e.actor.kind === 'share' && e.actor.id === share.id && e.httpStatus === 303),
        'opened, with the share as actor',
      );
      t.ok(
        events.some((e) => e.type === 'instances-accessed' && e.actor.kind === 'share' && e.actor.id === share.id && e.studies.includes(ct)),
        'used: data access names the share',
      );
      t.ok(
        events.some((e) => e.type === 'query' && e.actor.kind === 'share' && e.actor.id === share.id),
        'searches too',
      );
      t.ok(
        events.some((e) => e.type === 'share-revoked' && e.httpStatus === 204),
        'revoked through the API',
      );
      t.ok(
        events.some((e) => e.type === 'share-opened' && e.httpStatus === 410 && e.actor.kind === 'anonymous'),
        'a refused opening is recorded too',
      );
      t.notMatch(JSON.stringify(events), /tsl_/, 'no token in the audit trail');
    });

    await t.test('the log never holds a token', async (t) => {
      const log = server.log.join('');
      t.match(log, /"url":"\/s\/\(token\)"/, 'the link is logged with its token redacted');
      t.notMatch(log, /tsl_/, 'no token anywhere in the log');
    });
  });
}

async function readKey(server: { storage: { index: import('@tessera/index').Index } }): Promise<string> {
  const { generateApiKey } = await import('@tessera/access');
  const key = generateApiKey();
  await server.storage.index.apiKeys.create({ id: key.id, name: 'reader', scopes: ['read'], secretHash: key.secretHash });
  return key.key;
}
