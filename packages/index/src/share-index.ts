import type { Kysely, Selectable } from 'kysely';
import type { Database, StudyShareTable } from './schema.js';

/** A study share link as stored: never the token, only the SHA-256 of its secret. */
export interface ShareRecord {
  id: string;
  studyInstanceUid: string;
  secretHash: string;
  note: string | null;
  /** Who created it: `api-key:<id>`, `oidc:<sub>`, `anonymous` (AUTH_MODE=none) or `cli`. */
  createdBy: string;
  createdAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
}

export interface NewShareRecord {
  id: string;
  studyInstanceUid: string;
  secretHash: string;
  note?: string;
  createdBy: string;
  expiresAt: Date;
}

/**
 * The share link table (issue #14). Shares are never deleted: a revoked or expired one keeps its row
 * so the audit trail can name it. `find` is asked on every request carrying a share cookie, at most
 * once per AUTH_KEY_CACHE_SECONDS per share and server process: the database is the truth.
 */
export class ShareIndex {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number = Date.now,
  ) {}

  async create(share: NewShareRecord): Promise<ShareRecord> {
    const row = await this.db
      .insertInto('study_share')
      .values({
        id: share.id,
        study_instance_uid: share.studyInstanceUid,
        secret_hash: share.secretHash,
        note: share.note ?? null,
        created_by: share.createdBy,
        expires_at: share.expiresAt,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toRecord(row);
  }

  async find(id: string): Promise<ShareRecord | undefined> {
    const row = await this.db.selectFrom('study_share').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toRecord(row);
  }

  /** Every share, newest first (revoked and expired ones too), optionally of one study only. */
  async list(filter: { studyInstanceUid?: string } = {}): Promise<ShareRecord[]> {
    let query = this.db.selectFrom('study_share').selectAll();
    if (filter.studyInstanceUid !== undefined) query = query.where('study_instance_uid', '=', filter.studyInstanceUid);
    const rows = await query.orderBy('created_at', 'desc').orderBy('id').execute();
    return rows.map(toRecord);
  }

  /** Revokes a share; undefined when there is no such share. Revoking twice keeps the first time. */
  async revoke(id: string): Promise<ShareRecord | undefined> {
    await this.db
      .updateTable('study_share')
      .set({ revoked_at: new Date(this.now()) })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .execute();
    return this.find(id);
  }
}

function toRecord(row: Selectable<StudyShareTable>): ShareRecord {
  return {
    id: row.id,
    studyInstanceUid: row.study_instance_uid,
    secretHash: row.secret_hash,
    note: row.note,
    createdBy: row.created_by,
    createdAt: new Date(row.created_at),
    expiresAt: new Date(row.expires_at),
    revokedAt: row.revoked_at && new Date(row.revoked_at),
  };
}
