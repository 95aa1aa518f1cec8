// dcmjs ships no type declarations; this covers the small part of it we use.
declare module 'dcmjs' {
  interface DictionaryEntry {
    tag: string;
    vr: string;
    vm: string;
    name: string;
    version: string;
  }
  const dcmjs: { data: { DicomMetaDictionary: { nameMap: Record<string, DictionaryEntry> } } };
  export default dcmjs;
}

declare module 'dicom-character-set' {
  export function convertBytes(specificCharacterSet: string | undefined, bytes: Uint8Array, options?: { vr?: string }): string;
}
