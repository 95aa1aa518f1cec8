import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import t from 'tap';
import { type DicomJsonDataset, FailureReason, Tag, TransferSyntax, bufferByteSource, describeInstance, tagKey } from '@tessera/dicom';
import { HttpProblem, type MultipartPart } from '@tessera/http';
import { type MetadataBulkOptions, metadataBulkInstances } from './metadata-bulk.js';
import type { StorePart } from './store-instances.js';

/**
 * The metadata + bulk data form of STOW-RS turned into PS3.10 streams (digest STOW-3), without HTTP:
 * parts are built in memory, spooled to a scratch folder, and each result is read back with the
 * same header reader STOW uses.
 */

const REQUEST_URL = 'https://pacs.test/dicomweb/studies';
const CT = '1.2.840.10008.5.1.4.1.1.2';

function part(headers: Record<string, string>, body: Buffer): MultipartPart {
  const stream = new PassThrough() as PassThrough & MultipartPart;
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  Object.defineProperty(stream, 'contentType', { value: lower['content-type'] ?? '' });
  Object.defineProperty(stream, 'headers', { value: lower });
  stream.end(body);
  return stream;
}
const json = (value: unknown, type = 'application/dicom+json') => part({ 'Content-Type': type }, Buffer.from(JSON.stringify(value)));
const bulk = (location: string, body: Buffer, type = 'application/octet-stream') => part({ 'Content-Type': type, 'Content-Location': location }, body);

function dataset(sop: string, extra: DicomJsonDataset = {}): DicomJsonDataset {
  return {
    [tagKey(Tag.SOPClassUID)]: { vr: 'UI', Value: [CT] },
    [tagKey(Tag.SOPInstanceUID)]: { vr: 'UI', Value: [sop] },
    [tagKey(Tag.StudyInstanceUID)]: { vr: 'UI', Value: ['1.2.3'] },
    [tagKey(Tag.SeriesInstanceUID)]: { vr: 'UI', Value: ['1.2.3.4'] },
    ...extra,
  };
}
/** A 2×2 MONOCHROME2 16-bit image whose Pixel Data is a bulk data reference. */
const image = (sop: string, uri: string, extra: DicomJsonDataset = {}) =>
  dataset(sop, {
    '00280002': { vr: 'US', Value: [1] },
    '00280004': { vr: 'CS', Value: ['MONOCHROME2'] },
    '00280010': { vr: 'US', Value: [2] },
    '00280011': { vr: 'US', Value: [2] },
    '00280100': { vr: 'US', Value: [16] },
    '00280101': { vr: 'US', Value: [16] },
    '00280102': { vr: 'US', Value: [15] },
    '00280103': { vr: 'US', Value: [0] },
    [tagKey(Tag.PixelData)]: { vr: 'OW', BulkDataURI: uri },
    ...extra,
  });

async function run(
  parts: MultipartPart[],
  options: Partial<MetadataBulkOptions> = {},
): Promise<{ results: (Buffer | Exclude<StorePart, Readable>)[]; leftInSpool: string[] }> {
  const spoolDir = await mkdtemp(join(tmpdir(), 'tessera-metadata-bulk-'));
  try {
    const results: (Buffer | Exclude<StorePart, Readable>)[] = [];
    const generator = metadataBulkInstances(Readable.from(parts, { objectMode: true }), {
      spoolDir,
      maxPartBytes: 1 << 20,
      maxMetadataBytes: 1 << 16,
      requestUrl: REQUEST_URL,
      ...options,
    });
    for await (const result of generator) {
      if (result instanceof Readable) {
        const chunks: Buffer[] = [];
        for await (const chunk of result) chunks.push(chunk as Buffer);
        results.push(Buffer.concat(chunks));
      } else results.push(result);
    }
    return { results, leftInSpool: await readdir(spoolDir) };
  } finally {
    await rm(spoolDir, { recursive: true, force: true });
  }
}

const describe = (file: Buffer) => describeInstance(bufferByteSource(file), { maxHeaderBytes: 1 << 20, inlineBinaryMaxBytes: 1024 });
const problem = (error: unknown) => (error instanceof HttpProblem ? { status: error.status, code: error.code } : error);

t.test('octet-stream Pixel Data: an Explicit VR Little Endian PS3.10 file with the same frame bytes (STOW-3)', async (t) => {
  const pixels = Buffer.from([1, 0, 2, 0, 3, 0, 4, 0]);
  const { results, leftInSpool } = await run([json([image('1.2.3.4.5', 'pixels/1')]), bulk('pixels/1', pixels)]);
  t.equal(results.length, 1);
  const file = results[0] as Buffer;
  t.ok(Buffer.isBuffer(file), 'a stream, not a failure');
  const described = await describe(file);
  t.equal(described.sopInstanceUid, '1.2.3.4.5');
  t.equal(described.sopClassUid, CT, 'the File Meta agrees with the dataset (STOW-8)');
  t.equal(described.transferSyntaxUid, TransferSyntax.ExplicitVRLittleEndian);
  t.match(described.frames, { kind: 'native', count: 1, length: 8 });
  const frames = described.frames!;
  if (frames.kind === 'native') t.same(file.subarray(frames.offset, frames.offset + frames.length), pixels, 'the frame is the bulk data part');
  t.same(leftInSpool, [], 'spooled bulk data is removed when the generator ends');
});

t.test('BulkDataURIs match Content-Locations as written or resolved against the request URL', async (t) => {
  const pixels = Buffer.alloc(8, 7);
  const cases = [
    { name: 'relative URI, absolute location', uri: 'bulk/1', location: 'https://pacs.test/dicomweb/bulk/1' },
    { name: 'absolute URI, relative location', uri: 'https://pacs.test/dicomweb/bulk/2', location: 'bulk/2' },
    {
      name: 'an opaque URN, matched as written',
      uri: 'urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427',
      location: 'urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427',
    },
  ];
  for (const c of cases) {
    const { results } = await run([json([image('1.2.3.4.6', c.uri)]), bulk(c.location, pixels)]);
    t.ok(Buffer.isBuffer(results[0]), c.name);
  }
});

t.test('datasets that cannot be built are failure values, in their place (STOW-5, STOW-8)', async (t) => {
  const { results, leftInSpool } = await run([json([image('1.2.3.4.7', 'missing'), 'not a dataset', dataset('1.2.3.4.8')])]);
  t.match(
    results[0],
    {
      kind: 'failed',
      sopClassUid: CT,
      sopInstanceUid: '1.2.3.4.7',
      reason: FailureReason.CannotUnderstand,
      detail: /no bulk data part has the Content-Location "missing"/,
    },
    'a BulkDataURI with no part: C000, with the instance UIDs',
  );
  t.match(results[1], { kind: 'failed', reason: FailureReason.CannotUnderstand, detail: /not a DICOM JSON dataset/ }, 'an item that is not an object: C000');
  t.equal((results[1] as { sopInstanceUid?: string }).sopInstanceUid, undefined, 'no UIDs for it');
  t.ok(Buffer.isBuffer(results[2]), 'the next dataset is still built');
  t.same(leftInSpool, []);

  const single = await run([json(dataset('1.2.3.4.9'))]);
  t.ok(Buffer.isBuffer(single.results[0]), 'one dataset alone, not in an array, is accepted');

  const twice = await run([
    json([dataset('1.2.3.4.10', { '00081030': { vr: 'LO', BulkDataURI: 'd' } })]),
    bulk('d', Buffer.from('A')),
    bulk('d', Buffer.from('B')),
  ]);
  t.match(
    twice.results[0],
    { kind: 'failed', reason: FailureReason.CannotUnderstand, detail: /2 bulk data parts have the Content-Location "d"/ },
    'two parts for one value',
  );
});

t.test('compressed frames: media type → transfer syntax (digest STOW-3, DATA-3)', async (t) => {
  const frame = Buffer.from([0xff, 0xd8, 0xff, 0xd9]);
  const cases: { name: string; type: string; frames: number; declared?: number; expect: string | number }[] = [
    { name: 'image/x-jls (legacy name) defaults to JPEG-LS lossless', type: 'image/x-jls', frames: 1, expect: TransferSyntax.JPEGLSLossless },
    {
      name: 'image/jls with a transfer-syntax parameter',
      type: `image/jls; transfer-syntax=${TransferSyntax.JPEGLSNearLossless}`,
      frames: 1,
      expect: TransferSyntax.JPEGLSNearLossless,
    },
    { name: 'image/dicom-rle, two frames for NumberOfFrames 2', type: 'image/dicom-rle', frames: 2, declared: 2, expect: TransferSyntax.RLELossless },
    { name: 'frames fewer than NumberOfFrames: A900', type: 'image/dicom-rle', frames: 1, declared: 3, expect: FailureReason.DataSetDoesNotMatchSOPClass },
    { name: 'image/png is not storable as frames: C122', type: 'image/png', frames: 1, expect: FailureReason.TransferSyntaxNotSupported },
  ];
  for (const c of cases) {
    const extra: DicomJsonDataset = c.declared ? { [tagKey(Tag.NumberOfFrames)]: { vr: 'IS', Value: [c.declared] } } : {};
    const parts = [json([image('1.2.3.4.11', 'f', extra)]), ...Array.from({ length: c.frames }, () => bulk('f', frame, c.type))];
    const [result] = (await run(parts)).results;
    if (typeof c.expect === 'number') t.match(result, { kind: 'failed', reason: c.expect }, c.name);
    else t.equal(Buffer.isBuffer(result) ? (await describe(result)).transferSyntaxUid : result, c.expect, c.name);
  }
  const [mixed] = (
    await run([
      json([image('1.2.3.4.12', 'f', { [tagKey(Tag.NumberOfFrames)]: { vr: 'IS', Value: [2] } })]),
      bulk('f', frame, 'image/jls'),
      bulk('f', frame, 'image/dicom-rle'),
    ])
  ).results;
  t.match(mixed, { kind: 'failed', reason: FailureReason.CannotUnderstand, detail: /not all of the same media type/ }, 'frames of two media types: C000');
});

t.test('requests that fail as a whole are problems (PS3.18 §10.5.1.4)', async (t) => {
  const cases: { name: string; parts: () => MultipartPart[]; options?: Partial<MetadataBulkOptions>; expect: { status: number; code: string } }[] = [
    { name: 'first part not JSON', parts: () => [bulk('x', Buffer.from('x'))], expect: { status: 400, code: 'METADATA_PART' } },
    {
      name: 'bulk part without Content-Location',
      parts: () => [json([dataset('1.1')]), part({ 'Content-Type': 'application/octet-stream' }, Buffer.from('x'))],
      expect: { status: 400, code: 'BULK_DATA_LOCATION' },
    },
    {
      name: 'metadata that is not JSON',
      parts: () => [part({ 'Content-Type': 'application/dicom+json' }, Buffer.from('[{'))],
      expect: { status: 400, code: 'METADATA_JSON' },
    },
    { name: 'metadata that is a JSON number', parts: () => [json(42)], expect: { status: 400, code: 'METADATA_JSON' } },
    {
      name: 'metadata over STOW_MAX_HEADER_BYTES',
      parts: () => [json([dataset('1.1')])],
      options: { maxMetadataBytes: 16 },
      expect: { status: 413, code: 'METADATA_TOO_LARGE' },
    },
    {
      name: 'two metadata parts share the limit',
      parts: () => [json([dataset('1.1')]), json([dataset('1.2')], 'application/json')],
      options: { maxMetadataBytes: 250 },
      expect: { status: 413, code: 'METADATA_TOO_LARGE' },
    },
  ];
  for (const c of cases) {
    const error = await run(c.parts(), c.options).then(
      () => undefined,
      (e: unknown) => e,
    );
    t.same(problem(error), c.expect, c.name);
  }
  const spoolDir = await mkdtemp(join(tmpdir(), 'tessera-metadata-bulk-'));
  t.teardown(() => rm(spoolDir, { recursive: true, force: true }));
  const generator = metadataBulkInstances(
    Readable.from([json([dataset('1.1')]), bulk('a', Buffer.alloc(10)), part({ 'Content-Type': 'text/plain' }, Buffer.from('x'))], { objectMode: true }),
    { spoolDir, maxPartBytes: 1 << 20, maxMetadataBytes: 1 << 16, requestUrl: REQUEST_URL },
  );
  await t.rejects(generator.next(), { code: 'BULK_DATA_LOCATION' });
  t.same(await readdir(spoolDir), [], 'a failed request leaves no spooled bulk data behind');
});
