// Runs s3rver for startS3Server() in its own process: see s3-server.ts for why.
// Arguments: <s3rver module path> <data directory> <bucket>. Prints {"port": n} once listening and
// exits when its stdin closes, so it cannot outlive the test process that started it.
import { createRequire } from 'node:module';

const [modulePath, directory, bucket] = process.argv.slice(2);
const S3rver = createRequire(import.meta.url)(modulePath);
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  directory,
  silent: true,
  allowMismatchedSignatures: true,
  configureBuckets: [{ name: bucket }],
});
const { port } = await server.run();
process.stdout.write(`${JSON.stringify({ port })}\n`);
process.stdin.on('end', () => process.exit(0)).resume();
