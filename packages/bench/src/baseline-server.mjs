// The machine's ceilings, in a trivial node:http server (no framework, no DICOM, no index), started by
// the benchmark in its own process like the server under test:
//   GET  /memory            one stored instance from memory
//   GET  /file              the same instance read from the file system (exact reads of ≤ 1 MiB)
//   GET  /files/<name>      any instance of the benchmark's data directory, read the same way: the
//                           retrieve phase's mix of files, with the page cache as it is for them
//   GET  /series            the benchmark's big series (the files listed in the file named by the 6th
//                           argument, one per line) as one multipart/related response, each file read
//                           whole and written before the next is read: the ceiling for series retrieve
//   POST /discard/studies   an upload read and thrown away: the loopback HTTP ceiling for STOW
//   POST /durable/studies   an upload written to one new file per 512 KiB (≈ one instance) in the
//                           spool directory, each fdatasynced before the answer, then removed: the
//                           ceiling for ingest that acknowledges only what is on disk
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';

const [port, file, spool, dataDir, seriesList] = [Number(process.argv[2]), process.argv[3], process.argv[4], process.argv[5], process.argv[6]];
const series = seriesList ? readFileSync(seriesList, 'utf8').split('\n').filter(Boolean) : [];
const bytes = readFileSync(file);
const FILE_BYTES = 512 * 1024;
let sequence = 0;

async function durableUpload(request) {
  const pending = [];
  let handle;
  let path;
  let written = 0;
  const finish = () => {
    const [h, p] = [handle, path];
    pending.push(
      h
        .datasync()
        .then(() => h.close())
        .then(() => rm(p)),
    );
    handle = undefined;
    written = 0;
  };
  for await (const chunk of request) {
    if (!handle) {
      path = join(spool, `${process.pid}-${sequence++}`);
      handle = await open(path, 'w');
    }
    await handle.write(chunk);
    written += chunk.length;
    if (written >= FILE_BYTES) finish();
  }
  if (handle) finish();
  await Promise.all(pending);
}

/** Every file of the series as a part of one multipart/related response (chunked), one after the other. */
async function sendSeries(response) {
  const boundary = 'baseline-series-boundary';
  response.writeHead(200, { 'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}` });
  for (const name of series) {
    const handle = await open(join(dataDir, name), 'r');
    try {
      const { size } = await handle.stat();
      const buffer = Buffer.allocUnsafeSlow(size);
      const { bytesRead } = await handle.read(buffer, 0, size, 0);
      response.write(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`);
      if (!response.write(buffer.subarray(0, bytesRead))) await new Promise((resolve) => response.once('drain', resolve));
      response.write('\r\n');
    } finally {
      await handle.close();
    }
  }
  response.end(`--${boundary}--\r\n`);
}

http
  .createServer(async (request, response) => {
    if (request.method === 'POST') {
      if (request.url.startsWith('/durable') && spool) await durableUpload(request);
      else for await (const _ of request);
      response.writeHead(200, { 'content-type': 'application/dicom+json', 'content-length': 2 });
      response.end('{}');
      return;
    }
    if (request.url === '/readyz' || request.url === '/memory') {
      response.writeHead(200, { 'content-type': 'application/dicom', 'content-length': request.url === '/readyz' ? 0 : bytes.length });
      response.end(request.url === '/readyz' ? undefined : bytes);
      return;
    }
    if (request.url === '/series') {
      await sendSeries(response);
      return;
    }
    // The fastest plain way measured here: positional reads of exactly what is left (at most 1 MiB)
    // into a buffer of that size, each written before the next is read (createReadStream is slower:
    // a read past the end to find it and an oversized buffer per read).
    const name = request.url.startsWith('/files/') ? decodeURIComponent(request.url.slice('/files/'.length)) : undefined;
    if (name !== undefined && (!dataDir || name.split('/').includes('..'))) {
      response.writeHead(404).end();
      return;
    }
    const handle = await open(name === undefined ? file : join(dataDir, name), 'r');
    try {
      const { size } = await handle.stat();
      response.writeHead(200, { 'content-type': 'application/dicom', 'content-length': size });
      for (let position = 0; position < size;) {
        const buffer = Buffer.allocUnsafeSlow(Math.min(1 << 20, size - position));
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
        if (bytesRead === 0) break;
        position += bytesRead;
        if (!response.write(bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead)))
          await new Promise((resolve) => response.once('drain', resolve));
      }
      response.end();
    } finally {
      await handle.close();
    }
  })
  .listen(port, '127.0.0.1');
