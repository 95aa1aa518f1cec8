/** Test support of @tessera/dicom (the `./testing` subpath): not part of the production build. */
export * from './from-native-dicom-xml.js';
export * from './manifest.js';
