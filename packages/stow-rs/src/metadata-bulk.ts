import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import {
  type BulkValue,
  DicomParseError,
  type DicomJsonDataset,
  FailureReason,
  Tag,
  TransferSyntax,
  encodeFileMeta,
  fromDicomJson,
  jpegTransferSyntax,
  tagKey,
  transferSyntaxInfo,
} from '@tessera/dicom';
import { HttpProblem, type MultipartPart, parseMediaType } from '@tessera/http';
import { type SpooledPart, spoolPart } from './spool.js';
import type { StorePart } from './store-instances.js';

/*
 * STOW-RS with metadata and bulk data (PS3.18 §10.5.1.4, §10.5.2; digest STOW-3):
 * `multipart/related; type="application/dicom+json"`, the first part a DICOM JSON array of
 * datasets (no group 0002), the other parts bulk data whose Content-Location is a BulkDataURI of
 * the metadata. Each dataset becomes a PS3.10 file (File Meta built here, dataset encoded by
 * `fromDicomJson`, bulk data streamed from the spool) and goes through the same store path as an
 * `application/dicom` part: same checks, duplicate rules, response and failure reasons.
 */

export interface MetadataBulkOptions {
  spoolDir: string;
  /** Largest bulk data part (STOW_MAX_PART_BYTES: 413 above it). */
  maxPartBytes: number;
  /** Largest metadata part, held in memory to be parsed (STOW_MAX_HEADER_BYTES: 413 above it). */
  maxMetadataBytes: number;
  /** The URL the request was sent to: relative BulkDataURIs and Content-Locations are resolved against it. */
  requestUrl: string;
}

/** A bulk data part on local disk. */
interface BulkPart {
  spooled: SpooledPart;
  /** Lower-cased type/subtype (`application/octet-stream` when the part has none). */
  mediaType: string;
  /** Its `transfer-syntax` parameter, if any. */
  transferSyntax?: string;
}

/** Media types of compressed frames (PS3.18 Table 8.7.3-5) and the transfer syntax each defaults to. */
const DEFAULT_SYNTAX: Record<string, string> = {
  'image/jpeg': TransferSyntax.JPEGLosslessSV1,
  'image/jls': TransferSyntax.JPEGLSLossless,
  'image/x-jls': TransferSyntax.JPEGLSLossless,
  'image/jp2': TransferSyntax.JPEG2000Lossless,
  'image/jpx': '1.2.840.10008.1.2.4.92',
  'image/jphc': '1.2.840.10008.1.2.4.201',
  'image/dicom-rle': TransferSyntax.RLELossless,
  'image/x-dicom-rle': TransferSyntax.RLELossless,
  'video/mpeg': '1.2.840.10008.1.2.4.100',
  'video/mp4': '1.2.840.10008.1.2.4.102',
  'video/h265': '1.2.840.10008.1.2.4.107',
};
/** Legacy names clients still send (digest DATA-3). */
const CANONICAL: Record<string, string> = { 'image/x-jls': 'image/jls', 'image/x-dicom-rle': 'image/dicom-rle' };

const JSON_TYPES = new Set(['application/dicom+json', 'application/json']);
const OCTET_STREAM = 'application/octet-stream';

/**
 * The instances of a metadata + bulk data request, to hand to `storeInstances`: reads the metadata
 * part into memory (bounded), spools every bulk data part to disk, then yields one PS3.10 stream
 * per dataset, or a failure value for a dataset that cannot be built (e.g. a BulkDataURI with no
 * part). Spooled bulk data is removed when the generator ends, whatever happened.
 */
export async function* metadataBulkInstances(parts: AsyncIterable<MultipartPart>, options: MetadataBulkOptions): AsyncGenerator<StorePart> {
  const datasets: unknown[] = [];
  const metadataBytes = { left: options.maxMetadataBytes };
  const bulk = new Map<string, BulkPart[]>();
  const spooled: SpooledPart[] = [];
  try {
    let first = true;
    for await (const part of parts) {
      const mediaType = parseMediaType(header(part, 'content-type'));
      const type = mediaType?.type ?? OCTET_STREAM;
      if (first || JSON_TYPES.has(type)) {
        if (!JSON_TYPES.has(type)) {
          part.resume();
          throw new HttpProblem(
            400,
            'METADATA_PART',
            `the first part of a multipart/related; type="application/dicom+json" request must be the DICOM JSON metadata, not ${header(part, 'content-type') ?? 'a part without Content-Type'} (PS3.18 §10.5.1.4)`,
          );
        }
        first = false;
        datasets.push(...(await readMetadata(part, metadataBytes, options.maxMetadataBytes)));
        continue;
      }
      const location = header(part, 'content-location');
      if (!location) {
        part.resume();
        throw new HttpProblem(400, 'BULK_DATA_LOCATION', 'a bulk data part has no Content-Location; it must name the BulkDataURI it holds (PS3.18 §10.5.1.4)');
      }
      const file = await spoolPart(part, options.spoolDir, { maxBytes: options.maxPartBytes, sync: false });
      spooled.push(file);
      const entry: BulkPart = { spooled: file, mediaType: CANONICAL[type] ?? type, transferSyntax: mediaType?.parameters['transfer-syntax'] };
      for (const key of locationKeys(location, options.requestUrl)) {
        const list = bulk.get(key) ?? [];
        if (!list.includes(entry)) list.push(entry);
        bulk.set(key, list);
      }
    }
    for (const dataset of datasets) yield buildInstance(dataset, bulk, options.requestUrl);
  } finally {
    await Promise.all(
      spooled.map(async (file) => {
        await file.durable.catch(() => {});
        await rm(file.path, { force: true });
      }),
    );
  }
}

/**
 * A metadata part: a DICOM JSON array (one dataset alone is accepted too). `budget` is what is left
 * of the limit for all metadata parts of the request together.
 */
async function readMetadata(part: MultipartPart, budget: { left: number }, maxBytes: number): Promise<unknown[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of part as AsyncIterable<Buffer>) {
    budget.left -= chunk.length;
    if (budget.left < 0) {
      part.resume();
      throw new HttpProblem(413, 'METADATA_TOO_LARGE', `the DICOM JSON metadata part is larger than the limit of ${maxBytes} bytes (STOW_MAX_HEADER_BYTES)`);
    }
    chunks.push(chunk);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    throw new HttpProblem(400, 'METADATA_JSON', `the metadata part is not valid JSON: ${(error as Error).message}`);
  }
  if (Array.isArray(parsed)) return parsed as unknown[];
  if (typeof parsed === 'object' && parsed !== null) return [parsed];
  throw new HttpProblem(400, 'METADATA_JSON', 'the metadata part must be a DICOM JSON array of datasets (PS3.18 Annex F)');
}

/** The forms a location is matched by: as written, and resolved against the request URL. */
function locationKeys(location: string, base: string): string[] {
  const keys = [location.trim()];
  try {
    keys.push(new URL(location.trim(), base).href);
  } catch {
    // not resolvable: matched as written only
  }
  return [...new Set(keys)];
}

function header(part: MultipartPart, name: string): string | undefined {
  const value = part.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** One dataset of the metadata as a PS3.10 stream, or the failure that prevents building it. */
function buildInstance(dataset: unknown, bulk: Map<string, BulkPart[]>, requestUrl: string): StorePart {
  if (typeof dataset !== 'object' || dataset === null || Array.isArray(dataset)) {
    return { kind: 'failed', reason: FailureReason.CannotUnderstand, detail: 'an item of the metadata array is not a DICOM JSON dataset (PS3.18 Annex F)' };
  }
  const json = dataset as DicomJsonDataset;
  const uid = (tag: number): string | undefined => {
    const value = json[tagKey(tag)]?.Value?.[0];
    return typeof value === 'string' ? value : undefined;
  };
  const ids = { sopClassUid: uid(Tag.SOPClassUID), sopInstanceUid: uid(Tag.SOPInstanceUID) };
  try {
    const syntax = { uid: TransferSyntax.ExplicitVRLittleEndian as string };
    const resolve = (uri: string, path: string): BulkValue<string> => {
      const found = locationKeys(uri, requestUrl)
        .map((key) => bulk.get(key))
        .find((list) => list?.length);
      if (!found)
        throw new DicomParseError(`no bulk data part has the Content-Location ${JSON.stringify(uri)} that ${path} refers to`, FailureReason.CannotUnderstand);
      if (path === tagKey(Tag.PixelData) && found[0]!.mediaType !== OCTET_STREAM) {
        syntax.uid = frameSyntax(found, json);
        return { kind: 'frames', frames: found.map((p) => ({ length: p.spooled.size, source: p.spooled.path })) };
      }
      if (found.length > 1)
        throw new DicomParseError(
          `${found.length} bulk data parts have the Content-Location ${JSON.stringify(uri)}; ${path} holds one value`,
          FailureReason.CannotUnderstand,
        );
      const [only] = found;
      return { kind: 'value', bytes: { length: only!.spooled.size, source: only!.spooled.path } };
    };
    const { segments } = fromDicomJson(json, { bulkData: resolve });
    const meta = encodeFileMeta({
      mediaStorageSopClassUid: ids.sopClassUid ?? '',
      mediaStorageSopInstanceUid: ids.sopInstanceUid ?? '',
      transferSyntaxUid: syntax.uid,
    });
    async function* bytes(): AsyncGenerator<Buffer> {
      yield meta;
      for (const segment of segments) {
        if (Buffer.isBuffer(segment)) yield segment;
        else if (segment.length > 0) yield* createReadStream(segment.source, { start: 0, end: segment.length - 1 }) as AsyncIterable<Buffer>;
      }
    }
    return Readable.from(bytes(), { objectMode: false });
  } catch (error) {
    if (!(error instanceof DicomParseError)) throw error;
    return { kind: 'failed', ...ids, reason: error.reason, detail: error.message };
  }
}

/**
 * The transfer syntax of compressed frames (digest DATA-3): the parts' `transfer-syntax`
 * parameter, else (0002,0010) if the metadata carries it, else (JPEG) the process its markers
 * name, else the default of the media type.
 * Every frame part must have the same media type, and their number must be NumberOfFrames.
 */
function frameSyntax(frames: BulkPart[], json: DicomJsonDataset): string {
  const [first] = frames;
  const mediaType = first!.mediaType;
  if (frames.some((f) => f.mediaType !== mediaType || f.transferSyntax !== first!.transferSyntax)) {
    throw new DicomParseError('the Pixel Data frames are not all of the same media type and transfer syntax', FailureReason.CannotUnderstand);
  }
  const declared = json[tagKey(Tag.TransferSyntaxUID)]?.Value?.[0];
  // Without a parameter, a JPEG frame tells its process itself (the media type's default, lossless
  // SV1, would mislabel the usual baseline frames).
  const sniffed = mediaType === 'image/jpeg' ? jpegTransferSyntax(Buffer.concat(first!.spooled.head).subarray(0, 1 << 16)) : undefined;
  const uid = first!.transferSyntax ?? (typeof declared === 'string' ? declared : undefined) ?? sniffed ?? DEFAULT_SYNTAX[mediaType];
  const info = uid === undefined ? undefined : transferSyntaxInfo(uid);
  if (!info?.encapsulated || info.bulkMediaType.toLowerCase() !== mediaType) {
    throw new DicomParseError(
      `Pixel Data frames of media type ${mediaType}${uid ? ` in transfer syntax ${uid}` : ''} cannot be stored; send the media types of PS3.18 Table 8.7.3-5 or application/octet-stream`,
      FailureReason.TransferSyntaxNotSupported,
    );
  }
  const declaredFrames = json[tagKey(Tag.NumberOfFrames)]?.Value?.[0];
  const expected = declaredFrames === undefined ? 1 : Number(declaredFrames);
  if (frames.length !== expected) {
    throw new DicomParseError(
      `NumberOfFrames is ${declaredFrames === undefined ? '(absent, so 1)' : JSON.stringify(declaredFrames)} but ${frames.length} Pixel Data frame parts were sent`,
      FailureReason.DataSetDoesNotMatchSOPClass,
    );
  }
  return info.uid;
}
