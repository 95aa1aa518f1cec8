import { type AcceptEntry, type DicomModelForm, assertOneFamily, negotiateDicomModel, notAcceptable } from '@tessera/http';
import { type Part10Plan, TransferSyntax, type TransferSyntaxInfo } from '@tessera/dicom';

/*
 * Content negotiation of the Retrieve transaction (digest NEG-1..8, WADORS-2..7). Each function walks
 * the acceptable entries in preference order (already sorted by parseAccept) and takes the first one
 * the resource can satisfy; nothing satisfiable is a 406 listing what is available (NEG-6).
 */

const DICOM = 'application/dicom';
const OCTET = 'application/octet-stream';
const EXPLICIT_LE = TransferSyntax.ExplicitVRLittleEndian;

const isAnyMultipart = (e: AcceptEntry) => e.mediaType === '*/*' || e.mediaType === 'multipart/*';

export interface InstancesChoice {
  multipart: boolean;
  plans: Part10Plan[];
}

/**
 * Instances (WADORS-2/3): `multipart/related; type="application/dicom"` (default, also for `*\/*`),
 * or single-part `application/dicom` when the resource is one instance (NEG-6). The transfer-syntax
 * parameter must be producible for every instance of the resource: `plan` gives the PS3.10 plan of
 * one stored instance for a requested syntax, undefined when it cannot be produced (the retrieve
 * package's `planStoredPart10`, which decodes compressed data to Explicit VR LE when it can).
 */
export function negotiateInstances<S extends { transferSyntaxUid: string }>(
  entries: AcceptEntry[],
  stored: S[],
  single: boolean,
  plan: (stored: S, requested: string | undefined) => Part10Plan | undefined,
): InstancesChoice {
  assertOneFamily(entries);
  for (const entry of entries) {
    let multipart: boolean;
    if (isAnyMultipart(entry)) multipart = true;
    else if (entry.mediaType === 'multipart/related') {
      const type = entry.parameters.type;
      if (type !== undefined && type !== DICOM) continue; // octet-stream bulk data of instances: not offered
      multipart = true;
    } else if ((entry.mediaType === DICOM || entry.mediaType === 'application/*') && single) multipart = false;
    else continue;
    const requested = entry.parameters['transfer-syntax'];
    const plans = stored.map((s) => plan(s, requested));
    if (plans.every((p): p is Part10Plan => p !== undefined)) return { multipart, plans };
  }
  const storedSyntaxes = [...new Set(stored.map((s) => s.transferSyntaxUid))].join(', ');
  throw notAcceptable(`this resource (stored as ${storedSyntaxes})`, [
    `multipart/related; type="application/dicom"; transfer-syntax=* or the stored syntax or ${EXPLICIT_LE} (uncompressed data, and compressed data with a decoder)`,
    ...(single ? ['application/dicom (same transfer syntaxes)'] : []),
  ]);
}

/**
 * Metadata (WADORS-4): DICOM JSON (`application/dicom+json`, the default; `application/json`
 * tolerated) or its XML form, `multipart/related; type="application/dicom+xml"` (PS3.18 §10.4.4, Table 10.4.4-1).
 */
export function negotiateMetadata(entries: AcceptEntry[]): DicomModelForm {
  assertOneFamily(entries);
  const form = negotiateDicomModel(entries, 'multipart');
  if (form === undefined) throw notAcceptable('metadata', ['application/dicom+json', 'multipart/related; type="application/dicom+xml"']);
  return form;
}

export interface BulkChoice {
  multipart: boolean;
  /** Content-Type of each part (or of the single-part body), with its `transfer-syntax=`. */
  partType: string;
  /** Compressed frames are decoded to native little-endian pixels (Explicit VR LE). */
  decode: boolean;
}

export interface BulkOptions {
  /** The compressed frames can be decoded (a decoder exists and the frames are located). */
  decodable?: boolean;
  /** Decoded data may be one single-part body (default `single`; Pixel Data is one value whatever its frame count). */
  decodedSingle?: boolean;
}

/**
 * Frames, pixel data and other bulk data (WADORS-5/6/7, NEG-7/8, D15). `stored` is the syntax of the
 * pixel data: uncompressed data (including implicit, big endian and deflated objects, which are
 * served little endian) is `application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1`;
 * compressed frames keep their codestream and are typed with the bulk media type of the stored
 * syntax (also without a parameter and for `*`, D17), unless `transfer-syntax=1.2.840.10008.1.2.1` is
 * asked with `application/octet-stream` and they are `decodable`: then they are decoded. `single` =
 * the resource is one item (single-part `application/octet-stream` allowed).
 */
export function negotiateBulk(entries: AcceptEntry[], stored: TransferSyntaxInfo | undefined, single: boolean, options: BulkOptions = {}): BulkChoice {
  assertOneFamily(entries);
  const compressed = stored?.encapsulated === true;
  const servedTs = compressed ? stored.uid : EXPLICIT_LE;
  const mediaType = compressed ? stored.bulkMediaType : OCTET;
  const tsOk = (ts: string | undefined) => ts === undefined || ts === '*' || ts === servedTs;
  const decodable = compressed && options.decodable === true;
  const decodeAsked = (ts: string | undefined) => decodable && ts === EXPLICIT_LE;
  const decoded = `${OCTET}; transfer-syntax=${EXPLICIT_LE}`;
  for (const entry of entries) {
    const ts = entry.parameters['transfer-syntax'];
    if (isAnyMultipart(entry)) {
      return { multipart: true, partType: `${mediaType}; transfer-syntax=${servedTs}`, decode: false };
    }
    if (entry.mediaType === 'multipart/related') {
      const type = entry.parameters.type;
      if (type !== undefined && type !== OCTET && type !== mediaType) continue;
      if (decodeAsked(ts) && (type === undefined || type === OCTET)) return { multipart: true, partType: decoded, decode: true };
      if (!tsOk(ts)) continue;
      return { multipart: true, partType: `${mediaType}; transfer-syntax=${servedTs}`, decode: false };
    }
    if (entry.mediaType === OCTET || entry.mediaType === 'application/*') {
      if (decodeAsked(ts) && (options.decodedSingle ?? single)) return { multipart: false, partType: decoded, decode: true };
      if (single && tsOk(ts)) return { multipart: false, partType: `${OCTET}; transfer-syntax=${servedTs}`, decode: false };
    }
  }
  throw notAcceptable('this bulk data', [
    `multipart/related; type="${mediaType}"; transfer-syntax=${servedTs}`,
    ...(compressed ? [`multipart/related; type="${OCTET}"; transfer-syntax=*`] : []),
    ...(decodable ? [`multipart/related; type="${OCTET}"; transfer-syntax=${EXPLICIT_LE} (decoded)`] : []),
    ...(single ? [`${OCTET}; transfer-syntax=${compressed ? '*' : servedTs}`] : []),
  ]);
}
