import type { Migration } from 'kysely';
import * as initial from './2026-11-25T00-00_initial-schema.js';
import * as searchIndexes from './2026-11-25T18-00_search-indexes.js';
import * as ginWithoutPendingList from './2026-11-26T02-00_gin-without-pending-list.js';
import * as attributeMemberLines from './2026-11-26T04-00_attribute-member-lines.js';
import * as pendingStudyRefresh from './2026-12-06T00-00_pending-study-refresh.js';
import * as apiKeys from './2026-12-07T00-00_api-keys.js';
import * as auditEvents from './2026-12-07T01-00_audit-events.js';
import * as shares from './2026-12-08T01-00_shares.js';
import * as changeFeed from './2026-12-08T03-00_change-feed.js';
import * as refreshStudyFunction from './2026-12-08T04-00_refresh-study-function.js';

/**
 * Every migration, by name. Names start with a date so they sort in the order they were written;
 * a migration is never edited once released: a schema change is a new file listed here.
 */
export const migrations: Record<string, Migration> = {
  '2026-11-25T00-00_initial-schema': initial,
  '2026-11-25T18-00_search-indexes': searchIndexes,
  '2026-11-26T02-00_gin-without-pending-list': ginWithoutPendingList,
  '2026-11-26T04-00_attribute-member-lines': attributeMemberLines,
  '2026-12-06T00-00_pending-study-refresh': pendingStudyRefresh,
  '2026-12-07T00-00_api-keys': apiKeys,
  '2026-12-07T01-00_audit-events': auditEvents,
  '2026-12-08T01-00_shares': shares,
  '2026-12-08T03-00_change-feed': changeFeed,
  '2026-12-08T04-00_refresh-study-function': refreshStudyFunction,
};
