import t, { type Test } from 'tap';
import { type Kysely, sql } from 'kysely';
import { migrateToLatest } from '../migrate.js';
import type { Database } from '../schema.js';
import { testDatabases } from '../testing/test-databases.js';
import { type AuditEvent, AuditLog } from './audit-log.js';

/** The audit trail's storage on PGlite, and on PostgreSQL when configured. */
const event = (minutesAgo: number, overrides: Partial<AuditEvent> = {}): AuditEvent => ({
  occurredAt: new Date(Date.now() - minutesAgo * 60_000),
  type: 'query',
  action: 'E',
  outcome: 0,
  httpStatus: 200,
  actor: { kind: 'api-key', id: 'key-1', name: 'router' },
  clientAddress: '127.0.0.1',
  requestId: `req-${minutesAgo}`,
  route: 'GET /dicomweb/studies',
  studyUids: [],
  detail: { level: 'study' },
  ...overrides,
});

const backends = async (t: Test) => {
  const list = await testDatabases();
  for (const backend of list) {
    t.teardown(backend.close);
    const { error } = await migrateToLatest(backend.db);
    if (error) throw error instanceof Error ? error : new Error(String(error));
  }
  return list.map((b) => ({ name: b.name, db: b.db as Kysely<Database>, log: new AuditLog(b.db as Kysely<Database>) }));
};

t.test('appended events are read back whole, oldest first, and filtered', async (t) => {
  for (const { name, log } of await backends(t)) {
    await log.append([
      event(50, { studyUids: ['1.2.3', '1.2.4'] }),
      event(40, { type: 'instances-transferred', action: 'R', studyUids: ['1.2.3'], actor: { kind: 'oidc', id: 'alice' }, detail: {} }),
      event(30, { type: 'instances-transferred', action: 'C', outcome: 4, httpStatus: 409, studyUids: ['1.2.5'] }),
      event(20, {
        type: 'user-authentication',
        outcome: 4,
        httpStatus: 401,
        actor: { kind: 'anonymous', id: 'anonymous' },
        clientAddress: undefined,
        route: undefined,
        detail: { reason: 'revoked' },
      }),
    ]);
    const all = await log.find({}, 100);
    t.same(
      all.map((e) => e.requestId),
      ['req-50', 'req-40', 'req-30', 'req-20'],
      `${name}: in insertion order`,
    );
    t.same(all[0], { ...event(50, { studyUids: ['1.2.3', '1.2.4'] }), id: all[0]!.id, occurredAt: all[0]!.occurredAt }, `${name}: every field comes back`);
    t.notOk('clientAddress' in all[3]!, `${name}: an absent address stays absent`);
    t.same(all[3]!.detail, { reason: 'revoked' });
    const ids = (events: { requestId?: string }[]) => events.map((e) => e.requestId);
    t.same(ids(await log.find({ studyUid: '1.2.3' }, 100)), ['req-50', 'req-40'], `${name}: by study (any of an event's studies)`);
    t.same(ids(await log.find({ actorId: 'alice' }, 100)), ['req-40'], `${name}: by actor`);
    t.same(ids(await log.find({ outcome: 4 }, 100)), ['req-30', 'req-20'], `${name}: by outcome`);
    t.same(ids(await log.find({ type: 'instances-transferred' }, 100)), ['req-40', 'req-30'], `${name}: by type`);
    t.same(
      ids(await log.find({ since: new Date(Date.now() - 45 * 60_000), until: new Date(Date.now() - 25 * 60_000) }, 100)),
      ['req-40', 'req-30'],
      `${name}: by time, until exclusive`,
    );
    const first = await log.find({}, 3);
    const rest = await log.find({ afterId: first.at(-1)!.id }, 3);
    t.same([...ids(first), ...ids(rest)], ids(all), `${name}: keyset pages cover everything once`);
  }
});

t.test('the table is append-only: an UPDATE is refused; the retention delete removes only older events', async (t) => {
  for (const { name, db, log } of await backends(t)) {
    await log.append([event(60 * 24 * 10), event(60 * 24 * 3), event(60), event(0)]);
    await t.rejects(sql`update audit_event set actor_id = 'someone else'`.execute(db), /append-only/, `${name}: the database refuses an update`);
    const cutoff = new Date(Date.now() - 2 * 24 * 3600_000);
    t.equal(await log.deleteOlderThan(cutoff), 2, `${name}: two events older than two days deleted`);
    const left = await log.find({}, 100);
    t.equal(left.length, 2, `${name}: the two recent events are kept`);
    t.ok(
      left.every((e) => e.occurredAt >= cutoff),
      `${name}: nothing younger than the cutoff was deleted`,
    );
    t.same(
      left.map((e) => e.actor.id),
      ['key-1', 'key-1'],
      `${name}: kept events unchanged`,
    );
  }
});

t.test('a large batch is stored whole in one call, in order across statements', async (t) => {
  for (const { name, log } of await backends(t)) {
    await log.append(Array.from({ length: 2345 }, (_, i) => event(0, { requestId: `r${i}` })));
    const found = await log.find({}, 3000);
    t.equal(found.length, 2345, `${name}: every event`);
    t.same(
      found.map((e) => e.requestId),
      Array.from({ length: 2345 }, (_, i) => `r${i}`),
      `${name}: each once, ids in the order appended`,
    );
  }
});

t.test('any text round-trips: quotes, backslashes, commas and braces in arrays and fields; absent fields stay absent', async (t) => {
  const odd = ['a"b', 'c\\d', 'e,f', '{g}', '', 'NULL', 'ü 中'];
  const events = [
    event(2, { studyUids: odd, actor: { kind: 'oidc', id: 'o"dd\\,{}', name: 'Ärzte, "Team"' }, detail: { filters: 'a,"b"', n: 3, ok: true } }),
    (({ httpStatus, clientAddress, requestId, route, ...rest }) => rest)(event(1, { studyUids: [], detail: {} })) as AuditEvent,
  ];
  for (const { name, log } of await backends(t)) {
    await log.append(events);
    const found = await log.find({}, 10);
    t.same(found[0], { ...events[0], id: found[0]!.id }, `${name}: the odd event comes back whole`);
    t.same(found[1], { ...events[1], id: found[1]!.id }, `${name}: the sparse one too`);
    t.same((await log.find({ studyUid: 'e,f' }, 10)).length, 1, `${name}: an element with a comma is one element`);
  }
});
