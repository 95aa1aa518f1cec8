// Runs s3rver for startS3Server() in its own process: see s3-server.ts for why.
// Arguments: <s3rver module path> <data directory> <bucket>. Prints {"port": n} once listening and
// exits when its stdin closes, so it cannot outlive the test process that started it.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
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
// s3rver's PUT writes straight into the object's file (truncating it when it opens it): a PUT that
// arrives late (a client timed out and retried, the first attempt still on the wire) truncates and
// overwrites the object the retry already stored, and an aborted one leaves it cut short. S3 replaces
// an object only by a PUT that completes, so here too: the body goes to a file of its own, renamed
// over the object once complete, removed if the request fails. (Found by `pnpm reliability`'s S3
// faults, issue #15: acknowledged instances whose object a late first attempt had cut short.)
FilesystemStore.prototype.putContent = async function putContent(objectPath, content) {
  const partial = `${objectPath}.part-${randomBytes(6).toString('hex')}`;
  const md5 = createHash('md5');
  let size = 0;
  const count = new Transform({
    transform(chunk, encoding, callback) {
      md5.update(chunk, encoding);
      size += chunk.length;
      callback(null, chunk);
    },
  });
  try {
    if (Buffer.isBuffer(content)) {
      await pipeline([content], count, createWriteStream(partial));
    } else {
      await pipeline(content, count, createWriteStream(partial));
    }
    await rename(partial, objectPath);
  } catch (error) {
    await unlink(partial).catch(() => {});
    throw error;
  }
  return [size, md5.digest('hex')];
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
