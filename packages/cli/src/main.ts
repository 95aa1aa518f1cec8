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
        console.log(`${dryRun ? 'would delete' : 'deleted'} ${report.renderingsRemoved.length} cached rendering(s) of instances no longer stored`);
        if (dryRun && (report.removed.length > 0 || report.renderingsRemoved.length > 0 || report.spoolFilesRemoved > 0))
          console.log('nothing was deleted; run `tessera gc --delete` to delete them');
      } finally {
        await index.close();
        await blobs.close();
      }
      return 0;
    }
    case 'verify': {
      const [{ loadConfig }, { openIndex }, { createBlobStore }, { runVerify }] = await Promise.all([
        import('@tessera/server'),
        import('@tessera/index'),
        import('@tessera/blob-store'),
        import('./verify/run-verify.js'),
      ]);
      // Exit code 2, not 1, when the check cannot even start: 1 means "problems found".
      let index, blobs;
      try {
        const config = loadConfig();
        index = await openIndex(config.index);
        blobs = createBlobStore(config.blobs);
      } catch (error) {
        console.error(`tessera verify: cannot open the archive: ${(error as Error).message}`);
        await index?.close();
        return 2;
      }
      try {
        return await runVerify(index, blobs, { level: command.level, rate: command.rate, json: command.json, studyInstanceUid: command.study }, process);
      } finally {
        await index.close();
        await blobs.close();
      }
    }
    case 'keys-create':
    case 'keys-list':
    case 'keys-revoke':
      return manageKeys(command);
    case 'share-create':
    case 'share-list':
    case 'share-revoke':
      return manageShares(command);
    case 'delete':
      return deleteCommand(command);
    case 'upload':
      return upload(command);
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
 * `tessera share …` on the configured index, as `POST/GET/DELETE /api/shares` do (issue #14). The link
 * is printed once, on stdout alone (so `LINK=$(tessera share …)` works); what else is said goes to
 * stderr. Creating and revoking are audit events with the CLI's user as actor.
 */
async function manageShares(command: Extract<CommandLine, { kind: `share-${string}` }>): Promise<number> {
  const [{ loadConfig }, { openIndex }, { generateShareToken }, { userInfo }] = await Promise.all([
    import('@tessera/server'),
    import('@tessera/index'),
    import('@tessera/access'),
    import('node:os'),
  ]);
  const config = loadConfig();
  const index = await openIndex(config.index);
  const actor = { kind: 'cli', id: userInfo().username || 'cli' };
  const audit = (type: 'share-created' | 'share-revoked', id: string, study: string) =>
    index.audit.append([
      {
        occurredAt: new Date(),
        type,
        action: type === 'share-created' ? 'C' : 'U',
        outcome: 0,
        actor,
        studyUids: [study],
        detail: { service: 'cli', share: id },
      },
    ]);
  try {
    switch (command.kind) {
      case 'share-create': {
        if (command.expiresInMs > config.shares.maxLifetimeMs) {
          console.error(`tessera share: --expires may be at most ${config.shares.maxLifetimeMs / 86_400_000} days (SHARE_MAX_DAYS)`);
          return 2;
        }
        const found = await index.search.searchStudies({
          level: 'study',
          scope: { studyInstanceUid: command.studyInstanceUid },
          filters: [],
          includeFields: [],
          limit: 1,
          offset: 0,
        });
        if (found.matches.length === 0) {
          console.error(`tessera share: no study ${command.studyInstanceUid} is stored here`);
          return 1;
        }
        const token = generateShareToken();
        const share = await index.shares.create({
          id: token.id,
          studyInstanceUid: command.studyInstanceUid,
          secretHash: token.secretHash,
          ...(command.note ? { note: command.note } : {}),
          createdBy: `cli:${actor.id}`,
          expiresAt: new Date(Date.now() + command.expiresInMs),
        });
        await audit('share-created', share.id, share.studyInstanceUid);
        if (!config.publicUrl) console.error('PUBLIC_URL is not set: put the address of the server before the path below');
        console.error(`created share ${share.id} of study ${share.studyInstanceUid}, expiring ${share.expiresAt.toISOString()}; the link is shown once:`);
        console.log(`${config.publicUrl ?? ''}/s/${token.token}`);
        return 0;
      }
      case 'share-list': {
        const when = (date: Date | null) => date?.toISOString() ?? '-';
        console.log(['id', 'study', 'note', 'created by', 'created', 'expires', 'state'].join('\t'));
        for (const share of await index.shares.list(command.studyInstanceUid ? { studyInstanceUid: command.studyInstanceUid } : {})) {
          const state = share.revokedAt ? `revoked ${when(share.revokedAt)}` : share.expiresAt.getTime() <= Date.now() ? 'expired' : 'active';
          console.log([share.id, share.studyInstanceUid, share.note ?? '-', share.createdBy, when(share.createdAt), when(share.expiresAt), state].join('\t'));
        }
        return 0;
      }
      case 'share-revoke': {
        const share = await index.shares.revoke(command.id);
        if (!share) {
          console.error(`tessera share revoke: no share with id '${command.id}' (tessera share list shows them)`);
          return 1;
        }
        await audit('share-revoked', share.id, share.studyInstanceUid);
        console.log(`revoked share ${command.id}; every server stops accepting its link and cookies within AUTH_KEY_CACHE_SECONDS`);
        return 0;
      }
    }
  } finally {
    await index.close();
  }
}

/**
 * `tessera delete STUDY [--series UID [--instance UID]] [--yes]` on the configured index and blob
 * store, through the same function as the DELETE routes (@tessera/lifecycle). Asks for confirmation on
 * a terminal; refuses without one unless --yes. Recorded in the audit trail (when it is on) as the
 * DELETE route records it, with the operating-system user as the actor.
 */
async function deleteCommand(command: Extract<CommandLine, { kind: 'delete' }>): Promise<number> {
  const target = {
    studyInstanceUid: command.study,
    ...(command.series !== undefined ? { seriesInstanceUid: command.series } : {}),
    ...(command.instance !== undefined ? { sopInstanceUid: command.instance } : {}),
  };
  const [{ loadConfig }, { openIndex }, { createBlobStore }, { deleteResource, describeDeletionTarget }] = await Promise.all([
    import('@tessera/server'),
    import('@tessera/index'),
    import('@tessera/blob-store'),
    import('@tessera/lifecycle'),
  ]);
  const what = describeDeletionTarget(target);
  if (!command.yes) {
    if (!process.stdin.isTTY) {
      console.error(`tessera delete: refusing to delete ${what} without confirmation: no terminal to ask on; add --yes to delete anyway`);
      return 2;
    }
    const { createInterface } = await import('node:readline/promises');
    const prompt = createInterface({ input: process.stdin, output: process.stderr });
    const answer = await prompt.question(`Delete ${what}${command.instance ? '' : ' with everything in it'}? This cannot be undone. Type "yes" to confirm: `);
    prompt.close();
    if (answer.trim().toLowerCase() !== 'yes') {
      console.error('nothing was deleted');
      return 1;
    }
  }
  const config = loadConfig();
  const index = await openIndex(config.index);
  const blobs = createBlobStore(config.blobs);
  try {
    const log = { warn: (obj: object, msg: string) => console.error(`warning: ${msg} (${(obj as { key?: string }).key ?? ''})`) };
    const outcome = await deleteResource({ index, blobs, log }, target);
    const level = command.instance ? 'instance' : command.series ? 'series' : 'study';
    if (config.audit.enabled) {
      const { userInfo } = await import('node:os');
      await index.audit.append([
        {
          occurredAt: new Date(),
          type: level === 'study' ? 'study-deleted' : 'instances-accessed',
          action: 'D',
          outcome: outcome ? 0 : 4,
          actor: { kind: 'cli', id: userInfo().username },
          route: 'tessera delete',
          studyUids: [command.study],
          detail: { service: 'delete', level },
        },
      ]);
    }
    if (!outcome) {
      console.error(`tessera delete: ${what} is not stored; nothing was deleted`);
      return 1;
    }
    console.log(
      `deleted ${outcome.sopInstanceUids.length} instance(s)${outcome.seriesInstanceUids.length ? ` and ${outcome.seriesInstanceUids.length} series` : ''}${outcome.studyRemoved ? '; the study is gone' : ''}`,
    );
    if (outcome.blobsLeft.length) console.log(`${outcome.blobsLeft.length} blob(s) could not be removed now; \`tessera gc --delete\` removes them`);
    return 0;
  } finally {
    await index.close();
    await blobs.close();
  }
}

/**
 * `tessera upload`: a client of any DICOMweb server, so it reads no server configuration; only PORT
 * (for the default URL, the local server) and TESSERA_TOKEN (a credential kept out of the command
 * line, where shell history and process lists would show it).
 */
async function upload(command: Extract<CommandLine, { kind: 'upload' }>): Promise<number> {
  const { uploadFiles, exitCode, createProgressReporter, formatSummary, DEFAULT_RETRY } = await import('@tessera/upload');
  const url = command.url ?? `http://127.0.0.1:${process.env.PORT || '8080'}/dicomweb`;
  const token = command.token ?? (process.env.TESSERA_TOKEN || undefined);
  const progress = createProgressReporter(process.stderr);
  const started = performance.now();
  console.error(`uploading to ${url}`);
  let report;
  try {
    report = await uploadFiles(command.paths, {
      target: { url, ...(token ? { token } : {}) },
      concurrency: command.concurrency,
      batchFiles: command.batch,
      retry: { ...DEFAULT_RETRY, attempts: command.retries + 1 },
      events: progress.events,
    });
  } finally {
    progress.stop();
  }
  console.log(formatSummary(report, (performance.now() - started) / 1000));
  return exitCode(report);
}

/**
 * WORKERS > 1: this process applies the migrations once, then forks that many servers sharing the
 * port (node:cluster hands connections to them in turn) and replaces any that dies unexpectedly. It
 * also sums the workers' metrics for whichever of them a scrape of /metrics reaches.
 * SIGTERM/SIGINT stop every worker gracefully (each closes its server, then its index).
 */
async function superviseWorkers(config: Config): Promise<number> {
  const [{ openIndex }, { serveWorkerMetrics }] = await Promise.all([import('@tessera/index'), import('@tessera/server')]);
  const index = await openIndex(config.index);
  await index.close();
  // Each worker's /metrics answers for all of them: this process gathers and sums their registries.
  if (config.metrics.enabled) serveWorkerMetrics();
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
