import type { BucketLocationConstraint } from '@aws-sdk/client-s3';
import { type S3BlobStoreOptions, createS3Client, loadSdk, statusOf, toStoreError } from '../s3/s3-blob-store.js';

/** Creates the bucket of `options` unless it exists. For tests and the benchmark (a deployment creates its bucket itself). */
export async function ensureBucket(options: S3BlobStoreOptions): Promise<void> {
  const sdk = await loadSdk();
  const client = createS3Client(sdk, options);
  const { bucket, region } = options;
  try {
    const exists = await client.send(new sdk.HeadBucketCommand({ Bucket: bucket })).then(
      () => true,
      (error: unknown) => {
        if (statusOf(error) === 404) return false;
        throw error;
      },
    );
    if (exists) return;
    await client.send(
      new sdk.CreateBucketCommand({
        Bucket: bucket,
        // us-east-1 is the default location and S3 rejects it when named explicitly.
        CreateBucketConfiguration: region === 'us-east-1' ? undefined : { LocationConstraint: region as BucketLocationConstraint },
      }),
    );
  } catch (error) {
    // Someone else created it between our two requests.
    if (error instanceof Error && error.name === 'BucketAlreadyOwnedByYou') return;
    throw toStoreError(error);
  } finally {
    client.destroy();
  }
}
