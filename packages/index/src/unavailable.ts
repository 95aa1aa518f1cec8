import type { DatabaseConnection, Dialect, Driver, QueryResult, CompiledQuery, TransactionSettings } from 'kysely';
import { IndexOutcomeUnknownError, IndexUnavailableError } from './errors.js';

/** SQLSTATE classes and codes meaning "the database cannot serve now", not "this query is wrong". */
const UNAVAILABLE_SQLSTATE = /^(08|53|57P0[1-4]|57014|58)/;
const UNAVAILABLE_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND']);
const UNAVAILABLE_MESSAGE = /Connection terminated|Query read timeout|timeout exceeded when trying to connect|Client has encountered a connection error/i;

/** Whether a driver error means the connection (or the database) failed, rather than the statement. */
export function isConnectionFault(error: unknown): boolean {
  return translateDatabaseError(error) instanceof IndexUnavailableError;
}

/** Translates a driver error into IndexUnavailableError when it means the database is unreachable. */
export function translateDatabaseError(error: unknown): unknown {
  const e = error as { code?: string; message?: string } | undefined;
  if (!e || error instanceof IndexUnavailableError) return error;
  if ((typeof e.code === 'string' && (UNAVAILABLE_SQLSTATE.test(e.code) || UNAVAILABLE_ERRNO.has(e.code))) || UNAVAILABLE_MESSAGE.test(e.message ?? '')) {
    return new IndexUnavailableError(`the index database is unavailable: ${e.message ?? e.code}`, { cause: error });
  }
  return error;
}

/**
 * Wraps a dialect so that connection failures, timeouts and shutdowns surface as
 * IndexUnavailableError (the server answers 503) at the storage boundary, and nothing above the
 * index has to know pg's error codes.
 */
export function withUnavailableErrors(dialect: Dialect): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createDriver: () => wrapDriver(dialect.createDriver()),
  };
}

function wrapDriver(driver: Driver): Driver {
  const connections = new WeakMap<DatabaseConnection, DatabaseConnection>();
  /** Connections whose last statement failed for a connection-level reason: they are not reused. */
  const broken = new WeakSet<DatabaseConnection>();
  const unwrap = (c: DatabaseConnection) => (c as { inner?: DatabaseConnection }).inner ?? c;
  const translate = (inner: DatabaseConnection, error: unknown) => {
    const translated = translateDatabaseError(error);
    if (translated instanceof IndexUnavailableError) broken.add(inner);
    return translated;
  };
  return {
    init: () => driver.init(),
    destroy: () => driver.destroy(),
    async acquireConnection() {
      let inner: DatabaseConnection;
      try {
        inner = await driver.acquireConnection();
      } catch (error) {
        throw translateDatabaseError(error);
      }
      broken.delete(inner);
      let wrapped = connections.get(inner);
      if (!wrapped) {
        wrapped = {
          inner,
          async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
            try {
              return await inner.executeQuery<R>(query);
            } catch (error) {
              throw translate(inner, error);
            }
          },
          streamQuery: <R>(query: CompiledQuery, chunkSize?: number) => inner.streamQuery<R>(query, chunkSize),
        } as DatabaseConnection & { inner: DatabaseConnection };
        connections.set(inner, wrapped);
      }
      return wrapped;
    },
    async beginTransaction(c, settings: TransactionSettings) {
      const inner = unwrap(c);
      try {
        await driver.beginTransaction(inner, settings);
      } catch (error) {
        throw translate(inner, error);
      }
    },
    async commitTransaction(c) {
      const inner = unwrap(c);
      try {
        await driver.commitTransaction(inner);
      } catch (error) {
        const translated = translate(inner, error);
        // The COMMIT may have reached the database and succeeded: the outcome is unknown, not a failure.
        if (translated instanceof IndexUnavailableError) {
          throw new IndexOutcomeUnknownError(`the index database did not confirm a commit: ${(error as Error).message}`, { cause: error });
        }
        throw translated;
      }
    },
    async rollbackTransaction(c) {
      const inner = unwrap(c);
      // Nothing to say to a connection that failed: it is destroyed on release, and the database
      // rolls back a transaction whose connection closes. Waiting for a ROLLBACK on it would only add
      // another timeout, and its failure would hide the error that matters.
      if (broken.has(inner)) return;
      try {
        await driver.rollbackTransaction(inner);
      } catch (error) {
        throw translate(inner, error);
      }
    },
    releaseConnection: (c) => driver.releaseConnection(unwrap(c)),
  };
}
