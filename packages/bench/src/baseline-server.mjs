// The machine's ceiling for the retrieval phases: a trivial node:http server (no framework, no index)
// answering GET /memory with one stored instance from memory and GET /file with it read from disk
// (1 MiB reads). Started by the benchmark in its own process, like the server under test.
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';

const [port, file] = [Number(process.argv[2]), process.argv[3]];
const bytes = readFileSync(file);
http.createServer(async (request, response) => {
  if (request.url === '/readyz' || request.url === '/memory') {
    response.writeHead(200, { 'content-type': 'application/dicom', 'content-length': request.url === '/readyz' ? 0 : bytes.length });
    response.end(request.url === '/readyz' ? undefined : bytes);
    return;
  }
  const handle = await open(file, 'r');
  const { size } = await handle.stat();
  response.writeHead(200, { 'content-type': 'application/dicom', 'content-length': size });
  handle.createReadStream({ highWaterMark: 1 << 20 }).pipe(response);
}).listen(port, '127.0.0.1');
