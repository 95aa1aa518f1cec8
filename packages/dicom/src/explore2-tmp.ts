import { readShared, sharedFiles } from '@tessera/testkit';
import { describeInstance, bufferByteSource } from './index.js';
const opts = { maxHeaderBytes: 1 << 26, inlineBinaryMaxBytes: 1024 };
for (const f of sharedFiles()) {
  let d; const buf = readShared(f);
  try { d = await describeInstance(bufferByteSource(buf), opts); } catch { continue; }
  if (d.frames?.kind === 'encapsulated') {
    const heads = d.frames.frames.map(fr => buf.subarray(fr[0]!.offset, fr[0]!.offset + 4).toString('hex'));
    console.log(f, d.transferSyntaxUid, d.frames.frames.length, d.frames.frames.map(x => x.length).join(','), [...new Set(heads)].join(' '));
  }
  const nonPixel = d.bulkData.filter(b => !b.path.startsWith('7FE0'));
  if (nonPixel.length) console.log('  bulk', f, nonPixel.map(b => `${b.path}:${b.vr}:${b.spans.map(s=>s.length)}`).join(' ').slice(0, 300));
}
