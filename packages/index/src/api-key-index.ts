import type { Kysely, Selectable } from 'kysely';
import type { ApiKeyTable, Database } from './schema.js';

/** An API key as stored: never the secret, only its hash. */
export interface ApiKeyRecord {
  id: string;
  name: string;
  scopes: string[];
  secretHash: string;
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

export interface NewApiKeyRecord {
  id: string;
  name: string;
  scopes: readonly string[];
  secretHash: string;
  expiresAt?: Date;
}

/** How often one server process writes a key's last-used time at most. */
const TOUCH_INTERVAL_MS = 60_000;

/**
 * The API key table. `touch` is throttled: a key's `last_used_at` is written at most once a
 * minute per process (not one UPDATE per request), in the background; a failed write is dropped
 * (the time is informative, never used to decide access). `close` waits for writes under way.
 */
export class ApiKeyIndex {
  private readonly touched = new Map<string, number>();
  private readonly writes = new Set<Promise<unknown>>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number = Date.now,
  ) {}

  async create(key: NewApiKeyRecord): Promise<ApiKeyRecord> {
    const row = await this.db
      .insertInto('api_key')
      .values({ id: key.id, name: key.name, scopes: key.scopes.join(' '), secret_hash: key.secretHash, expires_at: key.expiresAt ?? null })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toRecord(row);
  }

  async find(id: string): Promise<ApiKeyRecord | undefined> {
    const row = await this.db.selectFrom('api_key').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toRecord(row);
  }

  /** Every key, oldest first (revoked ones too). */
  async list(): Promise<ApiKeyRecord[]> {
    const rows = await this.db.selectFrom('api_key').selectAll().orderBy('created_at').orderBy('id').execute();
    return rows.map(toRecord);
  }

  /** Revokes a key; false when there is no such key. Revoking twice keeps the first time. */
  async revoke(id: string): Promise<boolean> {
    const result = await this.db
      .updateTable('api_key')
      .set({ revoked_at: new Date(this.now()) })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (result.numUpdatedRows > 0n) return true;
    return (await this.find(id)) !== undefined;
  }

  touch(id: string): void {
    const at = this.now();
    const last = this.touched.get(id);
    if (last !== undefined && at - last < TOUCH_INTERVAL_MS) return;
    this.touched.set(id, at);
    const write = this.db
      .updateTable('api_key')
      .set({ last_used_at: new Date(at) })
      .where('id', '=', id)
      .execute()
      .catch(() => this.touched.delete(id))
      .finally(() => this.writes.delete(write));
    this.writes.add(write);
  }

  /** Waits for the last-used writes under way (before the database is closed). */
  async settle(): Promise<void> {
    await Promise.all([...this.writes]);
  }
}

function toRecord(row: Selectable<ApiKeyTable>): ApiKeyRecord {
  return {
    id: row.id,
    name: row.name,
    scopes: row.scopes.split(' ').filter(Boolean),
    secretHash: row.secret_hash,
    createdAt: new Date(row.created_at),
    expiresAt: row.expires_at && new Date(row.expires_at),
    revokedAt: row.revoked_at && new Date(row.revoked_at),
    lastUsedAt: row.last_used_at && new Date(row.last_used_at),
  };
}
