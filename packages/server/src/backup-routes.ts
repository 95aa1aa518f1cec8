import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { FastifyPluginAsync } from 'fastify';
import type { Index } from '@tessera/index';

export interface BackupRoutesOptions {
  index: Pick<Index, 'snapshot'>;
}

/**
 * `GET /api/backup/index` (admin scope), embedded deployment only: a consistent snapshot of the
 * PGlite index, taken while the server keeps serving (PGlite belongs to this process, so no other
 * process can copy its data directory safely while it runs). The body is a gzipped tarball of the
 * data directory; `tar -xzf` into an empty directory gives a data directory the server opens
 * (docs/reliability.md, "Backup and restore"). On PostgreSQL the route is not registered: pg_dump is
 * the tool there.
 */
export const backupRoutes: FastifyPluginAsync<BackupRoutesOptions> = async (app, { index }) => {
  const snapshot = index.snapshot;
  if (!snapshot) return;
  app.get('/api/backup/index', async (request, reply) => {
    const tarball = await snapshot();
    request.log.info({ bytes: tarball.size }, 'index snapshot taken for a backup');
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    return reply
      .type('application/gzip')
      .header('content-length', tarball.size)
      .header('content-disposition', `attachment; filename="tessera-index-${stamp}.tar.gz"`)
      .header('cache-control', 'no-store')
      .send(Readable.fromWeb(tarball.stream() as WebReadableStream<Uint8Array>));
  });
};
