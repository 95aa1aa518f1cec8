/**
 * The storage-agnostic model of a QIDO-RS search (digest QIDO-1..14, MATCH-1..15): what to find,
 * never how. `@tessera/qido-rs` parses a request into it; `SearchIndex` translates it to SQL.
 * Attributes are named by their tag in JSON key form (`00100010`).
 */

/** The entity a search returns. */
export type Level = 'study' | 'series' | 'instance';

/** The level an attribute belongs to (PS3.4 C.6.1 / C.6.2 query levels). */
export type AttributeLevel = 'patient' | 'study' | 'series' | 'instance';

export interface SearchQuery {
  level: Level;
  /** UIDs from the path (`/studies/{s}/series/{se}/instances`): the search stays inside them (MATCH-13). */
  scope: { studyInstanceUid?: string; seriesInstanceUid?: string };
  /** All must hold (AND). */
  filters: Filter[];
  /** Attributes to return beyond the defaults (QIDO-5), as tags, or every stored attribute. */
  includeFields: 'all' | readonly string[];
  limit: number;
  offset: number;
}

/**
 * One matching condition on one attribute. Values are already normalised by the parser: padding
 * removed, DA as YYYYMMDD, TM as `HHMMSS.ffffff` (MATCH-2, MATCH-7), person names lower-cased.
 */
export type Filter =
  /** Single value matching (MATCH-2): equal, case-sensitive (DA/TM by meaning). */
  | { kind: 'exact'; tag: string; value: string }
  /** Wildcard matching (MATCH-4): `*` any sequence, `?` one character; everything else literal. */
  | { kind: 'wildcard'; tag: string; pattern: string }
  /** Range matching on DA or TM (MATCH-6, MATCH-7); null = open end. Bounds are inclusive. */
  | { kind: 'range'; tag: string; from: string | null; to: string | null }
  /** Combined date-time range over a DA and a TM attribute (MATCH-8), bounds `YYYYMMDDHHMMSS.ffffff`. */
  | { kind: 'dateTimeRange'; dateTag: string; timeTag: string; from: string | null; to: string | null }
  /** List of UID matching (MATCH-5): equal to any. */
  | { kind: 'uidList'; tag: string; uids: string[] }
  /** IS/US values compared as numbers (MATCH-2 PROJECT). */
  | { kind: 'number'; tag: string; value: number }
  /**
   * Person name, case-insensitive (MATCH-3). `groups` holds the lower-cased key per component group
   * (alphabetic, ideographic, phonetic; null = any); with `anyGroup` the single pattern in
   * `groups[0]` may match any of the three groups. Patterns may hold `*` and `?`.
   */
  | { kind: 'personName'; tag: string; groups: (string | null)[]; anyGroup: boolean }
  /** fuzzymatching=true on a person name (QIDO-10): every word starts a name part, ignoring case and accents. */
  | { kind: 'fuzzyName'; tag: string; words: string[] }
  /** Empty value matching (MATCH-15): the attribute is absent or zero-length. */
  | { kind: 'empty'; tag: string }
  /** Several values in one key: any of them (D3) … */
  | { kind: 'anyOf'; filters: Filter[] }
  /** … or, with multiplevaluematching=true, all of them (MATCH-10). */
  | { kind: 'allOf'; filters: Filter[] };
