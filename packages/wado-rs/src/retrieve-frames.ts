import { Readable } from 'node:stream';
import { transferSyntaxInfo } from '@tessera/dicom';
import { HttpProblem, acceptableMediaTypes, primed, writeMultipart } from '@tessera/http';
import type { RetrievableInstance } from '@tessera/index';
import { type BulkChoice, negotiateBulk } from './negotiate.js';
import { type RetrieveDependencies, type RetrieveRequest, type RetrieveResponse, instanceUrl, instancesOf } from './retrieve.js';
import { canDecodeStored, frameBytes, frameCount, openStoredDecodedFrames } from '@tessera/stored-objects';

/**
 * `{list}` of a frames URL: comma-separated 1-based frame numbers, kept in the requested order,
 * repeats allowed. `0`, negative or non-integer numbers → 400 (digest WADORS-5).
 */
export function parseFrameList(list: string): number[] {
  const items = list.split(',');
  const numbers = items.map((item) => (/^\d+$/.test(item.trim()) ? Number(item.trim()) : NaN));
  if (numbers.some((n) => !Number.isSafeInteger(n) || n < 1)) {
    throw new HttpProblem(400, 'INVALID_FRAME_LIST', `'${list}' is not a list of frame numbers (1-based, comma-separated; PS3.18 §8.7.3.3)`);
  }
  return numbers;
}

/**
 * Retrieve Frames (PS3.18 §10.4.1.1.6, digest WADORS-5/6): one part per requested frame, read by
 * ranged blob reads from the frame index computed at ingest. Frames beyond the count, or an
 * instance without (locatable) pixel data → 404 (PROJECT, D18). Compressed frames asked with
 * `transfer-syntax=1.2.840.10008.1.2.1` are decoded, one at a time (NEG-7).
 */
export async function retrieveFrames(
  deps: RetrieveDependencies, study: string, series: string, instance: string, list: string, request: RetrieveRequest,
): Promise<RetrieveResponse> {
  const numbers = parseFrameList(list);
  const entries = acceptableMediaTypes(request.acceptQuery, request.accept);
  const [row] = await instancesOf(deps.index, { studyInstanceUid: study, seriesInstanceUid: series, sopInstanceUid: instance });
  const count = frameCount(row!);
  if (count === 0) throw new HttpProblem(404, 'NO_FRAMES', `instance ${instance} has no pixel data frames (PS3.18 §10.4.1.1.6)`);
  const beyond = numbers.find((n) => n > count);
  if (beyond !== undefined) throw new HttpProblem(404, 'FRAME_NOT_FOUND', `frame ${beyond} does not exist: instance ${instance} has ${count}`);
  const choice = negotiateBulk(entries, transferSyntaxInfo(row!.transferSyntaxUid), numbers.length === 1, { decodable: canDecodeStored(row!) });
  const base = `${instanceUrl(request.serviceUrl, row!)}/frames`;
  return framesResponse(deps, row!, numbers, choice, (n) => `${base}/${n}`);
}

/**
 * Frames as multipart parts or one single-part body (also serves encapsulated Pixel Data as bulk data).
 * Decoded frames: the first requested frame is decoded before answering (a frame that does not decode
 * is a 422 problem), the others as the response is read.
 */
export async function framesResponse(
  deps: RetrieveDependencies, row: RetrievableInstance, numbers: number[], choice: BulkChoice, location: (n: number) => string,
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
    const parts = numbers.map((n) => ({ contentType: choice.partType, contentLocation: location(n), contentLength: decoded.frameLength, body: () => decoded.frame(n) }));
    const { contentType, stream } = writeMultipart(choice.partType.split(';')[0]!, parts);
    return { status: 200, headers: { 'content-type': contentType }, body: stream };
  }
  // The first frame's first bytes are read before answering: a stored object that cannot be read
  // is a problem response, not a cut stream.
  const first = frameBytes(deps.blobs, row, numbers[0]!);
  const firstBody = await primed(first.body());
  if (!choice.multipart) {
    return {
      status: 200,
      headers: { 'content-type': choice.partType, 'content-length': String(first.length), 'content-location': location(numbers[0]!) },
      body: Readable.from(firstBody, { objectMode: false }),
    };
  }
  const parts = numbers.map((n, i) => {
    const frame = i === 0 ? { length: first.length, body: () => firstBody } : frameBytes(deps.blobs, row, n);
    return { contentType: choice.partType, contentLocation: location(n), contentLength: frame.length, body: frame.body };
  });
  const { contentType, stream } = writeMultipart(choice.partType.split(';')[0]!, parts);
  return { status: 200, headers: { 'content-type': contentType }, body: stream };
}
