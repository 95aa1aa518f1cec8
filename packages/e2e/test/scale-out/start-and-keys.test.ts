import t from 'tap';
import { appliedMigrations } from '@tessera/index/testing';
import { ctInstance } from '@tessera/testkit';
import { skipReason, startCluster, store, studyState } from './harness.js';

/**
 * Issue #17, scenarios 7 and 8:
 * 7. Three servers started at the same moment on an empty database: every one starts, the
 *    migrations ran once (the migrator's lock), and they serve one archive.
 * 8. An API key revoked with `tessera keys revoke` (run beside A) stops working on every server
 *    within AUTH_KEY_CACHE_SECONDS (1 here), though each had it cached.
 *    The same for a share link revoked with `tessera share revoke`: its cookie, cached on A and on
 *    B, is refused by both.
 */
t.test('7: three servers start at once on an empty database', { skip: skipReason }, async (t) => {
  const cluster = await startCluster({ servers: 3, startTogether: true });
  t.teardown(() => cluster.close());
  t.pass('all three servers are ready');
  const { applied, known } = await appliedMigrations(cluster.databaseUrl);
  t.equal(applied.length, known, `all ${known} migrations applied (each once: the name is the key of tessera_migration)`);
  const [a, , c] = cluster.servers as [(typeof cluster.servers)[0], (typeof cluster.servers)[0], (typeof cluster.servers)[0]];
  const spec = ctInstance();
  t.equal((await store(a, [spec])).status, 200, 'A stores');
  t.same((await studyState(c, spec.attributes.StudyInstanceUID as string)).instances, 1, 'C finds it');
});

t.test('8: a revoked key stops working on every server', { skip: skipReason }, async (t) => {
  const cluster = await startCluster({ servers: 2, env: { AUTH_MODE: 'apikey', AUTH_KEY_CACHE_SECONDS: '1' } });
  t.teardown(() => cluster.close());
  const [a, b] = cluster.servers as [(typeof cluster.servers)[0], (typeof cluster.servers)[0]];
  const created = await cluster.cli(a, ['keys', 'create', '--name', 'viewer', '--scopes', 'read']);
  t.equal(created.code, 0, `tessera keys create${created.code ? `: ${created.stderr}` : ''}`);
  const key = created.stdout.trim();
  const id = /created key (\S+)/.exec(created.stderr)?.[1];
  t.ok(key && id, 'a key and its id');
  const search = (server: typeof a) =>
    fetch(`${server.url}/dicomweb/studies`, { headers: { authorization: `Bearer ${key}`, accept: 'application/dicom+json' } }).then(async (r) => {
      await r.arrayBuffer();
      return r.status;
    });
  t.same([await search(a), await search(b)], [204, 204], 'the key works on A and on B (and each has it cached now)');
  const revoked = await cluster.cli(a, ['keys', 'revoke', id!]);
  t.equal(revoked.code, 0, 'tessera keys revoke');
  // AUTH_KEY_CACHE_SECONDS=1: one second and a margin later, no server believes its cached verification.
  await new Promise((r) => setTimeout(r, 1_500));
  t.same([await search(a), await search(b)], [401, 401], 'refused by A and by B');
});

t.test('8: a revoked share link stops working on every server', { skip: skipReason }, async (t) => {
  const cluster = await startCluster({ servers: 2, env: { AUTH_MODE: 'apikey', AUTH_KEY_CACHE_SECONDS: '1' } });
  t.teardown(() => cluster.close());
  const [a, b] = cluster.servers as [(typeof cluster.servers)[0], (typeof cluster.servers)[0]];
  const writer = await cluster.cli(a, ['keys', 'create', '--name', 'modality', '--scopes', 'write']);
  t.equal(writer.code, 0, 'a write key');
  const spec = ctInstance();
  const study = spec.attributes.StudyInstanceUID as string;
  t.equal((await store(a, [spec], { authorization: `Bearer ${writer.stdout.trim()}` })).status, 200, 'A stores a study');
  const created = await cluster.cli(a, ['share', study, '--expires', '1h']);
  t.equal(created.code, 0, `tessera share${created.code ? `: ${created.stderr}` : ''}`);
  const token = /\/s\/(\S+)/.exec(created.stdout)?.[1];
  const id = /created share (\S+)/.exec(created.stderr)?.[1];
  t.ok(token && id, 'a link and its id');
  const metadata = (server: typeof a) =>
    fetch(`${server.url}/dicomweb/studies/${study}/metadata`, { headers: { cookie: `tessera_share=${token}`, accept: 'application/dicom+json' } }).then(
      async (r) => {
        await r.arrayBuffer();
        return r.status;
      },
    );
  t.same([await metadata(a), await metadata(b)], [200, 200], "the share's cookie opens the study on A and on B (each has it cached now)");
  const revoked = await cluster.cli(a, ['share', 'revoke', id!]);
  t.equal(revoked.code, 0, 'tessera share revoke');
  await new Promise((r) => setTimeout(r, 1_500));
  t.same([await metadata(a), await metadata(b)], [401, 401], 'refused by A and by B');
});
