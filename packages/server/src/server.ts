import { type BlobStore, createBlobStore } from '@tessera/blob-store';
import { type Index, openIndex } from '@tessera/index';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import { type Config, isLoopback } from './config.js';

export interface RunningServer {
  app: FastifyInstance;
  index: Index;
  blobs: BlobStore;
  url: string;
  close(): Promise<void>;
}

/** Opens the index (applying migrations) and the blob store, builds the app and listens. */
export async function startServer(config: Config): Promise<RunningServer> {
  let app: FastifyInstance | undefined;
  const index = await openIndex(config.index, {
    onConnectionError: (error) => app?.log.warn({ err: error }, 'an idle index database connection failed; it is replaced'),
  });
  const blobs = createBlobStore(config.blobs);
  app = await buildApp({ config, index, blobs });
  const url = await app.listen({ host: config.host, port: config.port });
  if (!config.publicUrl && config.allowedHosts.length === 0 && !config.trustProxy && ['0.0.0.0', '::'].includes(config.host)) {
    app.log.warn(
      'listening on all interfaces without PUBLIC_URL, ALLOWED_HOSTS or TRUST_PROXY: emitted URLs use the address each connection came in on, not the Host header (docs/deployment.md)',
    );
  }
  if (config.auth.methods.length === 0 && !isLoopback(config.host)) {
    app.log.warn(
      `AUTH_MODE=none on ${config.host}: anyone who reaches this port may read, store and delete every image (AUTH_ALLOW_UNAUTHENTICATED=true); docs/security.md`,
    );
  }
  const started = app;
  return {
    app: started,
    index,
    blobs,
    url,
    async close() {
      await started.close();
      await index.close();
      await blobs.close();
    },
  };
}
