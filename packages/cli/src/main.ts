#!/usr/bin/env node
import cluster from 'node:cluster';
import { resolve } from 'node:path';
import type { Config } from '@tessera/server';
import { parseCommandLine } from './command-line.js';

// The server, index and blob store are imported only by the commands that use them: --help,
// --version and a usage error answer at once (and provably touch nothing).

async function main(argv: string[]): Promise<number> {
  const command = parseCommandLine(argv);
  switch (command.kind) {
    case 'help':
    case 'version':
      console.log(command.text);
      return 0;
    case 'usage-error':
      console.error(`${command.message}\n\n${command.usage}`);
      return 2;
    case 'serve': {
      const { loadConfig, startServer } = await import('@tessera/server');
      const config = loadConfig();
      if (config.workers > 1 && cluster.isPrimary) return superviseWorkers(config);
      const server = await startServer(config);
      const stop = async (signal: string) => {
        server.app.log.info({ signal }, 'shutting down');
        await server.close();
        process.exit(0);
      };
      process.once('SIGINT', () => void stop('SIGINT'));
      process.once('SIGTERM', () => void stop('SIGTERM'));
      server.app.log.info({ index: server.index.description, blobStore: server.blobs.description }, `DICOMweb root ${server.url}/dicomweb`);
      return -1; // keep running
    }
    case 'migrate': {
      const [{ loadConfig }, { openIndex }] = await Promise.all([import('@tessera/server'), import('@tessera/index')]);
      const config = loadConfig();
      const index = await openIndex(config.index);
      console.log(`index ${index.description} is at the latest schema`);
      await index.close();
      return 0;
    }
    case 'gc': {
      const [{ loadConfig }, { openIndex }, { createBlobStore }, { collectOrphans }] = await Promise.all([
        import('@tessera/server'), import('@tessera/index'), import('@tessera/blob-store'), import('@tessera/stow-rs'),
      ]);
      const config = loadConfig();
      const index = await openIndex(config.index);
      const blobs = createBlobStore(config.blobs);
      try {
        const dryRun = !command.delete;
        const report = await collectOrphans(index, blobs, { spoolDir: resolve(config.dataDir, 'spool'), graceMs: command.graceMinutes * 60_000, dryRun });
        const what = `${report.removed.length} orphan blob(s) of ${report.examined} examined and ${report.spoolFilesRemoved} stale spool file(s), older than ${command.graceMinutes} min`;
        console.log(dryRun ? `dry run: would delete ${what}:` : `deleted ${what}:`);
        for (const key of report.removed) console.log(`  ${key}`);
        if (dryRun && (report.removed.length > 0 || report.spoolFilesRemoved > 0)) console.log('nothing was deleted; run `tessera gc --delete` to delete them');
      } finally {
        await index.close();
        await blobs.close();
      }
      return 0;
    }
    case 'config': {
      const { SETTINGS } = await import('@tessera/server');
      for (const [name, defaultValue, meaning] of SETTINGS) console.log(`${name.padEnd(30)} ${(defaultValue || '-').padEnd(14)} ${meaning}`);
      return 0;
    }
  }
}

/**
 * WORKERS > 1: this process applies the migrations once, then forks that many servers sharing the
 * port (node:cluster hands connections to them in turn) and replaces any that dies unexpectedly.
 * SIGTERM/SIGINT stop every worker gracefully (each closes its server, then its index).
 */
async function superviseWorkers(config: Config): Promise<number> {
  const { openIndex } = await import('@tessera/index');
  const index = await openIndex(config.index);
  await index.close();
  let stopping = false;
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    console.error(`worker ${worker.process.pid} exited (${signal ?? code}); starting another`);
    cluster.fork();
  });
  for (let i = 0; i < config.workers; i++) cluster.fork();
  const stop = () => {
    stopping = true;
    const workers = Object.values(cluster.workers ?? {}).filter((w) => w !== undefined);
    let left = workers.length;
    if (left === 0) process.exit(0);
    for (const worker of workers) {
      worker.once('exit', () => {
        if (--left === 0) process.exit(0);
      });
      worker.process.kill('SIGTERM');
    }
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return -1; // keep running
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    if (error instanceof Error && error.name === 'ConfigError') console.error(`configuration error: ${error.message}`);
    else if (error instanceof Error && error.name === 'IndexStorageFullError') console.error(`cannot start: ${error.message}`);
    else console.error(error);
    process.exit(1);
  },
);
