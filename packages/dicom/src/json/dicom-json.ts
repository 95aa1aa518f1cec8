/** The DICOM JSON model (PS3.18 Annex F). */
export interface PersonNameValue {
  Alphabetic?: string;
  Ideographic?: string;
  Phonetic?: string;
}

export type JsonValue = string | number | PersonNameValue | DicomJsonDataset | null;

export interface DicomJsonAttribute {
  vr: string;
  Value?: JsonValue[];
  InlineBinary?: string;
  BulkDataURI?: string;
}

export type DicomJsonDataset = Record<string, DicomJsonAttribute>;
