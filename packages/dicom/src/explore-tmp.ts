import { SHARED_DICOM, sharedFiles, readManifest } from '@tessera/testkit';
import { describeInstance, fileByteSource, DicomParseError } from './index.js';
import { join } from 'node:path';
const manifest = readManifest();
const t0 = Date.now();
for (const f of sharedFiles()) {
  const src = await fileByteSource(join(SHARED_DICOM, f));
  try {
    const d = await describeInstance(src, { maxHeaderBytes: 64 << 20, inlineBinaryMaxBytes: 1024 });
    const m = manifest.get(f);
    const same = m ? (m.sopUid=m.sopUid.trim(), m.studyUid === d.studyInstanceUid && m.seriesUid === d.seriesInstanceUid && m.sopUid === d.sopInstanceUid && (m.transferSyntax === d.transferSyntaxUid)) : 'nomanifest';
    console.log('OK ', f, same, m?.transferSyntax, d.transferSyntaxUid, d.numberOfFrames, d.frames?.kind, JSON.stringify(d.warnings));
  } catch (e) {
    if (e instanceof DicomParseError) console.log('ERR', f, e.reason.toString(16), e.message);
    else console.log('CRASH', f, e);
  } finally { await src.close(); }
}
console.log(Date.now() - t0, 'ms');
