import { explicitElement, padToEven } from './explicit-vr-encoder.js';
import { Tag } from '../tag.js';
import { hasLongHeader, isVr } from '../vr.js';
import type { ByteSource } from './read-part10.js';

/** Tessera's Implementation Class UID (0002,0012), written into File Meta it creates (UUID-derived, PS3.5 §B.2). */
export const IMPLEMENTATION_CLASS_UID = '2.25.231040441406598245426419417133355541738';
export const IMPLEMENTATION_VERSION_NAME = 'TESSERA_0_1';

/** File Meta Information (PS3.10 §7.1, digest DATA-2): zero preamble, `DICM`, group 0002 in Explicit VR LE. */
export function encodeFileMeta(meta: { mediaStorageSopClassUid: string; mediaStorageSopInstanceUid: string; transferSyntaxUid: string }): Buffer {
  const ui = (tag: number, value: string) => explicitElement(tag, 'UI', padToEven(Buffer.from(value, 'latin1'), 0));
  const elements = Buffer.concat([
    explicitElement(0x00020001, 'OB', Buffer.from([0, 1])),
    ui(Tag.MediaStorageSOPClassUID, meta.mediaStorageSopClassUid),
    ui(Tag.MediaStorageSOPInstanceUID, meta.mediaStorageSopInstanceUid),
    ui(Tag.TransferSyntaxUID, meta.transferSyntaxUid),
    ui(0x00020012, IMPLEMENTATION_CLASS_UID),
    explicitElement(0x00020013, 'SH', padToEven(Buffer.from(IMPLEMENTATION_VERSION_NAME, 'latin1'), 0x20)),
  ]);
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(elements.length);
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1'), explicitElement(Tag.FileMetaInformationGroupLength, 'UL', groupLength), elements]);
}

/**
 * Where the dataset starts in a stored object with File Meta (after group 0002): used to inflate
 * a deflated dataset from its start. Reads only the File Meta.
 */
export async function datasetOffset(source: ByteSource): Promise<number> {
  let buf = await source.read(0, Math.min(source.size, 16 * 1024));
  if (buf.length < 132 || buf.toString('latin1', 128, 132) !== 'DICM') return 0;
  let pos = 132;
  for (;;) {
    if (pos + 12 > buf.length) {
      if (buf.length >= source.size) return pos;
      buf = await source.read(0, Math.min(source.size, buf.length * 4));
      continue;
    }
    if (buf.readUInt16LE(pos) !== 0x0002) return pos;
    const vr = buf.toString('latin1', pos + 4, pos + 6);
    const long = isVr(vr) && hasLongHeader(vr);
    pos += long ? 12 + buf.readUInt32LE(pos + 8) : 8 + buf.readUInt16LE(pos + 6);
  }
}
