import t from 'tap';
import { backendNames, readShared, startTestServer, type TestServer } from '@tessera/testkit';

/** Rendered and thumbnail resources (digest WADORS-8, WADORS-9, NEG-2/4/6). */

const CT = 'transfer-syntax/ct-one-image/ct_1.2.840.10008.1.2.1.dcm';
const CT_JPEG = 'transfer-syntax/ct-one-image/ct_1.2.840.10008.1.2.4.50.dcm';
const MULTIFRAME = 'multiframe/enhanced-mr-emri_small-10fr-rle.dcm';

/** Width and height of a JPEG (from its SOF marker) or a PNG (from IHDR). */
function imageSize(body: Buffer): { type: 'jpeg' | 'png'; width: number; height: number } | undefined {
  if (body[0] === 0x89 && body.toString('latin1', 1, 4) === 'PNG') return { type: 'png', width: body.readUInt32BE(16), height: body.readUInt32BE(20) };
  if (body[0] !== 0xff || body[1] !== 0xd8) return undefined;
  for (let at = 2; at + 9 < body.length;) {
    if (body[at] !== 0xff) return undefined;
    const marker = body[at + 1]!;
    const length = body.readUInt16BE(at + 2);
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { type: 'jpeg', height: body.readUInt16BE(at + 5), width: body.readUInt16BE(at + 7) };
    }
    at += 2 + length;
  }
  return undefined;
}

async function store(server: TestServer, path: string): Promise<string> {
  const res = await server.app.inject({
    method: 'POST',
    url: '/dicomweb/studies',
    headers: { 'content-type': 'application/dicom' },
    payload: readShared(path),
  });
  return new URL(JSON.parse(res.body)['00081199'].Value[0]['00081190'].Value[0]).pathname;
}

for (const backend of backendNames()) {
  t.test(`${backend}: rendered and thumbnails`, async (t) => {
    const server = await startTestServer(backend);
    t.teardown(() => server.close());
    const ct = await store(server, CT);
    const ctJpeg = await store(server, CT_JPEG);
    const mf = await store(server, MULTIFRAME);
    const get = (url: string, headers: Record<string, string> = {}) => server.app.inject({ method: 'GET', url, headers });

    t.test('WADORS-8: an instance renders as a JPEG of its own size by default', async (t) => {
      const res = await get(`${ct}/rendered`);
      t.equal(res.statusCode, 200);
      t.equal(res.headers['content-type'], 'image/jpeg');
      t.same(imageSize(res.rawPayload), { type: 'jpeg', width: 512, height: 512 });
      const compressed = await get(`${ctJpeg}/rendered`, { accept: 'image/jpeg' });
      t.equal(compressed.statusCode, 200, 'a JPEG-baseline instance is decoded and rendered');
      t.same(imageSize(compressed.rawPayload), { type: 'jpeg', width: 512, height: 512 });
    });

    t.test('NEG-2/4: PNG by Accept or by the accept query parameter', async (t) => {
      const png = await get(`${ct}/rendered`, { accept: 'image/png' });
      t.equal(png.headers['content-type'], 'image/png');
      t.equal(imageSize(png.rawPayload)?.type, 'png', 'PNG signature');
      const query = await get(`${ct}/rendered?accept=image/png`, { accept: '*/*' });
      t.equal(query.headers['content-type'], 'image/png');
      const none = await get(`${ct}/rendered`, { accept: 'application/dicom' });
      t.equal(none.statusCode, 406, 'NEG-6: nothing acceptable');
    });

    t.test('WADORS-8: window, viewport and quality parameters', async (t) => {
      t.equal((await get(`${ct}/rendered?window=40,400`)).statusCode, 400, 'window without its function');
      t.equal((await get(`${ct}/rendered?window=40,400,linear`)).statusCode, 200);
      t.equal((await get(`${ct}/rendered?quality=0`)).statusCode, 400, 'quality out of range');
      const small = await get(`${ct}/rendered?viewport=128,128`);
      t.same(imageSize(small.rawPayload), { type: 'jpeg', width: 128, height: 128 }, 'scaled to the viewport');
      const low = await get(`${ct}/rendered?quality=10`);
      const high = await get(`${ct}/rendered?quality=95`);
      t.ok(low.rawPayload.length < high.rawPayload.length, 'quality changes the encoding');
    });

    t.test('frames: one frame is one image, a list is multipart, beyond the count is 404', async (t) => {
      const one = await get(`${mf}/frames/3/rendered`);
      t.equal(one.statusCode, 200);
      t.equal(imageSize(one.rawPayload)?.type, 'jpeg');
      const several = await get(`${mf}/frames/1,2,3/rendered`);
      t.match(several.headers['content-type'], /^multipart\/related; type="image\/jpeg"/);
      t.equal(several.rawPayload.toString('latin1').match(/Content-Type: image\/jpeg/g)?.length, 3, 'three parts');
      t.equal((await get(`${mf}/frames/11/rendered`)).statusCode, 404, 'D18');
      t.equal((await get(`${mf}/frames/0/rendered`)).statusCode, 400, 'frame 0');
      const instance = await get(`${mf}/rendered`);
      t.equal(imageSize(instance.rawPayload)?.type, 'jpeg', 'D23: a multi-frame instance renders its first frame as one image');
    });

    t.test('WADORS-5/9: frame lists longer than 100 characters reach the rendered resources', async (t) => {
      const long = Array.from({ length: 45 }, () => '10').join(',');
      t.ok(long.length > 100, 'longer than a path parameter may be');
      const thumb = await get(`${mf}/frames/${long}/thumbnail`);
      t.equal(thumb.statusCode, 200, 'WADORS-9: the thumbnail of the first listed frame');
      t.equal(imageSize(thumb.rawPayload)?.type, 'jpeg');
      const bad = await get(`${mf}/frames/${long},x/rendered`);
      t.equal(bad.statusCode, 400, 'WADORS-5: the long list is parsed (400 for a non-number), not refused by the router');
      t.equal(JSON.parse(bad.payload).code, 'INVALID_FRAME_LIST');
    });

    t.test('series rendered: one part per instance', async (t) => {
      const series = ct.replace(/\/instances\/.*$/, '');
      const res = await get(`${series}/rendered`);
      t.equal(res.statusCode, 200);
      t.match(res.headers['content-type'], /^multipart\/related; type="image\/jpeg"; boundary=/);
    });

    t.test('WADORS-9: thumbnails are small, validated and cached', async (t) => {
      const first = await get(`${ct}/thumbnail?viewport=64,64`);
      t.equal(first.statusCode, 200);
      const size = imageSize(first.rawPayload)!;
      t.ok(size.width <= 64 && size.height <= 64, `≤ 64×64 (${size.width}×${size.height})`);
      t.equal(first.headers['x-thumbnail-cache'], 'miss');
      const again = await get(`${ct}/thumbnail?viewport=64,64`);
      t.equal(again.headers['x-thumbnail-cache'], 'hit', 'served from the blob store the second time');
      t.ok(again.rawPayload.equals(first.rawPayload), 'the same image');
      t.equal((await get(`${ct}/thumbnail?viewport=64,64,0,0,10,10`)).statusCode, 400, 'only vw,vh on thumbnails');
      const study = ct.replace(/\/series\/.*$/, '');
      const byStudy = await get(`${study}/thumbnail`);
      t.equal(byStudy.statusCode, 200, 'study thumbnail');
      const d = imageSize(byStudy.rawPayload)!;
      t.ok(d.width <= 128 && d.height <= 128, 'server-chosen size fits 128×128');
      t.equal((await get('/dicomweb/studies/1.2.999/thumbnail')).statusCode, 404);
    });
  });
}
