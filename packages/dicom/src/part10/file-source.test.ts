import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { headedFileByteSource } from './file-source.js';

t.test('headedFileByteSource reads the same bytes from its in-memory head and from the file', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-headed-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const bytes = randomBytes(10_000);
  const path = join(dir, 'part');
  await writeFile(path, bytes);
  // The head as a spool keeps it: the first 4,000 bytes in uneven socket-sized chunks.
  const head = [bytes.subarray(0, 1000), bytes.subarray(1000, 1003), bytes.subarray(1003, 4000)];
  const source = headedFileByteSource(path, bytes.length, head);
  t.teardown(() => source.close());
  const cases: [string, number, number][] = [
    ['inside the first chunk', 10, 100],
    ['across three chunks', 990, 2000],
    ['ending exactly at the head', 3000, 1000],
    ['beyond the head, from the file', 3500, 2000],
    ['past the end, cut at the size', 9990, 100],
    ['at the end, empty', 10_000, 10],
  ];
  for (const [name, offset, length] of cases) {
    const read = await source.read(offset, length);
    t.ok(read.equals(bytes.subarray(offset, Math.min(bytes.length, offset + length))), name);
  }
});
