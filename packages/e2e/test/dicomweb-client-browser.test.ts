import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { type Server, createServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import t from 'tap';
import { backendNames, readManifest, readShared, sharedFiles, startTestServer } from '@tessera/testkit';

/**
 * dicomweb-client 0.10.4 (the DICOMweb library of OHIF v3.13, pinned to the version OHIF uses) in
 * Debian's Chromium, from a page on a second loopback origin, so every request that is not "simple"
 * (STOW's multipart body, the multipart and DICOM JSON Accept headers) goes through a CORS
 * preflight first. Each call of the library a viewer uses is made once and its answer checked
 * against the files: UIDs, counts, and bytes compared by SHA-256 computed in the page.
 *
 * Without Chromium the test is skipped, unless TESSERA_REQUIRE_REAL_CLIENTS=1 (set by .ci/run).
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
];
/** A CT study of two series (Explicit VR LE, served as stored) and a 10-frame enhanced MR. */
const CT_STUDY_FOLDER = 'dicomdir/98892001';
const MULTIFRAME = 'multiframe/enhanced-mr-emri_small-10fr.dcm';
const CLIENT_BUILD = createRequire(import.meta.url).resolve('dicomweb-client');

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const skip = !existsSync(CHROMIUM) && process.env.TESSERA_REQUIRE_REAL_CLIENTS !== '1' ? `no Chromium at ${CHROMIUM} (.ci/run installs it)` : false;

/** The second origin: the page, the library and the files to upload. */
async function startPageServer(files: Buffer[]): Promise<{ url: string; server: Server }> {
  const library = readFileSync(CLIENT_BUILD);
  const server = createServer((req, res) => {
    const file = /^\/files\/(\d+)$/.exec(req.url ?? '');
    if (req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><meta charset="utf-8"><title>dicomweb-client</title><script src="/dicomweb-client.js"></script>');
    } else if (req.url === '/dicomweb-client.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(library);
    } else if (file && files[Number(file[1])]) {
      res.writeHead(200, { 'content-type': 'application/dicom' });
      res.end(files[Number(file[1])]);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server };
}

/**
 * Runs in the page (plain JavaScript: this file is type-checked without the DOM library). Every
 * answer is reduced to what the test compares: UIDs, counts, SHA-256 of bytes, image sizes.
 */
const SCENARIO = `async ({ wadoRoot, fileCount, ct, mf }) => {
  const hex = async (buffer) => [...new Uint8Array(await crypto.subtle.digest('SHA-256', buffer))].map((b) => b.toString(16).padStart(2, '0')).join('');
  const value = (item, tag) => item[tag] && item[tag].Value ? item[tag].Value[0] : undefined;
  const imageSize = async (buffer, type) => {
    try {
      const bitmap = await createImageBitmap(new Blob([buffer], { type }));
      return [bitmap.width, bitmap.height];
    } catch (error) {
      return 'not decodable as ' + type + ' (' + buffer.byteLength + ' bytes: ' + new TextDecoder().decode(new Uint8Array(buffer, 0, Math.min(buffer.byteLength, 200))) + ')';
    }
  };
  // A single-part answer comes as a one-element array (dicomweb-client 0.10), a multipart one as its parts.
  const only = (answer) => {
    if (!Array.isArray(answer) || answer.length !== 1) throw new Error('expected one image, got ' + (Array.isArray(answer) ? answer.length : typeof answer));
    return answer[0];
  };
  const client = new DICOMwebClient.api.DICOMwebClient({ url: wadoRoot });
  const out = {};

  const datasets = [];
  for (let i = 0; i < fileCount; i++) datasets.push(await (await fetch('/files/' + i)).arrayBuffer());
  const stored = await client.storeInstances({ datasets });
  out.store = typeof stored === 'string' ? JSON.parse(stored) : stored;

  out.studies = (await client.searchForStudies({ queryParams: { StudyInstanceUID: ct.study } })).map((s) => value(s, '0020000D'));
  out.allStudies = (await client.searchForStudies()).map((s) => value(s, '0020000D')).sort();
  out.series = (await client.searchForSeries({ studyInstanceUID: ct.study })).map((s) => [value(s, '0020000E'), value(s, '00080060')]).sort();
  out.instances = (await client.searchForInstances({ studyInstanceUID: ct.study, seriesInstanceUID: ct.series })).map((i) => value(i, '00080018')).sort();

  const studyMetadata = await client.retrieveStudyMetadata({ studyInstanceUID: ct.study });
  out.studyMetadata = studyMetadata.map((m) => value(m, '00080018')).sort();
  const ctMetadata = studyMetadata.find((m) => value(m, '00080018') === ct.sop);
  out.ctSize = [value(ctMetadata, '00280011'), value(ctMetadata, '00280010')];
  out.seriesMetadata = (await client.retrieveSeriesMetadata({ studyInstanceUID: ct.study, seriesInstanceUID: ct.series })).map((m) => value(m, '00080018')).sort();
  const [instanceMetadata] = await client.retrieveInstanceMetadata({ studyInstanceUID: mf.study, seriesInstanceUID: mf.series, sopInstanceUID: mf.sop });
  out.instanceMetadata = { sop: value(instanceMetadata, '00080018'), rows: value(instanceMetadata, '00280010'), columns: value(instanceMetadata, '00280011'), frames: value(instanceMetadata, '00280008'), bitsAllocated: value(instanceMetadata, '00280100') };

  const instance = await client.retrieveInstance({ studyInstanceUID: ct.study, seriesInstanceUID: ct.series, sopInstanceUID: ct.sop });
  out.instance = await hex(instance);
  out.series_ = await Promise.all((await client.retrieveSeries({ studyInstanceUID: ct.study, seriesInstanceUID: ct.series })).map(hex));
  out.study = await Promise.all((await client.retrieveStudy({ studyInstanceUID: ct.study })).map(hex));

  const frames = await client.retrieveInstanceFrames({ studyInstanceUID: mf.study, seriesInstanceUID: mf.series, sopInstanceUID: mf.sop, frameNumbers: [1, 3, 10] });
  out.frames = await Promise.all(frames.map(hex));

  const rendered = only(await client.retrieveInstanceRendered({ studyInstanceUID: ct.study, seriesInstanceUID: ct.series, sopInstanceUID: ct.sop, mediaTypes: [{ mediaType: 'image/jpeg' }] }));
  out.rendered = { magic: [...new Uint8Array(rendered, 0, 3)], size: await imageSize(rendered, 'image/jpeg') };
  const renderedPng = only(await client.retrieveInstanceRendered({ studyInstanceUID: mf.study, seriesInstanceUID: mf.series, sopInstanceUID: mf.sop, mediaTypes: [{ mediaType: 'image/png' }] }));
  out.renderedPng = { magic: [...new Uint8Array(renderedPng, 1, 3)].map((c) => String.fromCharCode(c)).join(''), size: await imageSize(renderedPng, 'image/png') };
  const thumbnail = only(await client.retrieveInstanceThumbnail({ studyInstanceUID: mf.study, seriesInstanceUID: mf.series, sopInstanceUID: mf.sop, mediaTypes: [{ mediaType: 'image/jpeg' }] }));
  out.thumbnail = { magic: [...new Uint8Array(thumbnail, 0, 3)], size: await imageSize(thumbnail, 'image/jpeg') };

  const pixelData = instanceMetadata['7FE00010'];
  out.bulkDataUri = pixelData && pixelData.BulkDataURI;
  const bulk = await client.retrieveBulkData({ BulkDataURI: pixelData.BulkDataURI });
  out.bulk = await Promise.all((Array.isArray(bulk) ? bulk : [bulk]).map(hex));
  return out;
}`;

for (const backend of backendNames()) {
  t.test(`${backend}: dicomweb-client in Chromium from another origin`, { skip }, async (t) => {
    const manifest = readManifest();
    const paths = [...sharedFiles(CT_STUDY_FOLDER), MULTIFRAME];
    const files = paths.map((path) => readShared(path));
    const rows = paths.map((path) => manifest.get(path)!);
    const ct = rows[0]!;
    const mf = rows[rows.length - 1]!;
    const ctSeries = rows.filter((r) => r.seriesUid === ct.seriesUid);
    const ctStudy = rows.filter((r) => r.studyUid === ct.studyUid);
    const bytesOf = (sop: string) => files[rows.findIndex((r) => r.sopUid === sop)]!;

    const server = await startTestServer(backend);
    t.teardown(() => server.close());
    const page = await startPageServer(files);
    t.teardown(() => new Promise<void>((resolve) => page.server.close(() => resolve())));
    t.not(new URL(page.url).origin, new URL(server.url).origin, 'the page and the server are different origins');

    const profile = await mkdtemp(join(tmpdir(), 'tessera-chromium-'));
    const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS });
    t.teardown(async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    });
    const tab = await context.newPage();
    const errors: string[] = [];
    tab.on('pageerror', (error) => errors.push(error.message));
    // CORS preflights are only visible on the DevTools protocol.
    const preflights: string[] = [];
    const cdp = await context.newCDPSession(tab);
    await cdp.send('Network.enable');
    cdp.on('Network.requestWillBeSent', (event: { request: { method: string; url: string } }) => {
      if (event.request.method === 'OPTIONS') preflights.push(event.request.url);
    });
    await tab.goto(page.url);

    const out = await tab.evaluate<Record<string, any>>(
      `(${SCENARIO})(${JSON.stringify({
        wadoRoot: `${server.url}/dicomweb`,
        fileCount: files.length,
        ct: { study: ct.studyUid, series: ct.seriesUid, sop: ct.sopUid },
        mf: { study: mf.studyUid, series: mf.seriesUid, sop: mf.sopUid },
      })})`,
    );
    t.same(errors, [], 'no unhandled errors in the page');

    t.equal(out.store?.['00081199']?.Value?.length, files.length, 'storeInstances: every instance in ReferencedSOPSequence');
    t.notOk(out.store?.['00081198'], 'storeInstances: no FailedSOPSequence');
    t.ok(
      preflights.some((url) => url === `${server.url}/dicomweb/studies`),
      'storeInstances went through a CORS preflight',
    );
    t.ok(
      preflights.some((url) => url.includes('/frames/')),
      'retrieveInstanceFrames went through a CORS preflight',
    );

    t.same(out.studies, [ct.studyUid], 'searchForStudies by StudyInstanceUID');
    t.same(out.allStudies, [...new Set(rows.map((r) => r.studyUid))].sort(), 'searchForStudies: both studies');
    t.same(out.series, [...new Map(ctStudy.map((r) => [r.seriesUid, [r.seriesUid, r.modality]])).values()].sort(), 'searchForSeries: UIDs and Modality');
    t.same(out.instances, ctSeries.map((r) => r.sopUid).sort(), 'searchForInstances');

    t.same(out.studyMetadata, ctStudy.map((r) => r.sopUid).sort(), 'retrieveStudyMetadata: one object per instance');
    t.same(out.seriesMetadata, ctSeries.map((r) => r.sopUid).sort(), 'retrieveSeriesMetadata');
    const { rows: height, columns: width, frames: frameCount, bitsAllocated } = out.instanceMetadata;
    t.equal(out.instanceMetadata.sop, mf.sopUid, 'retrieveInstanceMetadata');
    t.equal(frameCount, 10, 'NumberOfFrames');

    t.equal(out.instance, sha256(bytesOf(ct.sopUid)), 'retrieveInstance: the file, byte for byte');
    t.same([...out.series_].sort(), ctSeries.map((r) => sha256(bytesOf(r.sopUid))).sort(), 'retrieveSeries: every file, byte for byte');
    t.same([...out.study].sort(), ctStudy.map((r) => sha256(bytesOf(r.sopUid))).sort(), 'retrieveStudy: every file, byte for byte');

    // Native pixel data is the last element of the file: frame n is its n-th slice.
    const mfBytes = bytesOf(mf.sopUid);
    const frameBytes = height * width * (bitsAllocated / 8);
    const pixels = mfBytes.subarray(mfBytes.length - frameBytes * frameCount);
    const frame = (n: number) => sha256(pixels.subarray((n - 1) * frameBytes, n * frameBytes));
    t.same(out.frames, [frame(1), frame(3), frame(10)], 'retrieveInstanceFrames 1,3,10: the bytes of those frames');
    t.match(
      out.bulkDataUri,
      new RegExp(`^${server.url}/dicomweb/studies/${mf.studyUid}/series/${mf.seriesUid}/instances/${mf.sopUid}/bulkdata/`),
      'PixelData has an absolute BulkDataURI',
    );
    t.same(out.bulk, [sha256(pixels)], 'retrieveBulkData: the Pixel Data value, byte for byte');

    t.same(out.rendered.magic, [0xff, 0xd8, 0xff], 'retrieveInstanceRendered: a JPEG');
    t.ok(out.ctSize[0] > 0 && out.ctSize[1] > 0, `Columns × Rows of the CT in its metadata (${out.ctSize.join('×')})`);
    t.same(out.rendered.size, out.ctSize, 'the rendered instance has the image size');
    t.same(out.renderedPng.magic, 'PNG', 'retrieveInstanceRendered (image/png): a PNG');
    t.same(out.renderedPng.size, [width, height], 'the rendered frame has the image size');
    t.same(out.thumbnail.magic, [0xff, 0xd8, 0xff], 'retrieveInstanceThumbnail: a JPEG');
    t.ok(out.thumbnail.size[0] > 0 && out.thumbnail.size[1] > 0, `the thumbnail decodes (${out.thumbnail.size.join('×')})`);
  });
}
