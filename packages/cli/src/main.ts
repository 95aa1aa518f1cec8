#!/usr/bin/env node
import cluster from 'node:cluster';
import { resolve } from 'node:path';
import type { Config } from '@tessera/server';
import { type CommandLine, parseCommandLine } from './command-line.js';

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
      const { loadConfig, startServer, VERSION: serverVersion } = await import('@tessera/server');
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
      server.app.log.info(
        { version: serverVersion, index: server.index.description, blobStore: server.blobs.description },
        `Tessera ${serverVersion}: DICOMweb root ${server.url}/dicomweb`,
      );
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
        import('@tessera/server'),
        import('@tessera/index'),
        import('@tessera/blob-store'),
        import('@tessera/stow-rs'),
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
    case 'keys-create':
    case 'keys-list':
    case 'keys-revoke':
      return manageKeys(command);
    case 'config': {
      const { SETTINGS } = await import('@tessera/server');
      for (const [name, defaultValue, meaning] of SETTINGS) console.log(`${name.padEnd(30)} ${(defaultValue || '-').padEnd(14)} ${meaning}`);
      return 0;
    }
  }
}

/**
 * `tessera keys …` on the configured index (DATABASE_URL or the embedded one under DATA_DIR). A new
 * key is printed once, on stdout alone (so `KEY=$(tessera keys create …)` works); what else is said
 * goes to stderr. Nothing prints a stored hash.
 */
async function manageKeys(command: Extract<CommandLine, { kind: `keys-${string}` }>): Promise<number> {
  const [{ loadConfig }, { openIndex }, { generateApiKey }] = await Promise.all([
    import('@tessera/server'),
    import('@tessera/index'),
    import('@tessera/access'),
  ]);
  const index = await openIndex(loadConfig().index);
  try {
    switch (command.kind) {
      case 'keys-create': {
        const key = generateApiKey();
        const expiresAt = command.expiresInMs === undefined ? undefined : new Date(Date.now() + command.expiresInMs);
        await index.apiKeys.create({ id: key.id, name: command.name, scopes: command.scopes, secretHash: key.secretHash, ...(expiresAt ? { expiresAt } : {}) });
        console.error(
          `created key ${key.id} '${command.name}' with scopes ${command.scopes.join(',')}${expiresAt ? `, expiring ${expiresAt.toISOString()}` : ''}; it is shown once:`,
        );
        console.log(key.key);
        return 0;
      }
      case 'keys-list': {
        const when = (date: Date | null) => date?.toISOString() ?? '-';
        console.log(['id', 'name', 'scopes', 'created', 'last used', 'expires', 'revoked'].join('\t'));
        for (const key of await index.apiKeys.list()) {
          console.log([key.id, key.name, key.scopes.join(','), when(key.createdAt), when(key.lastUsedAt), when(key.expiresAt), when(key.revokedAt)].join('\t'));
        }
        return 0;
      }
      case 'keys-revoke': {
        if (!(await index.apiKeys.revoke(command.id))) {
          console.error(`tessera keys revoke: no key with id '${command.id}' (tessera keys list shows them)`);
          return 1;
        }
        console.log(`revoked key ${command.id}; every server stops accepting it within AUTH_KEY_CACHE_SECONDS`);
        return 0;
      }
    }
  } finally {
    await index.close();
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
