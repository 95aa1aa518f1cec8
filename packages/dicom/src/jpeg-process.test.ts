import t from 'tap';
import { readManifest, readShared } from '@tessera/test-data';
import { describeInstance } from './part10/describe-instance.js';
import { bufferByteSource } from './part10/file-source.js';
import { jpegTransferSyntax } from './jpeg-process.js';

/** The transfer syntax of a JPEG frame, from its markers (digest DATA-3, STOW-3). */

t.test('every JPEG frame of the shared files names the syntax of its file', async (t) => {
  const jpeg = new Set(['1.2.840.10008.1.2.4.50', '1.2.840.10008.1.2.4.51', '1.2.840.10008.1.2.4.57', '1.2.840.10008.1.2.4.70']);
  let checked = 0;
  for (const [path, row] of readManifest()) {
    if (!jpeg.has(row.transferSyntax) || path.startsWith('bad/')) continue;
    const bytes = readShared(path);
    const d = await describeInstance(bufferByteSource(bytes), { maxHeaderBytes: 64 << 20, inlineBinaryMaxBytes: 1024 }).catch(() => undefined);
    if (d?.frames?.kind !== 'encapsulated') continue;
    const first = d.frames.frames[0]![0]!;
    t.equal(jpegTransferSyntax(bytes.subarray(first.offset, first.offset + first.length)), row.transferSyntax, path);
    checked++;
  }
  t.ok(checked >= 10, `JPEG files checked: ${checked}`);
  t.equal(jpegTransferSyntax(Buffer.from('not a jpeg')), undefined, 'not JPEG');
  t.equal(jpegTransferSyntax(Buffer.from([0xff, 0xd8, 0xff, 0xc2, 0, 2])), undefined, 'progressive: not told');
});
