import { Readable } from 'node:stream';
import { transferSyntaxInfo } from '@tessera/dicom';
import { type Lease, acceptableMediaTypes, instanceUrl, primed, singlePartEnvelope, writeMultipart } from '@tessera/http';
import {
  type InstanceScope,
  type RetrievableInstance,
  type RetrieveDependencies,
  canDecodeStored,
  frameBytes,
  openStoredDecodedFrames,
  planFrames,
  type WholeBytes,
  resolveInstance,
  wholeFrame,
} from '@tessera/retrieve';
import { type BulkChoice, negotiateBulk } from './negotiate.js';
import type { FramesRequest, RetrieveResponse } from './retrieve-request.js';

/**
 * Retrieve Frames (PS3.18 §10.4.1.1.6, digest WADORS-5/6): one part per requested frame, read by
 * ranged blob reads from the frame index computed at ingest. Frames beyond the count, or an
 * instance without (locatable) pixel data → 404 (PROJECT, D18). Compressed frames asked with
 * `transfer-syntax=1.2.840.10008.1.2.1` are decoded, one at a time (NEG-7).
 */
export async function retrieveFrames(deps: RetrieveDependencies, scope: InstanceScope, request: FramesRequest): Promise<RetrieveResponse> {
  const entries = acceptableMediaTypes(request.acceptQuery, request.accept);
  const row = await resolveInstance(deps, scope);
  planFrames(row, request.frames);
  const choice = negotiateBulk(entries, transferSyntaxInfo(row.transferSyntaxUid), request.frames.length === 1, { decodable: canDecodeStored(row) });
  const base = `${instanceUrl(request.serviceUrl, row)}/frames`;
  return framesResponse(deps, row, request.frames, choice, (n) => `${base}/${n}`);
}

/**
 * Frames as multipart parts or one single-part body (also serves encapsulated Pixel Data as bulk data).
 * Decoded frames: the first requested frame is decoded before answering (a frame that does not decode
 * is a 422 problem), the others as the response is read.
 */
export async function framesResponse(
  deps: RetrieveDependencies,
  row: RetrievableInstance,
  numbers: number[],
  choice: BulkChoice,
  location: (n: number) => string,
): Promise<RetrieveResponse> {
  if (choice.decode) {
    const decoded = await openStoredDecodedFrames(deps, row, numbers[0]);
    if (!choice.multipart) {
      return {
        status: 200,
        headers: { 'content-type': choice.partType, 'content-length': String(decoded.frameLength), 'content-location': location(numbers[0]!) },
        body: Readable.from(decoded.frame(numbers[0]!), { objectMode: false }),
      };
    }
    const parts = numbers.map((n) => ({
      contentType: choice.partType,
      contentLocation: location(n),
      contentLength: decoded.frameLength,
      body: () => decoded.frame(n),
    }));
    const { contentType, stream } = writeMultipart(choice.partType.split(';')[0]!, parts);
    return { status: 200, headers: { 'content-type': contentType }, body: stream };
  }
  // A frame stored as it is served is read whole (one read, one push); the only frame of a response
  // is then sent as one buffer, with one write and its Content-Length.
  const frameOf = (n: number): FrameSource => {
    const whole = wholeFrame(deps.blobs, row, n);
    if (!whole) return frameBytes(deps.blobs, row, n);
    // The lease is given back by the multipart writer once the frame is written out (ResponsePart.release).
    let lease: Lease | undefined;
    return {
      length: whole.length,
      whole,
      body: async () => (lease = await whole.read()).bytes,
      release: () => lease?.release(),
    };
  };
  const first = frameOf(numbers[0]!);
  if (first.whole && numbers.length === 1) {
    const part = { contentType: choice.partType, contentLocation: location(numbers[0]!), contentLength: first.length };
    if (!choice.multipart) {
      const { bytes, release } = await first.whole.read();
      return {
        status: 200,
        headers: { 'content-type': part.contentType, 'content-length': String(bytes.length), 'content-location': part.contentLocation },
        body: bytes,
        release,
      };
    }
    const envelope = singlePartEnvelope(choice.partType.split(';')[0]!, part);
    const { bytes, release } = await first.whole.read(envelope.before, envelope.after);
    return { status: 200, headers: { 'content-type': envelope.contentType, 'content-length': String(bytes.length) }, body: bytes, release };
  }
  // The first frame (or its first bytes) is read before answering: a stored object that cannot be
  // read is a problem response, not a cut stream.
  const firstLease = first.whole ? await first.whole.read() : undefined;
  const firstBody = firstLease ? firstLease.bytes : await primed(frameBytes(deps.blobs, row, numbers[0]!).body());
  if (!choice.multipart) {
    return {
      status: 200,
      headers: { 'content-type': choice.partType, 'content-length': String(first.length), 'content-location': location(numbers[0]!) },
      body: Buffer.isBuffer(firstBody) ? firstBody : Readable.from(firstBody, { objectMode: false }),
      ...(firstLease ? { release: firstLease.release } : {}),
    };
  }
  // Later frames are read when the writer reaches them.
  const parts = numbers.map((n, i) => {
    const frame: FrameSource = i === 0 ? { length: first.length, body: () => firstBody, ...(firstLease ? { release: firstLease.release } : {}) } : frameOf(n);
    return {
      contentType: choice.partType,
      contentLocation: location(n),
      contentLength: frame.length,
      body: frame.body,
      ...(frame.release ? { release: frame.release } : {}),
    };
  });
  const { contentType, stream } = writeMultipart(choice.partType.split(';')[0]!, parts);
  return { status: 200, headers: { 'content-type': contentType }, body: stream };
}

/** A frame's bytes: read whole into a buffer when small and stored as served, else streamed. */
interface FrameSource {
  length: number;
  whole?: WholeBytes;
  body: () => Promise<Buffer> | AsyncIterable<Buffer> | Buffer;
  /** Gives back the buffer `body` lent (a whole read), once written out. */
  release?: () => void;
}
