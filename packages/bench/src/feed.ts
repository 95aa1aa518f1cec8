import { execFileSync } from 'node:child_process';

/** The triggers of migration 2026-12-08T03-00_change-feed that record every write of `instance`. */
const FEED_TRIGGERS = ['instance_change_feed_insert', 'instance_change_feed_update', 'instance_change_feed_delete'];

/**
 * `--without-change-feed`: disables the change feed's triggers in the scratch database the server
 * has just migrated, so that a STOW run measures ingest without the feed (its cost is the
 * difference to a run with it). Measurement only: no server is ever run like this.
 */
export function disableChangeFeed(databaseUrl: string): void {
  const sql = `alter table instance ${FEED_TRIGGERS.map((name) => `disable trigger ${name}`).join(', ')}`;
  execFileSync('psql', ['-q', '-v', 'ON_ERROR_STOP=1', databaseUrl, '-c', sql], { stdio: ['ignore', 'ignore', 'pipe'] });
}
