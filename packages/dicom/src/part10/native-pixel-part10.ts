import { Tag } from '../tag.js';
import type { Vr } from '../vr.js';
import { type Dataset, UNDEFINED_LENGTH } from './dataset.js';
import { DicomParseError } from './errors.js';
import type { ByteSource, Part10Header } from './read-part10.js';
import { type EncodedPart10, type TranscodeOptions, trailingElements } from './encode-part10.js';
import { elementHeader, encodeDataset, encodeElementValue } from './explicit-vr-encoder.js';
import { encodeFileMeta } from './file-meta.js';
import type { Part10Plan } from './part10-plan.js';
import { elementString, elementStrings } from './values.js';

/*
 * The PS3.10 side of decoding compressed pixel data to Explicit VR Little Endian (plan kind
 * `decode`): the File Meta, the header re-encoded with an Image Pixel module that describes the
 * decoded pixels, a defined-length native Pixel Data element, then trailing elements. The pixels
 * themselves come from the caller, which owns the codecs (this package has none).
 */

/** The Image Pixel module of decoded, native pixel data (PS3.3 C.7.6.3), as the decoder produced it. */
export interface NativePixelModule {
  samplesPerPixel: number;
  /** After decoding, e.g. RGB for JPEG YBR_FULL_422 (PS3.5 §8.2.1). */
  photometricInterpretation: string;
  bitsAllocated: number;
  bitsStored: number;
}

/** Decoded pixel data: every frame, native and little endian, one after the other. */
export interface NativePixelData {
  module: NativePixelModule;
  /** Byte length of all frames (BitsAllocated 1: frames packed without padding, PS3.5 §8.1.1). */
  length: number;
  /** Yields exactly `length` bytes; frames are decoded as it is read. */
  body: AsyncIterable<Buffer>;
}

const LOSSY_METHOD: Record<string, string> = { jpeg: 'ISO_10918_1', jls: 'ISO_14495_1', j2k: 'ISO_15444_1', htj2k: 'ISO_15444_15', jxl: 'ISO_18181_1' };

/**
 * Whether a compressed transfer syntax loses information (PS3.5 §8.2, Annex A.4): `always` for the
 * JPEG lossy processes and JPEG XL recompression of JPEG, `maybe` for the syntaxes that allow both
 * (JPEG-LS near-lossless, JPEG 2000, HTJ2K, JPEG XL), where (0028,2110) in the object tells; undefined
 * for the lossless-only syntaxes. `method` is the defined term of (0028,2114) (PS3.3 C.7.6.1.1.5.1).
 */
export function lossyCompressionOf(transferSyntaxUid: string): { lossy: 'always' | 'maybe'; method: string } | undefined {
  const match = /^1\.2\.840\.10008\.1\.2\.4\.(\d+)$/.exec(transferSyntaxUid);
  if (!match) return undefined;
  const n = Number(match[1]);
  if ((n >= 50 && n <= 56) || (n >= 59 && n <= 64)) return { lossy: 'always', method: LOSSY_METHOD.jpeg! };
  if (n === 81) return { lossy: 'maybe', method: LOSSY_METHOD.jls! };
  if (n === 91 || n === 93) return { lossy: 'maybe', method: LOSSY_METHOD.j2k! };
  if (n === 203) return { lossy: 'maybe', method: LOSSY_METHOD.htj2k! };
  if (n === 111) return { lossy: 'always', method: LOSSY_METHOD.jxl! };
  if (n === 112) return { lossy: 'maybe', method: LOSSY_METHOD.jxl! };
  return undefined;
}

/**
 * The Image Pixel module written over the stored one (PS3.3 C.7.6.3, C.7.6.1.1.5): Photometric
 * Interpretation, Bits Allocated/Stored and High Bit as decoded; Planar Configuration 0 (decoders
 * interleave colour samples); Lossy Image Compression 01 kept, or set when the stored syntax is lossy
 * (its method added when none is recorded), never reset; the offset tables of encapsulated data
 * dropped, and an Icon Image Sequence that holds encapsulated pixel data dropped too (it would be
 * compressed inside a native object).
 */
export function nativePixelReplacements(buf: Buffer, dataset: Dataset, storedSyntax: string, module: NativePixelModule): Map<number, Buffer | null> {
  const us = (tag: number, value: number) => encodeElementValue(tag, 'US', value);
  const replace = new Map<number, Buffer | null>([
    [Tag.PhotometricInterpretation, encodeElementValue(Tag.PhotometricInterpretation, 'CS', module.photometricInterpretation)],
    [Tag.BitsAllocated, us(Tag.BitsAllocated, module.bitsAllocated)],
    [Tag.BitsStored, us(Tag.BitsStored, module.bitsStored)],
    [Tag.HighBit, us(Tag.HighBit, module.bitsStored - 1)],
    [Tag.ExtendedOffsetTable, null],
    [Tag.ExtendedOffsetTableLengths, null],
    [Tag.EncapsulatedPixelDataValueTotalLength, null],
  ]);
  if (module.samplesPerPixel > 1 || dataset.has(Tag.PlanarConfiguration)) replace.set(Tag.PlanarConfiguration, us(Tag.PlanarConfiguration, 0));
  const icon = dataset.get(Tag.IconImageSequence);
  if (icon?.items?.some((item) => [...item.values()].some((el) => el.fragments !== undefined))) replace.set(Tag.IconImageSequence, null);

  const stored = dataset.get(Tag.LossyImageCompression);
  const storedValue = stored ? elementString(buf, stored).trim() : undefined;
  const compression = lossyCompressionOf(storedSyntax);
  const lossy = storedValue === '01' || compression?.lossy === 'always' || (compression?.lossy === 'maybe' && storedValue !== '00');
  if (lossy) {
    replace.set(Tag.LossyImageCompression, encodeElementValue(Tag.LossyImageCompression, 'CS', '01'));
    const method = dataset.get(Tag.LossyImageCompressionMethod);
    const methods = method
      ? elementStrings(buf, method)
          .map((m) => (m ?? '').trim())
          .filter((m) => m !== '')
      : [];
    if (methods.length === 0 && compression)
      replace.set(Tag.LossyImageCompressionMethod, encodeElementValue(Tag.LossyImageCompressionMethod, 'CS', compression.method));
  }
  return replace;
}

/**
 * Serves an object stored with encapsulated pixel data as a PS3.10 file in Explicit VR Little
 * Endian (plan `decode`): File Meta with the new syntax, the header re-encoded with
 * `nativePixelReplacements`, Pixel Data of defined length (OB up to 8 bits, OW above; Float and
 * Double Float Pixel Data keep their tag as OF/OD) streamed from `pixels.body` and padded to an even
 * length, then the trailing elements found after the encapsulated data (`trailerStart`: where its
 * Sequence Delimitation Item ends, see `encapsulatedPixelDataEnd`). Only the header and one chunk of
 * pixels are in memory at a time.
 */
export async function encodeNativePixelPart10(
  source: ByteSource,
  header: Part10Header,
  plan: Part10Plan,
  pixels: NativePixelData,
  trailerStart: number,
  options: TranscodeOptions,
): Promise<EncodedPart10> {
  const pixel = header.pixelData;
  if (!pixel) throw new DicomParseError('no pixel data to decode');
  const uid = (tag: number): string => {
    const el = header.dataset.get(tag);
    return el ? elementString(header.buffer, el) : '';
  };
  const meta = encodeFileMeta({
    mediaStorageSopClassUid: uid(Tag.SOPClassUID),
    mediaStorageSopInstanceUid: uid(Tag.SOPInstanceUID),
    transferSyntaxUid: plan.transferSyntaxUid,
  });
  const replace = nativePixelReplacements(header.buffer, header.dataset, header.transferSyntax.uid, pixels.module);
  const head = Buffer.concat(encodeDataset(header.buffer, header.dataset, true, replace));
  const vr: Vr = pixel.tag === Tag.FloatPixelData ? 'OF' : pixel.tag === Tag.DoubleFloatPixelData ? 'OD' : pixels.module.bitsAllocated <= 8 ? 'OB' : 'OW';
  const pad = pixels.length % 2;
  const pixelHeader = elementHeader(pixel.tag, vr, pixels.length + pad);
  const trailer = await trailingElements(source, trailerStart, { explicitVr: true, littleEndian: true }, options);
  async function* body(): AsyncGenerator<Buffer> {
    yield Buffer.concat([meta, head, pixelHeader]);
    let written = 0;
    for await (const chunk of pixels.body) {
      written += chunk.length;
      if (written > pixels.length) throw new DicomParseError(`decoded pixel data is longer than the ${pixels.length} bytes announced`);
      yield chunk;
    }
    if (written !== pixels.length) throw new DicomParseError(`decoded pixel data holds ${written} bytes, ${pixels.length} announced`);
    if (pad) yield Buffer.alloc(1);
    if (trailer.length) yield trailer;
  }
  return {
    transferSyntaxUid: plan.transferSyntaxUid,
    length: meta.length + head.length + pixelHeader.length + pixels.length + pad + trailer.length,
    body: body(),
  };
}

/**
 * Where encapsulated pixel data ends (after its Sequence Delimitation Item), scanning item headers
 * from `from`: the start of an item, e.g. just after the last fragment the frame index knows, so
 * that usually a single 8-byte read is needed.
 */
export async function encapsulatedPixelDataEnd(source: ByteSource, from: number): Promise<number> {
  let pos = from;
  for (;;) {
    if (pos + 8 > source.size) throw new DicomParseError('encapsulated pixel data ends without a sequence delimiter');
    const head = await source.read(pos, 8);
    const tag = ((head.readUInt16LE(0) << 16) | head.readUInt16LE(2)) >>> 0;
    const length = head.readUInt32LE(4);
    if (tag === Tag.SequenceDelimitationItem) return pos + 8;
    if (tag !== Tag.Item || length === UNDEFINED_LENGTH) throw new DicomParseError(`expected a pixel data item at byte ${pos}`);
    pos += 8 + length;
  }
}
