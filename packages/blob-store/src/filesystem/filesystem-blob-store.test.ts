import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import t from 'tap';
import { runBlobStoreContract } from '../testing/blob-store-contract.js';
import { BlobKeyError, BlobNotFoundError, BlobSizeMismatchError, BlobStoreUnavailableError } from '../errors.js';
import { FilesystemBlobStore } from './filesystem-blob-store.js';

async function tempDirectory(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'tessera-fs-blobs-'));
}

runBlobStoreContract(t, 'filesystem', async () => {
  const directory = await tempDirectory();
  // A root that does not exist yet, as on a first start.
  const store = new FilesystemBlobStore({ root: join(directory, 'blobs') });
  return { store, cleanup: () => rm(directory, { recursive: true, force: true }) };
});

t.test('filesystem specifics', async (t) => {
  const directory = await tempDirectory();
  t.teardown(() => rm(directory, { recursive: true, force: true }));
  const root = join(directory, 'root');
  const store = new FilesystemBlobStore({ root });

  t.test('check() passes on a writable root', async () => {
    await store.check();
  });

  t.test('a failed put leaves no temporary file behind', async (t) => {
    await t.rejects(store.put('a/b', Readable.from([Buffer.from('abc')]), 10), BlobSizeMismatchError);
    t.same(await readdir(join(root, '.tmp')), []);
  });

  t.test('putFile of a file not synced by the caller checks its size and leaves it on a mismatch', async (t) => {
    const path = join(directory, 'unsynced');
    await writeFile(path, 'abc');
    await t.rejects(store.putFile('unsynced/x', path, 4), BlobSizeMismatchError);
    t.equal(await store.head('unsynced/x'), undefined);
    t.equal(await readFile(path, 'utf8'), 'abc');
  });

  t.test('the temporary directory is reserved and not listed', async (t) => {
    await t.rejects(store.put('.tmp/x', Buffer.from('x'), 1), BlobKeyError);
    await store.put('listed', Buffer.from('x'), 1);
    const keys: string[] = [];
    for await (const { key } of store.list('')) keys.push(key);
    t.same(keys, ['listed']);
  });

  t.test('a key under an existing object is absent, not an error', async (t) => {
    t.equal(await store.head('listed/below'), undefined);
    await store.delete('listed/below');
  });

  t.test('reads close their file: read to the end, abandoned midway, or of a directory', async (t) => {
    const openFiles = async () => (await readdir('/proc/self/fd')).length;
    const body = Buffer.alloc(3 * 1024 * 1024 + 17, 5);
    await store.put('reads/big', body, body.length);
    await store.put('reads/dir/child', Buffer.from('x'), 1);
    const before = await openFiles();
    const chunks: Buffer[] = [];
    for await (const chunk of await store.get('reads/big', { start: 1, end: body.length - 1 })) chunks.push(chunk as Buffer);
    t.equal(Buffer.concat(chunks).length, body.length - 1, 'a range to the last byte is read whole, in chunks of at most 1 MiB');
    t.ok(
      chunks.every((c) => c.length <= 1 << 20),
      'no chunk is larger than 1 MiB',
    );
    const stream = await store.get('reads/big');
    for await (const _ of stream) break;
    // A range read does not stat first: a key naming a directory fails as absent when it is read.
    const readDirectory = store.get('reads/dir', { start: 0, end: 0 }).then(async (s) => {
      for await (const _ of s);
    });
    await t.rejects(readDirectory, BlobNotFoundError, 'a directory read as an object is absent');
    await new Promise((resolve) => setImmediate(resolve));
    t.equal(await openFiles(), before, 'no file handle is left open');
    t.ok(stream.destroyed, 'an abandoned stream is destroyed');
  });

  t.test('readInto closes its file, also when the key names a directory', async (t) => {
    const openFiles = async () => (await readdir('/proc/self/fd')).length;
    await store.put('into/dir/child', Buffer.from('x'), 1);
    await store.put('into/file', Buffer.from('abcdef'), 6);
    const before = await openFiles();
    const target = Buffer.alloc(6);
    t.equal(await store.readInto('into/file', { start: 0, end: 5 }, target), 6);
    t.equal(target.toString(), 'abcdef');
    await t.rejects(store.readInto('into/dir', { start: 0, end: 0 }, Buffer.alloc(1)), BlobNotFoundError, 'a directory read as an object is absent');
    // readInto does not wait for the close it starts.
    for (let i = 0; i < 100 && (await openFiles()) !== before; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    t.equal(await openFiles(), before, 'no file handle is left open');
  });

  t.test('check() fails with BlobStoreUnavailableError when the root cannot be created', async (t) => {
    const blocker = join(directory, 'a-file');
    await writeFile(blocker, '');
    const broken = new FilesystemBlobStore({ root: join(blocker, 'root') });
    await t.rejects(broken.check(), BlobStoreUnavailableError);
  });
});
