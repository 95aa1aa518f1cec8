import { type DicomJsonDataset, type FrameIndex, bufferByteSource, describeInstance, indexFrames, readPart10Header, toDicomJson } from '@tessera/dicom';
import { readShared } from '@tessera/test-data';
import { inflateRawSync } from 'node:zlib';

const OPTIONS = { maxHeaderBytes: 64 * 1024 * 1024, inlineBinaryMaxBytes: 1024 };

export interface LoadedInstance {
  path: string;
  metadata: DicomJsonDataset;
  transferSyntaxUid: string;
  numberOfFrames: number;
  /** Bytes of frame n (1-based), as WADO-RS frame retrieval would read them. */
  frame(n: number): Buffer;
}

/** Describes a shared test file as STOW would, and cuts its frames with the FrameIndex. */
export async function loadShared(path: string): Promise<LoadedInstance> {
  const file = readShared(path);
  let metadata: DicomJsonDataset;
  let transferSyntaxUid: string;
  let index: FrameIndex | undefined;
  let inflated: Buffer | undefined;
  try {
    ({ metadata, transferSyntaxUid, frames: index } = await describeInstance(bufferByteSource(file), OPTIONS));
  } catch {
    // edge/missing-uids files are not storable; read their header the same way without the UID checks.
    const header = await readPart10Header(bufferByteSource(file), OPTIONS);
    metadata = toDicomJson(header.buffer, header.dataset, { inlineBinaryMaxBytes: OPTIONS.inlineBinaryMaxBytes, bulkDataUri: (p) => `bulkdata/${p}` }).dataset;
    transferSyntaxUid = header.transferSyntax.uid;
    index = (await indexFrames(bufferByteSource(file), header)).index;
  }
  if (!index) throw new Error(`${path} has no frame index`);
  if (index.kind === 'deflated') {
    // Deflated Explicit VR LE: frame offsets refer to the inflated dataset (as the server cuts them).
    const header = await readPart10Header(bufferByteSource(file), OPTIONS);
    inflated = inflateRawSync(file.subarray(header.datasetOffset));
  }
  const frames = index;
  return {
    path,
    metadata,
    transferSyntaxUid,
    numberOfFrames: frames.kind === 'encapsulated' ? frames.frames.length : frames.count,
    frame(n) {
      if (frames.kind === 'native') return file.subarray(frames.offset + (n - 1) * frames.length, frames.offset + n * frames.length);
      if (frames.kind === 'encapsulated') return Buffer.concat(frames.frames[n - 1]!.map((s) => file.subarray(s.offset, s.offset + s.length)));
      return inflated!.subarray(frames.offset + (n - 1) * frames.length, frames.offset + n * frames.length);
    },
  };
}
