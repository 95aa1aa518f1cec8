import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import t from 'tap';
import { backendNames, ctInstance, encodeInstance, startTestServer } from '@tessera/testkit';
import { findInstance } from '@tessera/index/testing';

/**
 * STOW-RS requests shaped as real clients send them, over real HTTP (digest STOW-2, NEG-9).
 * Orthanc's DICOMweb plugin: `multipart/related; type="application/dicom"; boundary=<uuid>-<uuid>`
 * (73 characters, unquoted), `Transfer-Encoding: chunked`, a Content-Length on every part.
 * The chunks are written apart, one of them ending one byte into the closing `--`.
 */

interface Answer {
  status: number;
  body: any;
}

/** POSTs `pieces` as separate chunks of a chunked body, pausing between them so they travel apart. */
function postChunked(url: string, contentType: string, pieces: Buffer[]): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': contentType, accept: 'application/dicom+json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.setNoDelay(true);
    (async () => {
      for (const piece of pieces) {
        req.write(piece);
        await new Promise((r) => setTimeout(r, 15));
      }
      req.end();
    })().catch(reject);
  });
}

/** The body Orthanc writes, cut into chunks: each part's head, its bytes in two, and the close split after `--b-`. */
function orthancPieces(boundary: string, files: Buffer[]): Buffer[] {
  const pieces: Buffer[] = [];
  files.forEach((file, i) => {
    const head = `${i === 0 ? '' : '\r\n'}--${boundary}\r\nContent-Type: application/dicom\r\nContent-Length: ${file.length}\r\n\r\n`;
    pieces.push(Buffer.from(head), file.subarray(0, 100), file.subarray(100));
  });
  pieces.push(Buffer.from(`\r\n--${boundary}-`), Buffer.from('-\r\n'));
  return pieces;
}

for (const backend of backendNames()) {
  t.test(backend, async (t) => {
    const server = await startTestServer(backend);
    t.teardown(() => server.close());
    const url = `${server.url}/dicomweb/studies`;

    t.test("STOW-2/NEG-9: Orthanc's request (73-character boundary, chunked, Content-Length per part) is stored", async (t) => {
      const specs = [ctInstance(), ctInstance()];
      const boundary = `${randomUUID()}-${randomUUID()}`;
      t.equal(boundary.length, 73);
      const answer = await postChunked(
        url,
        `multipart/related; type="application/dicom"; boundary=${boundary}`,
        orthancPieces(boundary, specs.map(encodeInstance)),
      );
      t.equal(answer.status, 200, 'STOW-6: all stored');
      t.same(
        answer.body?.['00081199']?.Value?.map((item: any) => item['00081155'].Value[0]),
        specs.map((s) => s.attributes.SOPInstanceUID),
        'both instances referenced',
      );
      for (const spec of specs) t.ok(await findInstance(server.index, String(spec.attributes.SOPInstanceUID)), 'indexed');
    });

    t.test('NEG-9: a boundary of 200 characters is read, 201 is a 400 problem', async (t) => {
      const spec = ctInstance();
      const longest = `${'x'.repeat(199)}9`;
      const ok = await postChunked(url, `multipart/related; type="application/dicom"; boundary="${longest}"`, orthancPieces(longest, [encodeInstance(spec)]));
      t.equal(ok.status, 200);
      const tooLong = 'x'.repeat(201);
      const refused = await postChunked(
        url,
        `multipart/related; type="application/dicom"; boundary=${tooLong}`,
        orthancPieces(tooLong, [encodeInstance(ctInstance())]),
      );
      t.equal(refused.status, 400);
      t.equal(refused.body?.code, 'MULTIPART_BOUNDARY');
      t.match(refused.body?.detail, /1-200 characters/, 'the detail says what is accepted');
    });
  });
}
