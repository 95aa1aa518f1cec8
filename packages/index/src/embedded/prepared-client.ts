import { type PGlite, type Results, parse, protocol } from '@electric-sql/pglite';
import { isMarkedPrepared, statementName } from '../prepared.js';

/** What kysely-pglite-dialect asks of its client: `query` for every statement, `close` at the end. */
export interface PGliteClient {
  query<R>(text: string, parameters?: unknown[]): Promise<Results<R>>;
  close(): Promise<void>;
}

/**
 * PGlite as the kysely dialect's client, with the statements marked `preparedStatement()` (prepared.ts)
 * sent as named prepared statements, as on PostgreSQL.
 *
 * Why: `PGlite.query` sends every statement unnamed, in five separate calls into the WebAssembly
 * backend (Parse, Describe statement, Bind, Describe portal, Execute, then Sync), so PostgreSQL parses
 * and plans the text again each time, in WebAssembly on the event loop. A marked statement is parsed
 * once per process (the first call sends Parse with its name) and then only bound and executed, in one
 * call. Only the equality lookups on unique keys are marked (retrieve-index.ts), for which the
 * generic plan is the best plan.
 *
 * Everything else goes to `PGlite.query` unchanged. A marked statement with a parameter that is not a
 * string or a whole number also does (the lookups bind UIDs, the scoped searches UIDs and their LIMIT
 * and OFFSET; PGlite's serializers are what would type anything else).
 *
 * Concurrency: the dialect hands its one connection to one caller at a time; the protocol exchange
 * also runs under PGlite's query lock (`runExclusive`), the lock `dumpDataDir` and `close` take, so a
 * snapshot never sees half a statement.
 */
export function withPreparedStatements(pglite: PGlite): PGliteClient {
  /** Names Parse has succeeded for on this PGlite (prepared statements live as long as the session). */
  const prepared = new Set<string>();
  return {
    query<R>(text: string, parameters: unknown[] = []): Promise<Results<R>> {
      if (!isMarkedPrepared(text) || !parameters.every(isTextual)) return pglite.query<R>(text, parameters);
      return pglite.runExclusive(async () => {
        if (pglite.closed) throw new Error('PGlite is closed');
        const name = statementName(text);
        const isNew = !prepared.has(name);
        const message = concat([
          ...(isNew ? [protocol.serialize.parse({ name, text })] : []),
          protocol.serialize.bind({ statement: name, values: parameters.map(String) }),
          protocol.serialize.describe({ type: 'P' }),
          protocol.serialize.execute(),
          protocol.serialize.sync(),
        ]);
        // The backend processes the whole message up to Sync even after an error, so the session is
        // ready again; errors are read from the messages, because a Parse can succeed (the name is
        // then taken) in a message whose Bind or Execute fails.
        const messages = await pglite.execProtocolStream(message, { throwOnError: false });
        if (isNew && messages.some((m) => m.name === 'parseComplete')) prepared.add(name);
        const error = messages.find((m) => m instanceof protocol.messages.DatabaseError);
        if (error) throw error; // with its SQLSTATE (`code`), as PGlite.query's errors, for translateDatabaseError
        const [result] = parse.parseResults(messages, pglite.parsers);
        return result as Results<R>;
      });
    },
    close: () => pglite.close(),
  };
}

/**
 * A value sent as text whose meaning does not depend on a serializer: a string, or a whole number
 * (a LIMIT or OFFSET), whose decimal text PostgreSQL reads as the integer type it inferred.
 */
const isTextual = (value: unknown): value is string | number => typeof value === 'string' || (typeof value === 'number' && Number.isSafeInteger(value));

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
