import type { PostgresPool, PostgresPoolClient } from 'kysely';
import type pg from 'pg';
import { isMarkedPrepared, statementName } from './prepared.js';
import { isConnectionFault } from './unavailable.js';

export interface GuardedPoolOptions {
  /** Send queries marked with `preparedStatement()` as named prepared statements (prepared.ts). */
  preparedStatements: boolean;
  /** Told about connection errors that no query was waiting for (for the log; never rethrown). */
  onConnectionError?: (error: Error) => void;
}

/**
 * The pg pool as kysely's PostgresDialect sees it, made safe against a database that goes away:
 *
 * - Every client has an `error` listener for its whole life. pg-pool listens only while a client is
 *   idle; a connection reset while kysely holds a client (inside a transaction, or between a query and
 *   its release) would otherwise be an unhandled `error` event, which ends the process.
 * - A client whose query failed for a connection-level reason (a reset, a read timeout, a refused
 *   statement during shutdown) is destroyed when it is released instead of going back to the pool.
 *   After pg's client-side read timeout the connection still waits for the lost answer, so reusing it
 *   would hand the same dead connection to request after request.
 */
export function guardedPool(pool: pg.Pool, options: GuardedPoolOptions): PostgresPool {
  const broken = new WeakSet<pg.PoolClient>();
  pool.on('connect', (client) => {
    client.on('error', (error) => {
      broken.add(client);
      options.onConnectionError?.(error);
    });
  });
  // An idle client's error (the server closed it) is also seen by the pool, which drops the client.
  pool.on('error', (error) => options.onConnectionError?.(error));

  const clients = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  return {
    async connect() {
      const client = await pool.connect();
      let wrapped = clients.get(client);
      if (!wrapped) {
        const query = client.query.bind(client) as (text: unknown, values?: unknown) => unknown;
        wrapped = {
          query: ((text: unknown, values?: readonly unknown[]) => {
            const result =
              options.preparedStatements && typeof text === 'string' && isMarkedPrepared(text)
                ? client.query({ name: statementName(text), text, values: values as unknown[] })
                : query(text, values);
            // Cursors (streamed queries) are not promises; their errors reach kysely through reads.
            if (result instanceof Promise) {
              return result.catch((error: unknown) => {
                if (isConnectionFault(error)) broken.add(client);
                throw error;
              });
            }
            return result;
          }) as PostgresPoolClient['query'],
          release: (destroy?: boolean) => {
            const destroyIt = destroy === true || broken.has(client);
            broken.delete(client);
            client.release(destroyIt);
          },
        };
        clients.set(client, wrapped);
      }
      return wrapped;
    },
    end: () => pool.end(),
  };
}
