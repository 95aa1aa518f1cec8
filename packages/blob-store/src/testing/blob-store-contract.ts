import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Test } from 'tap';
import type { BlobInfo, BlobStore } from '../blob-store.js';
import { BlobKeyError, BlobNotFoundError, BlobSizeMismatchError } from '../errors.js';

export interface StoreUnderTest {
  store: BlobStore;
  cleanup(): Promise<void>;
}

const MiB = 1024 * 1024;

/**
 * The behaviour every BlobStore backend must share. Each backend's test file runs it against a real
 * instance (a temp directory, an S3 server), so the backends cannot drift apart.
 */
export function runBlobStoreContract(t: Test, name: string, makeStore: () => Promise<StoreUnderTest>): void {
  t.test(`BlobStore contract: ${name}`, async (t) => {
    const { store, cleanup } = await makeStore();
    t.teardown(cleanup);

    t.test('put and get a Buffer body', async (t) => {
      await store.put('roundtrip/buffer', Buffer.from('hello, blob'), 11);
      t.equal((await readAll(await store.get('roundtrip/buffer'))).toString(), 'hello, blob');
    });

    t.test('put and get a stream body', async (t) => {
      const body = Readable.from([Buffer.from('streamed '), Buffer.from('in '), Buffer.from('parts')]);
      await store.put('roundtrip/stream', body, 17);
      t.equal((await readAll(await store.get('roundtrip/stream'))).toString(), 'streamed in parts');
    });

    t.test('a 5 MiB random body comes back byte for byte, whole and in ranges', async (t) => {
      const body = randomBytes(5 * MiB);
      await store.put('exact/5mib', body, body.length);
      t.ok((await readAll(await store.get('exact/5mib'))).equals(body), 'whole object');
      const ranges = [
        { name: 'first byte', start: 0, end: 0 },
        { name: 'middle range', start: 1_000_000, end: 2_999_999 },
        { name: 'last byte', start: body.length - 1, end: body.length - 1 },
      ];
      for (const { name, start, end } of ranges) {
        const part = await readAll(await store.get('exact/5mib', { start, end }));
        t.ok(part.equals(body.subarray(start, end + 1)), name);
      }
      await t.rejects(store.get('exact/5mib', { start: 10, end: 9 }), RangeError, 'end before start');
      await t.rejects(store.get('exact/5mib', { start: -1, end: 9 }), RangeError, 'negative start');
    });

    t.test('readInto reads a range into a buffer at an offset, whole or cut short by the end', async (t) => {
      const body = randomBytes(2 * MiB + 7);
      await store.put('into/object', body, body.length);
      const whole = Buffer.alloc(body.length + 10, 0xee);
      t.equal(await store.readInto('into/object', { start: 0, end: body.length - 1 }, whole, 4), body.length, 'whole object');
      t.ok(whole.subarray(4, 4 + body.length).equals(body), 'its bytes from the offset');
      t.same([...whole.subarray(0, 4), ...whole.subarray(4 + body.length)], Array(10).fill(0xee), 'nothing written around them');
      const middle = Buffer.alloc(1000);
      t.equal(await store.readInto('into/object', { start: 1_000_000, end: 1_000_999 }, middle), 1000, 'a middle range');
      t.ok(middle.equals(body.subarray(1_000_000, 1_001_000)));
      const past = Buffer.alloc(100);
      t.equal(await store.readInto('into/object', { start: body.length - 30, end: body.length + 69 }, past), 30, 'a range past the end reads what exists');
      t.ok(past.subarray(0, 30).equals(body.subarray(body.length - 30)));
      await t.rejects(store.readInto('absent/key', { start: 0, end: 9 }, Buffer.alloc(10)), BlobNotFoundError, 'absent key');
      await t.rejects(store.readInto('into/object', { start: 0, end: 9 }, Buffer.alloc(9)), RangeError, 'target too short');
      await t.rejects(store.readInto('into/object', { start: 5, end: 4 }, Buffer.alloc(9)), RangeError, 'end before start');
    });

    t.test('head of present and absent keys', async (t) => {
      await store.put('head/present', Buffer.from('12345'), 5);
      const info = await store.head('head/present');
      t.equal(info?.key, 'head/present');
      t.equal(info?.size, 5);
      t.ok(info?.lastModified instanceof Date, 'lastModified is a Date');
      t.equal(await store.head('head/absent'), undefined);
    });

    t.test('get of an absent key throws BlobNotFoundError', async (t) => {
      await t.rejects(store.get('absent/key'), BlobNotFoundError);
      await t.rejects(store.get('absent/key', { start: 0, end: 9 }), BlobNotFoundError);
    });

    t.test('delete removes the object and is idempotent', async (t) => {
      await store.put('delete/me', Buffer.from('x'), 1);
      await store.delete('delete/me');
      t.equal(await store.head('delete/me'), undefined);
      await store.delete('delete/me');
      await store.delete('delete/never-existed');
    });

    t.test('list by prefix', async (t) => {
      const keys = ['list/a/1', 'list/a/2/deep', 'list/b', 'listing/c'];
      for (const [index, key] of keys.entries()) await store.put(key, Buffer.alloc(index + 1), index + 1);

      t.same(await listSorted(store, 'list/a/'), [
        { key: 'list/a/1', size: 1 },
        { key: 'list/a/2/deep', size: 2 },
      ]);
      t.same(
        (await listSorted(store, 'list/')).map((info) => info.key),
        ['list/a/1', 'list/a/2/deep', 'list/b'],
        'a trailing slash matches whole segments',
      );
      t.same(
        (await listSorted(store, 'list')).map((info) => info.key),
        ['list/a/1', 'list/a/2/deep', 'list/b', 'listing/c'],
        'a prefix may end mid-segment',
      );
      t.same(await listSorted(store, 'list/z/'), [], 'no match');
      t.same(await listSorted(store, 'nothing-here/'), [], 'absent directory');
    });

    t.test('overwrite replaces the content', async (t) => {
      await store.put('overwrite/key', Buffer.from('first version'), 13);
      await store.put('overwrite/key', Buffer.from('second'), 6);
      t.equal((await readAll(await store.get('overwrite/key'))).toString(), 'second');
      t.equal((await store.head('overwrite/key'))?.size, 6);
    });

    t.test('putFile stores a local file and takes it over', async (t) => {
      const directory = await mkdtemp(join(tmpdir(), 'tessera-putfile-'));
      t.teardown(() => rm(directory, { recursive: true, force: true }));
      const path = join(directory, 'instance.dcm');
      const content = randomBytes(1000);
      await writeFile(path, content);
      await store.putFile('putfile/instance', path, content.length);
      t.ok((await readAll(await store.get('putfile/instance'))).equals(content), 'content stored');
      t.notOk(existsSync(path), 'the local file is gone');
    });

    t.test('putFile of a file the caller synced, then syncKeys, stores it', async (t) => {
      const directory = await mkdtemp(join(tmpdir(), 'tessera-putfile-'));
      t.teardown(() => rm(directory, { recursive: true, force: true }));
      const keys = ['synced/a/one', 'synced/a/two', 'synced/b/three'];
      const contents = keys.map(() => randomBytes(2000));
      for (const [i, key] of keys.entries()) {
        const path = join(directory, `part-${i}`);
        await writeFile(path, contents[i]!, { flush: true });
        await store.putFile(key, path, contents[i]!.length, { synced: store.movesFiles });
        t.notOk(existsSync(path), `${key}: the local file is gone`);
      }
      await store.syncKeys(keys);
      for (const [i, key] of keys.entries()) t.ok((await readAll(await store.get(key))).equals(contents[i]!), `${key}: content stored`);
      await t.resolves(store.syncKeys([]), 'nothing to sync is fine');
    });

    t.test('a body of the wrong size is rejected and leaves no object', async (t) => {
      await t.rejects(store.put('size/short-buffer', Buffer.from('abc'), 4), BlobSizeMismatchError);
      await t.rejects(store.put('size/long-buffer', Buffer.from('abcde'), 4), BlobSizeMismatchError);
      const shortStream = Readable.from([Buffer.from('abc')]);
      await t.rejects(store.put('size/short-stream', shortStream, 4), BlobSizeMismatchError);
      // Big enough for S3's multipart path; the stream ends after some parts were already uploaded.
      const truncated = Readable.from([randomBytes(17 * MiB)]);
      await t.rejects(store.put('size/truncated-large', truncated, 20 * MiB), BlobSizeMismatchError);
      for (const key of ['short-buffer', 'long-buffer', 'short-stream', 'truncated-large']) {
        t.equal(await store.head(`size/${key}`), undefined, `no object at size/${key}`);
      }
      await store.put('size/kept', Buffer.from('old'), 3);
      await t.rejects(store.put('size/kept', Buffer.from('new!'), 3), BlobSizeMismatchError);
      const kept = await readAll(await store.get('size/kept'));
      t.equal(kept.toString(), 'old', 'a failed overwrite keeps the old object');
    });

    t.test('invalid keys are rejected with BlobKeyError', async (t) => {
      for (const key of ['../x', '/abs', 'a//b', 'a/./b', '', 'trailing/', 'a b', 'x'.repeat(901)]) {
        await t.rejects(store.put(key, Buffer.from('x'), 1), BlobKeyError, `put ${JSON.stringify(key)}`);
      }
      await t.rejects(store.get('../x'), BlobKeyError, 'get');
      await t.rejects(store.head('a/../../b'), BlobKeyError, 'head');
      await t.rejects(store.delete('/abs'), BlobKeyError, 'delete');
      await t.rejects(listSorted(store, '../'), BlobKeyError, 'list');
    });

    t.test('a 40 MiB streamed body comes back with the same SHA-256', async (t) => {
      const size = 40 * MiB;
      const written = createHash('sha256');
      async function* randomChunks() {
        for (let offset = 0; offset < size; offset += MiB) {
          const chunk = randomBytes(MiB);
          written.update(chunk);
          yield chunk;
        }
      }
      await store.put('large/40mib', Readable.from(randomChunks()), size);
      const read = createHash('sha256');
      let readSize = 0;
      for await (const chunk of await store.get('large/40mib')) {
        read.update(chunk as Buffer);
        readSize += (chunk as Buffer).length;
      }
      t.equal(readSize, size);
      t.equal(read.digest('hex'), written.digest('hex'));
      t.equal((await store.head('large/40mib'))?.size, size);
    });

    t.test('concurrent puts of different keys', async (t) => {
      const bodies = Array.from({ length: 12 }, (_, index) => randomBytes(10_000 + index));
      await Promise.all(bodies.map((body, index) => store.put(`concurrent/${index}`, body, body.length)));
      for (const [index, body] of bodies.entries()) {
        t.ok((await readAll(await store.get(`concurrent/${index}`))).equals(body), `concurrent/${index}`);
      }
    });
  });
}

async function readAll(stream: Readable): Promise<Buffer> {
  return Buffer.concat((await stream.toArray()) as Buffer[]);
}

async function listSorted(store: BlobStore, prefix: string): Promise<Pick<BlobInfo, 'key' | 'size'>[]> {
  const found: Pick<BlobInfo, 'key' | 'size'>[] = [];
  for await (const { key, size } of store.list(prefix)) found.push({ key, size });
  return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
