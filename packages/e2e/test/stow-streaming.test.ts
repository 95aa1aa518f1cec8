import { request } from 'node:http';
import t from 'tap';
import { backendNames, ctInstance, instanceLength, instanceStream, multipartRelated, startTestServer } from '@tessera/testkit';
import { findInstance } from '@tessera/index/testing';

/**
 * Streams, not buffers: a 1 GiB multipart upload (eight 128 MiB multi-frame instances generated
 * on the fly) is stored while the process's resident memory grows by less than 100 MB.
 * The server runs in this process, so the figure bounds server and client together.
 */
const INSTANCES = 8;
const FRAMES = 256; // 256 × 512 × 512 × 2 bytes = 128 MiB per instance
const LIMIT_MB = 100;

for (const backend of backendNames()) {
  t.test(`${backend}: a 1 GiB STOW body is stored in bounded memory`, async (t) => {
    const server = await startTestServer(backend);
    t.teardown(() => server.close());
    const specs = Array.from({ length: INSTANCES }, (_, i) => ctInstance({ InstanceNumber: i + 1 }, { rows: 512, columns: 512, frames: FRAMES }));
    const totalBytes = specs.reduce((sum, s) => sum + instanceLength(s), 0);
    t.ok(totalBytes >= 2 ** 30, `body holds ${(totalBytes / 2 ** 20).toFixed(0)} MiB of instances`);

    global.gc?.();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 25);
    const { contentType, body } = multipartRelated(specs.map((spec) => () => instanceStream(spec)));
    const url = new URL('/dicomweb/studies', server.url);
    const started = Date.now();
    const response = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(url, { method: 'POST', headers: { 'content-type': contentType, accept: 'application/dicom+json' } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      body.pipe(req);
    });
    clearInterval(sampler);
    const seconds = (Date.now() - started) / 1000;
    const growthMb = (peak - baseline) / 2 ** 20;
    t.comment(
      `${backend}: ${(totalBytes / 2 ** 20).toFixed(0)} MiB in ${seconds.toFixed(1)} s, RSS ${(baseline / 2 ** 20).toFixed(0)} → peak ${(peak / 2 ** 20).toFixed(0)} MiB (+${growthMb.toFixed(0)} MiB)`,
    );
    t.equal(response.status, 200, 'all instances stored');
    t.equal(JSON.parse(response.text)['00081199']?.Value?.length, INSTANCES);
    t.ok(growthMb < LIMIT_MB, `resident memory grew by ${growthMb.toFixed(0)} MiB (< ${LIMIT_MB})`);
    const found = await findInstance(server.index, String(specs[0]!.attributes.SOPInstanceUID));
    t.equal(found?.size, instanceLength(specs[0]!), 'the stored object has the full size');
  });
}
