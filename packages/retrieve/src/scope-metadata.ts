import type { InstanceMetadataText, RetrieveScope, ScopeVersion } from '@tessera/index';
import { type RetrieveDependencies, scopeNotFound } from './resolve-scope.js';

/**
 * The stored DICOM JSON text of each instance of a scope, in retrieval order, and the scope's
 * version computed from the same rows (digest WADORS-4). None is `not-found`. Metadata comes from
 * the index alone, never from blobs.
 */
export async function resolveMetadata(
  deps: Pick<RetrieveDependencies, 'index'>,
  scope: RetrieveScope,
): Promise<{ rows: InstanceMetadataText[]; version: ScopeVersion }> {
  const found = await deps.index.retrieve.metadata(scope);
  if (found.rows.length === 0) throw scopeNotFound(scope);
  return found;
}

/** The scope's version alone (a cheap aggregate, for conditional requests); an empty scope is `not-found`. */
export async function scopeVersion(deps: Pick<RetrieveDependencies, 'index'>, scope: RetrieveScope): Promise<ScopeVersion> {
  const version = await deps.index.retrieve.version(scope);
  if (version.count === 0) throw scopeNotFound(scope);
  return version;
}
