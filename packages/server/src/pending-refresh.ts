import type { FastifyInstance } from 'fastify';
import type { Index } from '@tessera/index';

/** How often studies left marked for a refresh (by a request that never finished) are recomputed. */
const SWEEP_INTERVAL_MS = 60_000;

/**
 * Keeps computed study attributes right after a crash (QIDO-8): when the server is ready, and then
 * every minute, studies that a store transaction marked but whose request never got to its refresh
 * (kill -9, a lost database connection) are recomputed. A failure is logged and retried at the next
 * sweep; it never stops the server.
 */
export function installPendingRefresh(app: FastifyInstance, index: Index): void {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const sweep = () => {
    running ??= index.instances
      .refreshPendingStudies()
      .then((count) => {
        if (count) app.log.info({ studies: count }, 'recomputed the counts of studies left marked by unfinished uploads');
      })
      .catch((error: unknown) => app.log.warn({ err: error }, 'could not recompute the counts of marked studies; retrying at the next sweep'))
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  app.addHook('onReady', async () => {
    await sweep();
    timer = setInterval(() => void sweep(), SWEEP_INTERVAL_MS).unref();
  });
  app.addHook('onClose', async () => {
    clearInterval(timer);
    await running;
  });
}
