import { createHash } from 'node:crypto';
import { type Compilable, CompiledQuery, type Expression, type Kysely, sql } from 'kysely';

/**
 * Named prepared statements for the hottest lookups. A query marked with
 * `preparedStatement()` (kysely `.modifyEnd(preparedStatement())`) is sent as a named statement, so each
 * pooled connection parses and plans it once and then only binds and executes it: for the one-instance
 * lookup of WADO-RS/WADO-URI, planning (≈ 0.16 ms) costs five times the execution (≈ 0.03 ms),
 * measured with EXPLAIN ANALYZE on the benchmark's index. Only queries whose best plan does not depend
 * on the values are marked (equality on unique keys): a generic plan for a wildcard search could lose
 * an index. The embedded index (PGlite) prepares the marked statements too (embedded/prepared-client.ts),
 * where the planning runs in WebAssembly on the event loop. The mark is a comment: the SQL is unchanged.
 */
const MARK = '/* tessera:prepared */';

export const preparedStatement = (): Expression<unknown> => sql.raw(MARK);

/** Whether a query text carries the `preparedStatement()` mark. */
export const isMarkedPrepared = (text: string): boolean => text.endsWith(MARK);

const names = new Map<string, string>();

/** A stable name per statement text (pg keeps one prepared statement per name and connection). */
export function statementName(text: string): string {
  let name = names.get(text);
  if (!name) {
    name = `tessera_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
    names.set(text, name);
  }
  return name;
}

/**
 * Hot queries of a fixed shape, built and compiled by kysely once and then run with new parameters:
 * building and compiling a three-table select cost more Node CPU than sending it. The first call of a
 * shape checks that the compiled parameters are exactly the ones given, in order, so a shape whose
 * parameters differ from the builder's fails loudly instead of binding the wrong values.
 */
export class StatementCache {
  readonly #texts = new Map<string, string>();

  constructor(private readonly db: Kysely<never>) {}

  async rows<R>(shape: string, parameters: readonly unknown[], build: () => Compilable<R>): Promise<R[]> {
    let text = this.#texts.get(shape);
    if (text === undefined) {
      const compiled = build().compile();
      if (compiled.parameters.length !== parameters.length || compiled.parameters.some((value, i) => value !== parameters[i])) {
        throw new Error(`statement '${shape}': its compiled parameters are not the ones given`);
      }
      text = compiled.sql;
      this.#texts.set(shape, text);
    }
    return (await this.db.executeQuery<R>(CompiledQuery.raw(text, [...parameters]))).rows;
  }
}
