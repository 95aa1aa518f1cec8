/**
 * The embedded index's commits are forced to disk before they return, as on a PostgreSQL server.
 *
 * PGlite 0.5.16 is not durable on Node as shipped (electric-sql/pglite#1107), for three reasons, each
 * handled here:
 * - it starts PostgreSQL with `-F` (fsync off), so a commit never asks for a sync: `durableStartParams`
 *   drops `-F` and sets `fsync=on`;
 * - Emscripten's `fdatasync` (PostgreSQL's default `wal_sync_method` on Linux) is a no-op that never
 *   reaches the file system, while `fsync` is the WASI `fd_sync`, which calls the stream's
 *   `stream_ops.fsync`: `wal_sync_method=fsync` routes the WAL flush at commit through it;
 * - Emscripten's NODEFS has no `stream_ops.fsync`, so `fd_sync` succeeds without a system call:
 *   `DurableNodeFS` gives it one, on the Node file descriptor (`stream.nfd`) behind the stream.
 * PostgreSQL then syncs the WAL at every commit and the data files at every checkpoint; a failed sync
 * reaches it as an errno (EIO, ENOSPC), on which PostgreSQL stops rather than go on with lost data.
 */
import fs from 'node:fs';
import { NodeFS } from '@electric-sql/pglite/nodefs';

type PGliteOfNodeFS = Parameters<NodeFS['init']>[0];
type PostgresMod = Parameters<NodeFS['init']>[1];

/** The parts of Emscripten's NODEFS and of a stream on it that the sync uses (not in PGlite's types). */
interface NodeStream {
  nfd?: number;
  node: { mode: number };
}
interface EmscriptenNodeFs {
  stream_ops: { fsync?: (stream: NodeStream) => number };
  tryFSOperation: <T>(operation: () => T) => T;
}

/** PGlite's start parameters with fsync on and the WAL flushed by `fsync` (see above). */
export function durableStartParams(defaults: readonly string[]): string[] {
  return [...defaults.filter((param) => param !== '-F'), '-c', 'fsync=on', '-c', 'wal_sync_method=fsync'];
}

/** PGlite's Node file system for a data directory, whose streams sync to disk when PostgreSQL asks. */
export class DurableNodeFS extends NodeFS {
  override async init(pg: PGliteOfNodeFS, opts: PostgresMod): Promise<{ emscriptenOpts: PostgresMod }> {
    const { emscriptenOpts } = await super.init(pg, opts);
    // Before PostgreSQL starts (preRun), so that its start-up recovery and checkpoint are synced too.
    return { emscriptenOpts: { ...emscriptenOpts, preRun: [...(emscriptenOpts.preRun ?? []), (mod: unknown) => installFsync(mod)] } };
  }
}

function installFsync(mod: unknown): void {
  const nodefs = (mod as { NODEFS?: EmscriptenNodeFs }).NODEFS;
  if (!nodefs?.stream_ops || typeof nodefs.tryFSOperation !== 'function') {
    // A PGlite whose file system is built otherwise: fail at start, never run without syncs.
    throw new Error('PGlite has no Emscripten NODEFS to give an fsync to: the embedded index cannot be made durable with this PGlite version');
  }
  nodefs.stream_ops.fsync = (stream) => {
    const fd = stream.nfd;
    if (fd === undefined) return 0; // not opened on the Node file system: nothing of ours to sync
    // A directory is synced for its entries (a new WAL segment, a renamed file): its metadata, so
    // fsync. A file's data and size are what recovery reads: fdatasync, as PostgreSQL uses natively.
    // tryFSOperation turns Node's error into the errno PostgreSQL sees (it then stops: a lost write).
    const isDirectory = (stream.node.mode & 0o170000) === 0o040000;
    nodefs.tryFSOperation(() => (isDirectory ? fs.fsyncSync(fd) : fs.fdatasyncSync(fd)));
    return 0;
  };
}
