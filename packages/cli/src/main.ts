#!/usr/bin/env node
import cluster from 'node:cluster';
import { type Config, ConfigError, SETTINGS, loadConfig, startServer } from '@tessera/server';
import { resolve } from 'node:path';
import { createBlobStore } from '@tessera/blob-store';
import { IndexStorageFullError, openIndex } from '@tessera/index';
import { collectOrphans } from '@tessera/stow-rs';

const USAGE = `usage: tessera <command>

commands:
  serve     start the DICOMweb server (migrations are applied first)
  migrate   apply pending index migrations and exit
  config    print the settings, their defaults and meaning
  gc [--dry-run] [--grace-minutes N]
            remove blobs that no index row references and stale upload spool files
            (left by a crash between the blob write and the index commit; default grace 60 min)

Configuration comes from environment variables (see \`tessera config\` or the README).`;

async function main(argv: string[]): Promise<number> {
  const command = argv[0] ?? 'serve';
  switch (command) {
    case 'serve': {
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
      const config = loadConfig();
      const index = await openIndex(config.index);
      console.log(`index ${index.description} is at the latest schema`);
      await index.close();
      return 0;
    }
    case 'gc': {
      const config = loadConfig();
      const dryRun = argv.includes('--dry-run');
      const graceArg = argv[argv.indexOf('--grace-minutes') + 1];
      const graceMinutes = argv.includes('--grace-minutes') ? Number(graceArg) : 60;
      if (!Number.isFinite(graceMinutes) || graceMinutes < 0) throw new ConfigError(`--grace-minutes needs a number, got '${graceArg}'`);
      const index = await openIndex(config.index);
      const blobs = createBlobStore(config.blobs);
      try {
        const report = await collectOrphans(index, blobs, { spoolDir: resolve(config.dataDir, 'spool'), graceMs: graceMinutes * 60_000, dryRun });
        console.log(`${dryRun ? 'would remove' : 'removed'} ${report.removed.length} of ${report.examined} blobs, ${report.spoolFilesRemoved} spool files`);
        for (const key of report.removed) console.log(`  ${key}`);
      } finally {
        await index.close();
        await blobs.close();
      }
      return 0;
    }
    case 'config':
      for (const [name, defaultValue, meaning] of SETTINGS) console.log(`${name.padEnd(30)} ${(defaultValue || '-').padEnd(14)} ${meaning}`);
      return 0;
    case '--help':
    case 'help':
      console.log(USAGE);
      return 0;
    default:
      console.error(`unknown command '${command}'\n\n${USAGE}`);
      return 2;
  }
}

/**
 * WORKERS > 1: this process applies the migrations once, then forks that many servers sharing the
 * port (node:cluster hands connections to them in turn) and replaces any that dies unexpectedly.
 * SIGTERM/SIGINT stop every worker gracefully (each closes its server, then its index).
 */
async function superviseWorkers(config: Config): Promise<number> {
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
    if (error instanceof ConfigError) console.error(`configuration error: ${error.message}`);
    else if (error instanceof IndexStorageFullError) console.error(`cannot start: ${error.message}`);
    else console.error(error);
    process.exit(1);
  },
);
