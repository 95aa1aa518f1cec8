// Runs s3rver for startS3Server() in its own process: see s3-server.ts for why.
// Arguments: <s3rver module path> <data directory> <bucket>. Prints {"port": n} once listening and
// exits when its stdin closes, so it cannot outlive the test process that started it.
import { unlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const [modulePath, directory, bucket] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const S3rver = require(modulePath);

// s3rver's deleteObject removes the object's directories once they look empty, recursively and after
// an await: a PUT into the same prefix in between (its directory made, its file written) is wiped with
// them and lost although it was acknowledged. S3 has no directories, so none are removed here: empty
// ones are harmless and never listed. (Found by the STOW-RS vs DELETE race test, issue #15.)
const FilesystemStore = require(join(dirname(modulePath), 'stores', 'filesystem.js'));
FilesystemStore.prototype.deleteObject = async function deleteObject(bucketName, key) {
  await Promise.all(
    ['object', 'object.md5', 'metadata.json'].map((resource) =>
      unlink(this.getResourcePath(bucketName, key, resource)).catch((error) => {
        if (error.code !== 'ENOENT') throw error;
      }),
    ),
  );
};
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
