/** Test support of @tessera/dicom (the `./testing` subpath): not used by any production code. */
export * from './from-native-dicom-xml.js';
