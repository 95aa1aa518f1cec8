import type { Test } from 'tap';
import { readShared, sharedFiles } from '@tessera/test-data';
import type { DicomJsonAttribute, DicomJsonDataset } from '../json/dicom-json.js';
import { stringifyDicomJson } from '../json/stringify-dicom-json.js';
import { type BulkDataRef, toDicomJson } from '../json/to-dicom-json.js';
import { type DescribeOptions, type InstanceDescription, describeInstance } from '../part10/describe-instance.js';
import { bufferByteSource } from '../part10/file-source.js';
import { readPart10Header } from '../part10/read-part10.js';

/**
 * The shared test files as DICOM JSON, for the to-dicom-json tests (digest JSON-1..13): each file
 * read as STOW reads it, and helpers that check a rule on every attribute of every file.
 */

export const DESCRIBE_OPTIONS: DescribeOptions = { maxHeaderBytes: 64 * 1024 * 1024, inlineBinaryMaxBytes: 1024 };
export const JSON_OPTIONS = { inlineBinaryMaxBytes: 1024, bulkDataUri: (path: string) => `bulkdata/${path}` };

export interface Converted {
  path: string;
  /** The file's bytes, or the inflated dataset for a deflated file (what bulk data offsets refer to). */
  bytes: Buffer;
  littleEndian: boolean;
  explicitVr: boolean;
  /** Whether the dataset has (0008,0005). */
  hadCharset: boolean;
  metadata: DicomJsonDataset;
  /** `metadata` as stringifyDicomJson writes it. */
  written: string;
  bulkData: BulkDataRef[];
  /** Set when describeInstance accepted the file (metadata then includes pixel data). */
  description?: InstanceDescription;
}

async function convert(path: string): Promise<Converted | undefined> {
  const file = readShared(path);
  let header;
  try {
    header = await readPart10Header(bufferByteSource(file), DESCRIBE_OPTIONS);
  } catch {
    return undefined; // unreadable files are read-part10.test.ts's business
  }
  const base = {
    path,
    bytes: header.transferSyntax.deflated ? header.buffer : file,
    littleEndian: header.transferSyntax.littleEndian,
    explicitVr: header.transferSyntax.explicitVr,
    hadCharset: header.dataset.has(0x00080005),
  };
  try {
    const description = await describeInstance(bufferByteSource(file), DESCRIBE_OPTIONS);
    return { ...base, metadata: description.metadata, written: stringifyDicomJson(description.metadata), bulkData: description.bulkData, description };
  } catch {
    // Rejected for missing UIDs and the like: its JSON is still worth checking (charset samples).
    const { dataset, bulkData } = toDicomJson(header.buffer, header.dataset, JSON_OPTIONS);
    return { ...base, metadata: dataset, written: stringifyDicomJson(dataset), bulkData };
  }
}

export interface Visit {
  key: string;
  attr: DicomJsonAttribute;
  /** Tag path as used for bulk data: `00880200/0/7FE00010`. */
  path: string;
}

export function* walk(dataset: DicomJsonDataset, prefix = ''): Generator<Visit> {
  for (const [key, attr] of Object.entries(dataset)) {
    yield { key, attr, path: prefix + key };
    if (attr.vr === 'SQ' && Array.isArray(attr.Value)) {
      for (const [index, item] of attr.Value.entries()) {
        if (item !== null && typeof item === 'object') yield* walk(item as DicomJsonDataset, `${prefix}${key}/${index}/`);
      }
    }
  }
}

export interface ConvertedFiles {
  /** Every readable file, in the order of sharedFiles(). */
  files: Converted[];
  /** One converted file; throws if it was not converted. */
  get(path: string): Converted;
  /** Asserts `check` over every attribute of every converted file, reporting only failures and a count. */
  everyAttribute(t: Pick<Test, 'same'>, rule: string, check: (visit: Visit, file: Converted) => string | undefined): void;
}

/** Converts the shared files (all of them, or only `paths`). */
export async function convertSharedFiles(paths: readonly string[] = sharedFiles()): Promise<ConvertedFiles> {
  const files: Converted[] = [];
  const byPath = new Map<string, Converted>();
  for (const path of paths) {
    const result = await convert(path);
    if (result) {
      files.push(result);
      byPath.set(path, result);
    }
  }
  return {
    files,
    get(path) {
      const result = byPath.get(path);
      if (!result) throw new Error(`${path} was not converted`);
      return result;
    },
    everyAttribute(t, rule, check) {
      let checked = 0;
      const failures: string[] = [];
      for (const file of files) {
        for (const visit of walk(file.metadata)) {
          checked++;
          const problem = check(visit, file);
          if (problem !== undefined) failures.push(`${file.path} ${visit.path}: ${problem}`);
        }
      }
      t.same(failures.slice(0, 20), [], `${rule} (${checked} attributes in ${files.length} files, ${failures.length} failures)`);
    },
  };
}
