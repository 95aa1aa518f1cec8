import type { BlobStore } from '@tessera/blob-store';
import type { Index, InstanceScope, RetrievableInstance, RetrieveScope } from '@tessera/index';
import { RetrieveError } from './retrieve-error.js';

/** Collaborators of every retrieve function (plugin options; tests pass their own). */
export interface RetrieveDependencies {
  index: Index;
  blobs: BlobStore;
  settings: {
    /** Largest header read into memory when an instance must be re-encoded. */
    maxHeaderBytes: number;
  };
}

/** The instances of a scope, in retrieval order; a scope with none is `not-found` (digest WADORS-1, COMMON-6). */
export async function resolveScope(deps: Pick<RetrieveDependencies, 'index'>, scope: RetrieveScope): Promise<RetrievableInstance[]> {
  const rows = await deps.index.retrieve.instances(scope);
  if (rows.length === 0) throw scopeNotFound(scope);
  return rows;
}

/** The one instance a scope of three UIDs names; not stored is `not-found`. */
export async function resolveInstance(deps: Pick<RetrieveDependencies, 'index'>, scope: InstanceScope): Promise<RetrievableInstance> {
  const row = await deps.index.retrieve.instance(scope);
  if (!row) throw scopeNotFound(scope);
  return row;
}

/** `not-found`, naming the level that is not stored. */
export function scopeNotFound(scope: RetrieveScope): RetrieveError {
  const what =
    scope.sopInstanceUid !== undefined
      ? `instance ${scope.sopInstanceUid} of series ${scope.seriesInstanceUid} of study ${scope.studyInstanceUid}`
      : scope.seriesInstanceUid !== undefined
        ? `series ${scope.seriesInstanceUid} of study ${scope.studyInstanceUid}`
        : `study ${scope.studyInstanceUid}`;
  return new RetrieveError('not-found', `no ${what} is stored`, scope.sopInstanceUid);
}
