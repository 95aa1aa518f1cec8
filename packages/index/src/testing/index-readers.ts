import type { Index } from '../index.js';
import type { StoredInstance } from '../instance-index.js';
import type { Level, SearchQuery } from '../search/search-query.js';

/**
 * What tests read back from an index, written on its public interface (the instance lookup STOW
 * uses and the QIDO-RS searches), so that the production `InstanceIndex` carries no reader that
 * only tests call.
 */

/** The stored instance with this SOP Instance UID, or undefined. */
export async function findInstance(index: Pick<Index, 'instances'>, sopInstanceUid: string): Promise<StoredInstance | undefined> {
  const [found] = await index.instances.findInstances([sopInstanceUid]);
  return found;
}

/** The computed attributes of a study (QIDO-8) as stored, or undefined if it is not stored. */
export async function findStudy(
  index: Pick<Index, 'search'>,
  studyInstanceUid: string,
): Promise<{ numberOfSeries: number; numberOfInstances: number; modalitiesInStudy: string[]; sopClassesInStudy: string[] } | undefined> {
  const {
    matches: [study],
  } = await index.search.searchStudies(everything('study', 1, { studyInstanceUid }));
  return (
    study && {
      numberOfSeries: study.numberOfSeries,
      numberOfInstances: study.numberOfInstances,
      modalitiesInStudy: study.modalitiesInStudy,
      sopClassesInStudy: study.sopClassesInStudy,
    }
  );
}

/** How many studies, series and instances the index holds. */
export async function indexCounts(index: Pick<Index, 'search'>): Promise<{ studies: number; series: number; instances: number }> {
  // A page of one: its length plus the exact count of the matches after it.
  const count = async (result: Promise<{ matches: unknown[]; remaining: Promise<number> }>) => {
    const { matches, remaining } = await result;
    return matches.length + (await remaining);
  };
  const [studies, series, instances] = await Promise.all([
    count(index.search.searchStudies(everything('study', 1))),
    count(index.search.searchSeries(everything('series', 1))),
    count(index.search.searchInstances(everything('instance', 1))),
  ]);
  return { studies, series, instances };
}

const everything = (level: Level, limit: number, scope: SearchQuery['scope'] = {}): SearchQuery => ({
  level,
  scope,
  filters: [],
  includeFields: [],
  limit,
  offset: 0,
});

/** The migrations recorded as applied in the PostgreSQL database at `url`, by name, oldest first; and how many there are to apply. */
export async function appliedMigrations(url: string): Promise<{ applied: string[]; known: number }> {
  const { openDatabase } = await import('../database.js');
  const { indexMigrator } = await import('../migrate.js');
  const { db, close } = await openDatabase({ kind: 'postgres', url, poolSize: 1 });
  try {
    const all = await indexMigrator(db as never).getMigrations();
    return { applied: all.filter((m) => m.executedAt !== undefined).map((m) => m.name), known: all.length };
  } finally {
    await close();
  }
}
