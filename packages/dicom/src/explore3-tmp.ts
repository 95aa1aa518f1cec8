import { SHARED_DICOM, sharedFiles, readShared } from '@tessera/testkit';
import { describeInstance, fileByteSource, DicomParseError } from './index.js';
import { join } from 'node:path';
const lines = readShared('MANIFEST.tsv').toString('utf8').split(/\r?\n/).filter(Boolean);
const cols = lines[0]!.split('\t');
const rows = new Map(lines.slice(1).map(l => { const c = l.split('\t'); return [c[0], Object.fromEntries(cols.map((n, i) => [n, c[i] ?? '']))]; }));
const problems: string[] = [];
function walk(ds: any, path: string, f: string) {
  const keys = Object.keys(ds);
  const sorted = [...keys].sort();
  if (keys.join() !== sorted.join()) problems.push(`${f} ${path} unsorted`);
  for (const k of keys) {
    const a = ds[k];
    if (!/^[0-9A-F]{8}$/.test(k) || k.endsWith('0000') || k.startsWith('0002')) problems.push(`${f} ${path}${k} bad key`);
    if (/[ a-z]/.test(a.vr)) problems.push(`${f} ${path}${k} bad vr ${a.vr}`);
    const n = ['Value', 'BulkDataURI', 'InlineBinary'].filter(x => x in a).length;
    if (n > 1) problems.push(`${f} ${path}${k} multi`);
    if ('Value' in a) {
      if (!Array.isArray(a.Value)) problems.push(`${f} ${path}${k} non-array`);
      if (a.Value.length === 1 && a.Value[0] === '') problems.push(`${f} ${path}${k} empty string`);
      if (a.Value.length === 0) problems.push(`${f} ${path}${k} empty array`);
      if (a.vr === 'SQ') a.Value.forEach((it: any, i: number) => walk(it, `${path}${k}/${i}/`, f));
      if ((a.vr === 'IS' || a.vr === 'DS')) for (const v of a.Value) if (typeof v === 'string') problems.push(`${f} ${path}${k} ${a.vr} string ${JSON.stringify(v)}`);
      if (a.vr === 'PN') for (const v of a.Value) if (v !== null && typeof v !== 'object') problems.push(`${f} ${path}${k} PN not object`);
      for (const v of a.Value) if (typeof v === 'string' && v.includes('\x1b')) problems.push(`${f} ${path}${k} ESC`);
      for (const v of a.Value) if (typeof v === 'string' && / $/.test(v)) problems.push(`${f} ${path}${k} trailing space ${JSON.stringify(v.slice(-20))}`);
      for (const v of a.Value) if (typeof v === 'string' && /\0/.test(v)) problems.push(`${f} ${path}${k} NUL ${JSON.stringify(v.slice(-20))}`);
      for (const v of a.Value) if (typeof v === 'number' && !Number.isFinite(v)) problems.push(`${f} ${path}${k} nonfinite`);
    }
    if (a.vr === 'AT' && a.Value) problems.push(`${f} AT ${path}${k} ${JSON.stringify(a.Value)}`);
  }
}
for (const f of sharedFiles()) {
  const src = await fileByteSource(join(SHARED_DICOM, f));
  try {
    const d = await describeInstance(src, { maxHeaderBytes: 64 << 20, inlineBinaryMaxBytes: 1024 });
    walk(d.metadata, '', f);
    const text = JSON.stringify(d.metadata);
    if (/NaN|Infinity/.test(text)) problems.push(`${f} NaN token?`);
    const pn = d.metadata['00100010'];
    const row = rows.get(f);
    if (f.startsWith('charset/') || f.startsWith('edge/min')) console.log(f, JSON.stringify(pn?.Value), '| manifest:', row?.patient_name, '| cs', JSON.stringify(d.metadata['00080005']));
  } catch (e) {
    if (!(e instanceof DicomParseError)) console.log('CRASH', f, e);
  } finally { await src.close(); }
}
console.log(problems.join('\n'));
