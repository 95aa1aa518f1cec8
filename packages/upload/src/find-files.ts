import { open, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DicomParseError, Tag, elementString, headedFileByteSource, readPart10Header } from '@tessera/dicom';

/** A file to send: a PS3.10 object whose UIDs were read from its header. */
export interface DicomFile {
  path: string;
  size: number;
  studyInstanceUid: string;
  sopInstanceUid: string;
}

/** A file left out, and why (said to the user as a note). */
export interface SkippedFile {
  path: string;
  reason: string;
}

export interface FoundFiles {
  files: DicomFile[];
  skipped: SkippedFile[];
}

/** The Media Storage SOP Class of a DICOMDIR (PS3.10 §8.6, PS3.4 Annex F): a directory, not an instance. */
export const MEDIA_STORAGE_DIRECTORY = '1.2.840.10008.1.3.10';
const PREAMBLE = 128;
const MAGIC = 'DICM';
/** The header read to find the UIDs (everything before Pixel Data); larger headers are skipped with a note. */
const MAX_HEADER_BYTES = 64 * 2 ** 20;
/** The first read of a DICOM file: its File Meta and, most often, its whole header. */
const META_READ = 64 * 1024;
/** VRs with a 4-byte length in explicit VR encoding (PS3.5 §7.1.2). */
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);

/**
 * Walks `paths` (files and folders, recursively, symbolic links followed for the paths given but
 * not inside folders) and sorts every file into DICOM files to send and skipped files. A file is
 * DICOM by its content, never its name: a 128-byte preamble then "DICM" (PS3.10 §7.1). DICOMDIR
 * files (Media Storage SOP Class 1.2.840.10008.1.3.10) are skipped: they index a medium, and no
 * archive stores them. Only each file's header is read (up to Pixel Data), never the whole file.
 */
export async function findDicomFiles(paths: readonly string[], onSkip?: (skipped: SkippedFile) => void): Promise<FoundFiles> {
  const found: FoundFiles = { files: [], skipped: [] };
  const skip = (path: string, reason: string) => {
    const skipped = { path, reason };
    found.skipped.push(skipped);
    onSkip?.(skipped);
  };
  const visit = async (path: string): Promise<void> => {
    let info;
    try {
      info = await stat(path);
    } catch (error) {
      skip(path, `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
      return;
    }
    if (info.isDirectory()) {
      let entries;
      try {
        entries = await readdir(path, { withFileTypes: true });
      } catch (error) {
        skip(path, `folder cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
        return;
      }
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const entry of entries) {
        if (entry.isSymbolicLink()) {
          skip(join(path, entry.name), 'symbolic link inside a folder (not followed)');
          continue;
        }
        await visit(join(path, entry.name));
      }
      return;
    }
    if (!info.isFile()) {
      skip(path, 'not a regular file');
      return;
    }
    const classified = await classifyFile(path, info.size);
    if ('reason' in classified) skip(path, classified.reason);
    else found.files.push(classified);
  };
  for (const path of paths) await visit(resolve(path));
  return found;
}

/** One file: a DICOM instance to send (with its UIDs), or the reason it is skipped. */
export async function classifyFile(path: string, size: number): Promise<DicomFile | SkippedFile> {
  if (size < PREAMBLE + MAGIC.length) return { path, reason: 'not DICOM (too short for a PS3.10 file)' };
  let prefix: Buffer;
  try {
    prefix = await readHead(path, PREAMBLE + MAGIC.length);
  } catch (error) {
    return { path, reason: `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` };
  }
  if (prefix.toString('latin1', PREAMBLE) !== MAGIC) return { path, reason: 'not DICOM (no "DICM" after a 128-byte preamble)' };
  const head = await readHead(path, Math.min(size, META_READ));
  if (mediaStorageSopClass(head) === MEDIA_STORAGE_DIRECTORY) return { path, reason: 'DICOMDIR (a media directory, not an instance)' };
  const source = headedFileByteSource(path, size, [head]);
  try {
    const header = await readPart10Header(source, { maxHeaderBytes: MAX_HEADER_BYTES });
    const text = (tag: number) => {
      const element = header.dataset.get(tag);
      return element ? elementString(header.buffer, element) : '';
    };
    const studyInstanceUid = text(Tag.StudyInstanceUID);
    const sopInstanceUid = text(Tag.SOPInstanceUID);
    // Sent anyway: the server decides and says why it refuses (a missing UID is a FailureReason there).
    return { path, size, studyInstanceUid, sopInstanceUid };
  } catch (error) {
    if (error instanceof DicomParseError) return { path, reason: `not readable as DICOM (${error.message})` };
    return { path, reason: `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` };
  } finally {
    await source.close();
  }
}

async function readHead(path: string, length: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * (0002,0002) Media Storage SOP Class UID from the File Meta Information at the start of `head`
 * (always Explicit VR Little Endian, PS3.10 §7.1), or undefined when it is not within `head`.
 */
export function mediaStorageSopClass(head: Buffer): string | undefined {
  let at = PREAMBLE + MAGIC.length;
  while (at + 8 <= head.length && head.readUInt16LE(at) === 0x0002) {
    const tag = (head.readUInt16LE(at) << 16) | head.readUInt16LE(at + 2);
    const vr = head.toString('latin1', at + 4, at + 6);
    const long = LONG_VRS.has(vr);
    if (long && at + 12 > head.length) return undefined;
    const length = long ? head.readUInt32LE(at + 8) : head.readUInt16LE(at + 6);
    const value = at + (long ? 12 : 8);
    if (tag === Tag.MediaStorageSOPClassUID)
      return value + length <= head.length ? head.toString('latin1', value, value + length).replace(/[\0 ]+$/, '') : undefined;
    at = value + length;
  }
  return undefined;
}
